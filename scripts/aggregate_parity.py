"""Snakemake entry point: the parity tables (rule parity_aggregate)."""

from pathlib import Path

from theorydl.job import log_to
from theorydl.parity_analysis import aggregate

sm = snakemake  # noqa: F821 (injected by Snakemake's script directive)
log_to(sm.log[0])
aggregate(
    run_dirs=[Path(meta).parent for meta in sm.input.meta],
    variants=sm.params.variants,
    figure1_dims=list(sm.params.figure1_dims),
    gradvar_csv=Path(sm.input.gradvar),
    tables_dir=Path(sm.output.summary).parent,
)
