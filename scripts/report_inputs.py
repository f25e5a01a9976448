"""Snakemake entry point: the report's generated LaTeX inputs (rule report_inputs)."""

import json
from pathlib import Path

import pandas as pd

from theorydl import report
from theorydl.job import log_to
from theorydl.parity_analysis import report_values as parity_values
from theorydl.runs import atomic_write_text

sm = snakemake  # noqa: F821 (injected by Snakemake's script directive)
log_to(sm.log[0])
tables = Path(sm.input.tables[0]).parent
results = pd.read_csv(sm.input.claims)
metas = [json.loads(Path(p).read_text()) for p in sm.input.metas]

values = {}
values.update(report.provenance_values(metas, sm.params.scale))
values.update(report.claims_values(results))
values.update(parity_values(tables, sm.params.config["parity"]))
atomic_write_text(Path(sm.output.values), report.values_tex(values))
atomic_write_text(Path(sm.output.claims), report.claims_table_tex(results))
atomic_write_text(
    Path(sm.output.hparams_parity), report.hparams_table_tex(sm.params.variants["parity"], "d")
)
