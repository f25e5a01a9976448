"""What the Snakemake entry points in ``scripts/`` share: logging and the training job itself."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any


def log_to(path: str | Path) -> None:
    """Send stdout, stderr (TensorFlow's C++ logs included) and ``logging`` to ``path``.

    If the job then dies of an exception, its one-line summary also goes to the terminal the job
    was started from, beside the log's path: the traceback is in the log, but the reason should
    not depend on the log being writable (a full disk) or on anyone opening it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    terminal = os.dup(2)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True
    )

    def report_failure(kind, error, traceback) -> None:
        with contextlib.suppress(OSError):
            sys.__excepthook__(kind, error, traceback)
        summary = f"{kind.__name__}: {error}\n  (job log: {path})\n"
        with contextlib.suppress(OSError):
            os.write(terminal, summary.encode())

    sys.excepthook = report_failure


@contextlib.contextmanager
def native_stderr_silenced() -> Iterator[None]:
    """Silence what C++ libraries write to fd 2 (TensorFlow's start-up notes) for a moment.

    Python exceptions raised inside still propagate and are printed after fd 2 is restored.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def train_variant(
    family: str,
    variant: str,
    hparams: Mapping[str, Any],
    seeds: Sequence[int],
    out_dirs: Sequence[str | Path],
    checkpoint_dir: str | Path,
    checkpoint_seconds: float,
    tf_threads: int,
    jobs_per_gpu: int = 1,
    use_gpu: bool = True,
    lock_dir: str | Path = ".snakemake/gpu-locks",
    extra_meta: Mapping[str, Any] | None = None,
) -> None:
    """Train every seed of one variant of one family in this process (one training job).

    Claims a GPU if there is one, sets TensorFlow up (threads, determinism), then hands the
    family's ``run`` a :class:`theorydl.engine.RunContext`.
    """
    from theorydl import runtime

    # The device is chosen before TensorFlow is imported: it reads CUDA_VISIBLE_DEVICES once.
    runtime.claim_gpu(Path(lock_dir), jobs_per_gpu, wanted=use_gpu)
    runtime.setup_tensorflow(tf_threads)

    from theorydl import config, engine

    module = config.family_module(family)
    ctx = engine.RunContext(
        family=family,
        variant=variant,
        out_dirs={seed: Path(d) for seed, d in zip(seeds, out_dirs, strict=True)},
        checkpoint_dir=Path(checkpoint_dir),
        checkpoint_seconds=checkpoint_seconds,
        threads=tf_threads,
        extra_meta=dict(extra_meta or {}),
    )
    module.run(module.Config(**hparams), list(seeds), ctx)
