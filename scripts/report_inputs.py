"""Snakemake entry point: the report's generated LaTeX inputs (rule report_inputs)."""

import json
from pathlib import Path

import pandas as pd

from theorydl import costs, datasets, report
from theorydl.config import family_module
from theorydl.logs import log_to
from theorydl.runs import atomic_write_text

sm = snakemake  # noqa: F821 (injected by Snakemake's script directive)
log_to(sm.log[0])
tables = Path(sm.input.tables[0]).parent
results = pd.read_csv(sm.input.claims)
metas = [json.loads(Path(p).read_text()) for p in sm.input.metas]

values = {}
values.update(report.provenance_values(metas, sm.params.scale))
values.update(report.claims_values(results))
families = pd.read_csv(sm.input.runtime[0])
values.update(report.runtime_values(families))
claim_times = pd.read_csv(sm.input.runtime[1]).set_index("id").wall_s.map(costs.duration)
selected = list(sm.params.families)
for family in selected:
    analysis = family_module(family, "analysis")
    values.update(analysis.report_values(tables, sm.params.config[family]))
    values.update(report.hparam_values(family, sm.params.variants[family]))
values.update(datasets.report_values(dict(zip(datasets.DATASETS, sm.input.datasets, strict=True))))
atomic_write_text(Path(sm.output.claims), report.claims_table_tex(results, claim_times.to_dict()))
for family, path in zip(selected, sm.output.hparams, strict=True):
    atomic_write_text(Path(path), report.hparams_table_tex(sm.params.variants[family]))
atomic_write_text(Path(sm.output.sections), report.sections_tex(selected))
by_scale = pd.read_csv(sm.input.by_scale)
atomic_write_text(Path(sm.output.by_scale), report.claims_by_scale_tex(by_scale))
values.update(report.scale_values(by_scale))
atomic_write_text(Path(sm.output.values), report.values_tex(values))
