"""Run files: ``results/<scale>/runs/<family>/<variant>/seed<N>/{metrics.csv, meta.json,
arrays.npz}``.

Writing is atomic (a temporary file renamed into place, ``meta.json`` last), so an interrupted job
never leaves a run that looks complete. Reading checks a run against what the config says it
should be, so a truncated or hand-edited file stops aggregation with a message instead of
becoming a figure.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

METRIC_COLUMNS = ["step", "split", "metric", "value"]
META_KEYS = ["family", "variant", "seed", "hparams", "status", "steps_completed", "wall_time_s"]


class CorruptRunError(ValueError):
    """A run file that is missing, malformed, or not the run the config asks for."""

    def __init__(self, path: Path, problem: str):
        super().__init__(
            f"{path}: {problem}\n"
            f"  Regenerate it with: snakemake --cores all --forcerun {path.parent / 'metrics.csv'}"
        )
        self.path = path


def parse_run_dir(directory: Path) -> tuple[str, int]:
    """(variant, seed) of a run directory ``.../<variant>/seed<N>``."""
    directory = Path(directory)
    if not directory.name.startswith("seed") or not directory.name[4:].isdigit():
        raise ValueError(f"{directory} is not a run directory (.../<variant>/seed<N>)")
    return directory.parent.name, int(directory.name[4:])


class ResultsWriteError(OSError):
    """A result could not be written (disk full, read-only or unwritable ``results/``)."""


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` so that ``path`` is either absent, the old file, or the whole new file.

    A failed write (no space left, read-only file system, no permission) leaves no partial file
    and raises :class:`ResultsWriteError` saying what to do; files written before stay as they are.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as error:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise write_failed(path, error.errno, error.strerror or str(error)) from error


def write_failed(path: str | Path, number: int | None, reason: str) -> ResultsWriteError:
    """The error for a result that could not be written, saying what to do about it."""
    return ResultsWriteError(
        number,
        f"cannot write {path}: {reason}. Results already written are intact; free disk space "
        f"or make {Path(path).parent} writable, then run the same command again to continue",
    )


def atomic_write_text(path: str | Path, text: str) -> None:
    """Text flavour of :func:`atomic_write_bytes`."""
    atomic_write_bytes(path, text.encode())


def write_job_outputs(
    tables: Mapping[str | Path, pd.DataFrame],
    meta_path: str | Path,
    meta: Mapping[str, Any],
    float_format: str = "%.12g",
) -> None:
    """A job's tables as CSV, then its ``meta.json`` last, each atomically: a job killed half-way
    never leaves a set of outputs that looks complete (the theory and cost-measurement jobs)."""
    for path, table in tables.items():
        csv = table.to_csv(index=False, float_format=float_format, lineterminator="\n")
        atomic_write_text(path, csv)
    atomic_write_text(meta_path, json.dumps(meta, indent=2, sort_keys=True) + "\n")


def metrics_csv(metrics: pd.DataFrame) -> str:
    """The canonical text of a metrics table: long form, sorted, 9 significant digits."""
    table = metrics[METRIC_COLUMNS].sort_values(["step", "split", "metric"], kind="stable")
    return table.to_csv(index=False, float_format="%.9g", lineterminator="\n")


def write_run(directory: Path, metrics: pd.DataFrame, meta: dict[str, Any], arrays: dict) -> None:
    """Write one seed's run: arrays, then metrics, then ``meta.json`` (the completion mark)."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    atomic_write_bytes(directory / "arrays.npz", buffer.getvalue())
    atomic_write_text(directory / "metrics.csv", metrics_csv(metrics))
    atomic_write_text(directory / "meta.json", json.dumps(meta, indent=2, sort_keys=True) + "\n")


@dataclass
class Run:
    """One seed's run as read back from disk."""

    directory: Path
    metrics: pd.DataFrame
    meta: dict[str, Any]

    @property
    def seed(self) -> int:
        return int(self.meta["seed"])

    @property
    def diverged(self) -> bool:
        return self.meta["status"] == "diverged"

    def curve(self, split: str, metric: str) -> pd.Series:
        """Values of one metric indexed by step."""
        rows = self.metrics[(self.metrics.split == split) & (self.metrics.metric == metric)]
        return rows.set_index("step")["value"].sort_index()

    def arrays(self) -> dict[str, np.ndarray]:
        with np.load(self.directory / "arrays.npz") as data:
            return {k: data[k] for k in data.files}


def _same(expected: Any, found: Any) -> bool:
    if isinstance(expected, float) and isinstance(found, (int, float)):
        return math.isclose(expected, found, rel_tol=1e-12)
    return expected == found


def read_run(directory: Path, family: str, variant: str, seed: int, hparams: dict[str, Any]) -> Run:
    """Read one run and check it is the run ``(family, variant, seed, hparams)`` describes."""
    directory = Path(directory)
    meta_path, metrics_path = directory / "meta.json", directory / "metrics.csv"
    for path in (meta_path, metrics_path, directory / "arrays.npz"):
        if not path.is_file():
            raise CorruptRunError(path, "the file is missing")
    try:
        meta = json.loads(meta_path.read_text())
    except json.JSONDecodeError as error:
        raise CorruptRunError(meta_path, f"not valid JSON ({error})") from None
    missing = [k for k in META_KEYS if k not in meta]
    if missing:
        raise CorruptRunError(meta_path, f"keys missing: {', '.join(missing)}")
    for key, expected in (("family", family), ("variant", variant), ("seed", seed)):
        if meta[key] != expected:
            raise CorruptRunError(meta_path, f"{key} is {meta[key]!r}, expected {expected!r}")
    for key, expected in hparams.items():
        if key not in meta["hparams"] or not _same(expected, meta["hparams"][key]):
            found = meta["hparams"].get(key, "<absent>")
            raise CorruptRunError(
                meta_path, f"hyperparameter {key} is {found!r} but the config says {expected!r}"
            )
    try:
        metrics = pd.read_csv(metrics_path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise CorruptRunError(metrics_path, f"not a readable CSV ({error})") from None
    if list(metrics.columns) != METRIC_COLUMNS:
        raise CorruptRunError(
            metrics_path, f"columns are {list(metrics.columns)}, expected {METRIC_COLUMNS}"
        )
    if metrics.empty:
        raise CorruptRunError(metrics_path, "no rows")
    if metrics["step"].isna().any() or not pd.api.types.is_integer_dtype(metrics["step"]):
        raise CorruptRunError(metrics_path, "the step column holds non-integer values")
    if metrics["step"].max() != meta["steps_completed"]:
        raise CorruptRunError(
            metrics_path,
            f"last logged step is {metrics['step'].max()} but meta.json says "
            f"{meta['steps_completed']} steps were completed (truncated?)",
        )
    if meta["status"] != "diverged" and not np.isfinite(metrics["value"].to_numpy(float)).all():
        raise CorruptRunError(metrics_path, "non-finite values in a run not marked as diverged")
    return Run(directory, metrics, meta)


def read_runs(
    run_dirs: Iterable[Path], family: str, variants: Mapping[str, Mapping[str, Any]]
) -> Iterator[tuple[Run, str, int, dict[str, Any]]]:
    """(run, variant, seed, hparams) of every run directory, each checked with :func:`read_run`
    against the resolved hyperparameters of its variant (a copy the caller may keep)."""
    for directory in run_dirs:
        variant, seed = parse_run_dir(directory)
        hparams = dict(variants[variant])
        yield read_run(directory, family, variant, seed, hparams), variant, seed, hparams
