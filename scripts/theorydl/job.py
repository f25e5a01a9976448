"""A training job: every seed of each of its variants, trained in one process."""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from theorydl.runs import parse_run_dir


@dataclasses.dataclass(frozen=True)
class VariantRuns:
    """Where one variant of a training job writes: a run directory per seed, a checkpoint one."""

    variant: str
    hparams: Mapping[str, Any]
    out_dirs: Mapping[int, Path]
    checkpoint_dir: Path


def train_job(
    family: str,
    runs: Sequence[VariantRuns],
    seeds: Sequence[int],
    checkpoint_seconds: float,
    tf_threads: int,
    jobs_per_gpu: int = 1,
    use_gpu: bool = True,
    lock_dir: str | Path = ".snakemake/gpu-locks",
    extra_meta: Mapping[str, Any] | None = None,
    data_dir: str | Path | None = None,
    code: str = "",
) -> None:
    """Train every seed of each variant in ``runs``, of one family, in this process (one job).
    ``code``: the digest of the code the job runs (a checkpoint of other code is not resumed).

    Claims a GPU if there is one and sets TensorFlow up (threads, determinism) once; then each
    variant, one after another, trains all its seeds through the family model's ``run``.
    """
    from theorydl import runtime

    # The device is chosen before TensorFlow is imported: it reads CUDA_VISIBLE_DEVICES once.
    runtime.claim_gpu(Path(lock_dir), jobs_per_gpu, wanted=use_gpu)
    runtime.setup_tensorflow(tf_threads)

    from theorydl import engine

    model = importlib.import_module(f"theorydl.families.{family}.model")
    for each in runs:
        ctx = engine.RunContext(
            family=family,
            variant=each.variant,
            out_dirs=dict(each.out_dirs),
            checkpoint_dir=each.checkpoint_dir,
            checkpoint_seconds=checkpoint_seconds,
            threads=tf_threads,
            extra_meta=dict(extra_meta or {}),
            data_dir=None if data_dir is None else Path(data_dir),
            code=code,
        )
        if len(runs) > 1:
            print(f"training {each.variant} ({len(seeds)} seeds)", flush=True)
        model.run(model.Config(**each.hparams), list(seeds), ctx)


def variant_runs(
    variants: Sequence[str],
    hparams: Mapping[str, Mapping[str, Any]],
    meta_files: Sequence[str | Path],
    checkpoint_root: str | Path,
) -> list[VariantRuns]:
    """The runs of a workflow job, from its outputs (``.../<variant>/seed<N>/meta.json``)."""
    out_dirs: dict[str, dict[int, Path]] = {v: {} for v in variants}
    for meta in map(Path, meta_files):
        variant, seed = parse_run_dir(meta.parent)
        out_dirs[variant][seed] = meta.parent
    return [VariantRuns(v, hparams[v], out_dirs[v], Path(checkpoint_root) / v) for v in variants]


def train_variant(
    family: str,
    variant: str,
    hparams: Mapping[str, Any],
    seeds: Sequence[int],
    out_dirs: Sequence[str | Path],
    checkpoint_dir: str | Path,
    checkpoint_seconds: float,
    tf_threads: int,
    **options: Any,
) -> None:
    """Train one variant with its run and checkpoint directories given (tests and benchmarks)."""
    dirs = {seed: Path(d) for seed, d in zip(seeds, out_dirs, strict=True)}
    runs = [VariantRuns(variant, hparams, dirs, Path(checkpoint_dir))]
    train_job(family, runs, seeds, checkpoint_seconds, tf_threads, **options)
