"""Snakemake entry point: train every seed of one variant of one family (rule <family>_train)."""

from pathlib import Path

from theorydl.job import log_to, train_variant

sm = snakemake  # noqa: F821 (injected by Snakemake's script directive)
log_to(sm.log[0])
train_variant(
    family=sm.params.family,
    variant=sm.wildcards.variant,
    hparams=sm.params.hparams,
    seeds=list(sm.params.seeds),
    out_dirs=[Path(meta).parent for meta in sm.output.meta],
    checkpoint_dir=sm.params.checkpoint_dir,
    checkpoint_seconds=sm.params.checkpoint_seconds,
    tf_threads=sm.params.tf_threads,
    jobs_per_gpu=sm.params.jobs_per_gpu,
    use_gpu=sm.resources.gpu > 0,  # 0 for a family in cpu_families
    lock_dir=sm.params.lock_dir,
    extra_meta={"scale": sm.params.scale, "job": sm.params.job},
)
