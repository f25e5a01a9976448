"""Snakemake entry point: the stocks tables (rule stocks_aggregate)."""

from pathlib import Path

from theorydl.job import log_to
from theorydl.stocks_analysis import aggregate

sm = snakemake  # noqa: F821 (injected by Snakemake's script directive)
log_to(sm.log[0])
aggregate(
    run_dirs=[Path(meta).parent for meta in sm.input.meta],
    variants=sm.params.variants,
    moments_csv=Path(sm.input.moments),
    tables_dir=Path(sm.output.summary).parent,
)
