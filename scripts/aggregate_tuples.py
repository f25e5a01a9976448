"""Snakemake entry point: the tuple and gradient-SNR tables (rule tuples_aggregate)."""

from pathlib import Path

from theorydl.job import log_to
from theorydl.tuples_analysis import aggregate

sm = snakemake  # noqa: F821 (injected by Snakemake's script directive)
log_to(sm.log[0])
aggregate(
    run_dirs=[Path(meta).parent for meta in sm.input.meta],
    variants=sm.params.variants,
    snr_csvs=[Path(p) for p in sm.input.snr],
    tables_dir=Path(sm.output.summary).parent,
)
