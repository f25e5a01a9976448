"""Snakemake entry point of every training rule (``<family>_train``, ``sharing_train_<job>``):
train each variant of the job, every seed, in this one process."""

from theorydl.job import train_job, variant_runs
from theorydl.logs import log_to

sm = snakemake  # noqa: F821 (injected by Snakemake's script directive)
log_to(sm.log[0])
train_job(
    family=sm.params.family,
    runs=variant_runs(
        sm.params.variants, sm.params.hparams, sm.output.meta, sm.params.checkpoint_root
    ),
    seeds=list(sm.params.seeds),
    checkpoint_seconds=sm.params.checkpoint_seconds,
    tf_threads=sm.params.tf_threads,
    jobs_per_gpu=sm.params.jobs_per_gpu,
    use_gpu=sm.resources.gpu > 0,  # 0 for a family in cpu_families
    lock_dir=sm.params.lock_dir,
    extra_meta={"scale": sm.params.scale, "job": sm.params.job},
    data_dir=sm.params.data_dir,
    code=sm.params.code,
)
