"""Snakemake entry point: train the variants of one weight-sharing job (rules sharing_train_*).

A job holds several variants (e.g. every frequency of the ω sweep for one architecture), trained
one after another in this process so that TensorFlow starts once; each variant trains all its
seeds as one ensemble and writes its own run directories, exactly as a one-variant job would.
"""

from collections import defaultdict
from pathlib import Path

from theorydl import runtime
from theorydl.job import log_to
from theorydl.runs import parse_run_dir

sm = snakemake  # noqa: F821 (injected by Snakemake's script directive)
log_to(sm.log[0])
# The device is chosen before TensorFlow is imported: it reads CUDA_VISIBLE_DEVICES once.
runtime.claim_gpu(Path(sm.params.lock_dir), sm.params.jobs_per_gpu, wanted=sm.resources.gpu > 0)
runtime.setup_tensorflow(sm.params.tf_threads)

from theorydl import engine, sharing  # noqa: E402 (after TensorFlow's setup)

out_dirs: dict[str, dict[int, Path]] = defaultdict(dict)
for meta in map(Path, sm.output.meta):
    variant, seed = parse_run_dir(meta.parent)
    out_dirs[variant][seed] = meta.parent

for variant in sm.params.variants:
    ctx = engine.RunContext(
        family=sharing.FAMILY,
        variant=variant,
        out_dirs=out_dirs[variant],
        checkpoint_dir=Path(sm.params.checkpoint_root) / variant,
        checkpoint_seconds=sm.params.checkpoint_seconds,
        threads=sm.params.tf_threads,
        extra_meta={"scale": sm.params.scale, "job": sm.params.job},
    )
    print(f"training {variant} ({len(sm.params.seeds)} seeds)", flush=True)
    sharing.run(sharing.SharingConfig(**sm.params.hparams[variant]), list(sm.params.seeds), ctx)
