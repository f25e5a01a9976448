"""Snakemake entry point: the weight-sharing tables (rule sharing_aggregate)."""

from pathlib import Path

from theorydl.job import log_to
from theorydl.sharing_analysis import aggregate

sm = snakemake  # noqa: F821 (injected by Snakemake's script directive)
log_to(sm.log[0])
aggregate(
    run_dirs=[Path(meta).parent for meta in sm.input.meta],
    variants=sm.params.variants,
    block=sm.params.block,
    curve_variants=set(sm.params.curve_variants),
    tables_dir=Path(sm.output.final_loss).parent,
)
