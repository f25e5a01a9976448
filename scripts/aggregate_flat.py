"""Snakemake entry point: the flat-activation tables (rule flat_aggregate)."""

from pathlib import Path

from theorydl.flat_analysis import aggregate
from theorydl.job import log_to

sm = snakemake  # noqa: F821 (injected by Snakemake's script directive)
log_to(sm.log[0])
aggregate(
    run_dirs=[Path(meta).parent for meta in sm.input.meta],
    variants=sm.params.variants,
    figure_seed=sm.params.figure7_seed,
    test_cost_csv=Path(sm.input.test_cost),
    tables_dir=Path(sm.output.summary).parent,
)
