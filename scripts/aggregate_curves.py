"""Snakemake entry point: the piecewise-linear curve tables (rule curves_aggregate)."""

from pathlib import Path

from theorydl.curves_analysis import aggregate
from theorydl.job import log_to

sm = snakemake  # noqa: F821 (injected by Snakemake's script directive)
log_to(sm.log[0])
aggregate(
    run_dirs=[Path(meta).parent for meta in sm.input.meta],
    variants=sm.params.variants,
    figure_seed=sm.params.figure_seed,
    conditioning_csv=Path(sm.input.conditioning),
    theorem3_csv=Path(sm.input.theorem3),
    tables_dir=Path(sm.output.errors).parent,
)
