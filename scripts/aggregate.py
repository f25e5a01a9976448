"""Snakemake entry point of every aggregate rule (``<family>_aggregate``): the family's runs, and
the outputs of its theory jobs, into its tables (``analysis.aggregate``)."""

import importlib
import shutil
from pathlib import Path

from theorydl.logs import log_to

sm = snakemake  # noqa: F821 (injected by Snakemake's script directive)
log_to(sm.log[0])
analysis = importlib.import_module(f"theorydl.families.{sm.params.family}.analysis")
runs = ("metrics", "meta", "arrays")
# A theory job's output reaches the analysis under its input name, as a path or a list of paths.
extra = {
    name: [Path(p) for p in value] if isinstance(value, list) else Path(value)
    for name, value in sm.input.items()
    if name not in runs
}
analysis.aggregate(
    run_dirs=[Path(meta).parent for meta in sm.input.meta],
    variants=sm.params.variants,
    tables_dir=Path(sm.output.csv[0]).parent,
    **extra,
    **sm.params.args,
)
# Snakemake records a training job done before it starts this one, so the final checkpoints the
# jobs kept (for a kill between a job's end and that record) are no longer needed.
for variant in sm.params.variants:
    shutil.rmtree(Path(sm.params.checkpoints) / variant, ignore_errors=True)
