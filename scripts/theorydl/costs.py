"""What a run cost: wall time, CPU time and peak memory per job, per family and per claim.

Snakemake writes one benchmark file per job (``results/<scale>/benchmarks/<family>/<job>.tsv``, the
``benchmark:`` directive of every training and theory rule). This module reads them into tables.
Timings are measurements of this machine and this run, so they live in their own tables
(``runtime_*``) and never in a table that a claim or a determinism check reads.

A claim's time to reproduce is the compute of the jobs whose outputs it is judged on
(:func:`claim_jobs`): the training jobs of the variants its table's rows come from (those its
``where`` names, or what the family's analysis declares for the table in ``TABLE_READS``), the
theory jobs the table reads, and the datasets those variants read.

On a GPU, a training job also records in its runs' ``meta.json`` how busy the device was while it
trained and the most GPU memory it held (:class:`theorydl.runtime.GpuMonitor`); those join the
job's row by the job name that ``meta.json`` records (its benchmark file's stem).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from theorydl.claims import NOT_REPRODUCED, REPRODUCED
from theorydl.tables import EVERYTHING, fmt

# Snakemake's benchmark columns that we keep, under names that say their unit.
BENCHMARK_COLUMNS = {"s": "wall_s", "cpu_time": "cpu_s", "max_rss": "max_rss_mb"}
# Empty (NaN) for jobs that ran on CPU; the Markdown and LaTeX tables leave them out then.
GPU_COLUMNS = ["gpu_util_pct", "gpu_memory_mb"]
# A family's claims: how many, how many were judged (reproduced or not), how many reproduced.
VERDICT_COLUMNS = ["claims", "judged", "reproduced"]
FAMILY_COLUMNS = [
    "family",
    "jobs",
    "wall_s",
    "cpu_s",
    "max_rss_mb",
    *GPU_COLUMNS,
    "slowest_job",
    *VERDICT_COLUMNS,
]


class BenchmarkError(ValueError):
    """A benchmark file that is missing or not what Snakemake writes."""


def read_benchmark(path: Path) -> dict[str, float | str]:
    """One job's costs from its Snakemake benchmark file (the last repeat, if there are several)."""
    if not path.is_file():
        raise BenchmarkError(
            f"{path}: benchmark file missing; rerun the job that writes it "
            f"(snakemake --cores all --forcerun <rule>) or delete results/ to start over"
        )
    try:
        frame = pd.read_csv(path, sep="\t", na_values=["-", "NA"])
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise BenchmarkError(f"{path}: not a Snakemake benchmark file ({error})") from None
    missing = sorted(set(BENCHMARK_COLUMNS) - set(frame.columns))
    if missing or frame.empty:
        missing_text = missing or "rows"
        raise BenchmarkError(f"{path}: not a Snakemake benchmark file (missing {missing_text})")
    last = frame.iloc[-1]
    family = path.parent.name
    row: dict[str, float | str] = {"family": family, "job": path.stem}
    for column, name in BENCHMARK_COLUMNS.items():
        row[name] = float(pd.to_numeric(last[column], errors="coerce"))
    return row


def gpu_usage(metas: Iterable[Path]) -> pd.DataFrame:
    """Per training job that ran on a GPU: the device's mean utilization while it trained and
    the most GPU memory it held. A job of several variants (sharing) weighs each variant's
    utilization by its training time; the seeds of a variant share one measurement."""
    variants = {}
    for path in metas:
        meta = json.loads(Path(path).read_text())
        usage = meta.get("gpu_usage")
        if usage and meta.get("job"):
            variants[(meta["family"], meta["job"], meta["variant"])] = {
                "family": meta["family"],
                "job": meta["job"],
                "util": usage.get("utilization_pct"),
                "memory": usage.get("memory_peak_mb"),
                "seconds": meta["wall_time_s"],
            }
    frame = pd.DataFrame(
        list(variants.values()), columns=["family", "job", "util", "memory", "seconds"]
    ).astype({"util": float, "memory": float, "seconds": float})
    rows = [
        {
            "family": family,
            "job": job,
            "gpu_util_pct": _weighted_mean(group.util, group.seconds),
            "gpu_memory_mb": group.memory.max(),
        }
        for (family, job), group in frame.groupby(["family", "job"], sort=False)
    ]
    return pd.DataFrame(rows, columns=["family", "job", *GPU_COLUMNS])


def _weighted_mean(values: pd.Series, weights: pd.Series) -> float:
    """Mean of the known ``values`` weighted by ``weights``; NaN when none is known."""
    known = values.notna() & weights.notna()
    if not known.any() or weights[known].sum() <= 0:
        return np.nan
    return float(np.average(values[known], weights=weights[known]))


def job_costs(
    paths: Iterable[Path], families: list[str], gpu: pd.DataFrame | None = None
) -> pd.DataFrame:
    """One row per job, families in the given order (the report's), jobs by name; with
    :func:`gpu_usage`'s columns where ``gpu`` has the job."""
    rows = [read_benchmark(Path(p)) for p in paths]
    frame = pd.DataFrame(rows, columns=["family", "job", *BENCHMARK_COLUMNS.values()])
    if gpu is None:
        gpu = pd.DataFrame(columns=["family", "job", *GPU_COLUMNS])
    frame = frame.merge(
        gpu.astype(dict.fromkeys(GPU_COLUMNS, float)), on=["family", "job"], how="left"
    )
    order = frame.family.map({f: i for i, f in enumerate(families)}).fillna(len(families))
    return (
        frame.assign(_order=order)
        .sort_values(["_order", "job"])
        .drop(columns="_order")
        .reset_index(drop=True)
    )


def family_costs(
    jobs: pd.DataFrame, families: Iterable[str], claims: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Per family: job count, summed wall and CPU time, the largest peak memory, the slowest
    job, and from ``claims`` (the claims table: ``family``, ``verdict``) how many of its claims
    were judged and reproduced; then a total row. Families listed in order, as the report
    presents them."""
    rows = []
    for family in families:
        group = jobs[jobs.family == family]
        if group.empty:
            continue
        rows.append(
            {
                "family": family,
                "jobs": len(group),
                "wall_s": group.wall_s.sum(),
                "cpu_s": group.cpu_s.sum(min_count=1),
                "max_rss_mb": group.max_rss_mb.max(),
                **_gpu_summary(group),
                "slowest_job": group.loc[group.wall_s.idxmax(), "job"],
                **_verdict_counts(claims, [family]),
            }
        )
    frame = pd.DataFrame(rows, columns=FAMILY_COLUMNS)
    total = {
        "family": "total",
        "jobs": int(frame.jobs.sum()),
        "wall_s": frame.wall_s.sum(),
        "cpu_s": frame.cpu_s.sum(min_count=1),
        "max_rss_mb": frame.max_rss_mb.max(),
        **_gpu_summary(jobs[jobs.family.isin(frame.family)]),
        "slowest_job": "",
        **_verdict_counts(claims, list(frame.family)),
    }
    table = pd.concat([frame, pd.DataFrame([total])], ignore_index=True)
    return table.astype(dict.fromkeys(VERDICT_COLUMNS, "Int64"))  # counts, empty where none


def _verdict_counts(claims: pd.DataFrame | None, families: list[str]) -> dict[str, Any]:
    """How many claims of ``families`` there are, were judged and were reproduced; NaN where
    they have none (the datasets) or no claims table was given."""
    mine = claims[claims.family.isin(families)] if claims is not None else pd.DataFrame()
    if mine.empty:
        return dict.fromkeys(VERDICT_COLUMNS, np.nan)
    return {
        "claims": len(mine),
        "judged": int(mine.verdict.isin([REPRODUCED, NOT_REPRODUCED]).sum()),
        "reproduced": int((mine.verdict == REPRODUCED).sum()),
    }


def _gpu_summary(jobs: pd.DataFrame) -> dict[str, float]:
    """GPU utilization over some jobs (weighted by their wall time) and their largest GPU memory."""
    return {
        "gpu_util_pct": _weighted_mean(jobs.gpu_util_pct, jobs.wall_s),
        "gpu_memory_mb": jobs.gpu_memory_mb.max(),
    }


def _same(found: Any, wanted: Any) -> bool:
    if isinstance(found, (int, float)) and isinstance(wanted, (int, float)):
        return bool(np.isclose(found, wanted))
    return found == wanted


def claim_jobs(
    family: str,
    table: str,
    where: Mapping[str, Any],
    variants: Mapping[str, Mapping[str, Any]],
    training_jobs: Mapping[str, Iterable[str]],
    theory_jobs: Iterable[str],
) -> list[tuple[str, str]]:
    """The jobs, as (benchmark folder, job name), whose outputs a claim on ``table`` with rows
    ``where`` is judged on: the training jobs (``train_<job>``; ``training_jobs``: job → its
    variants) of the variants that feed those rows, the family's theory jobs the table reads,
    and the dataset jobs of the images those variants read. What feeds a table is the analysis'
    ``TABLE_READS`` declaration, else the variants whose hyperparameters match ``where`` (keys
    that are no hyperparameter, such as a table's own columns, select nothing)."""
    from theorydl import config

    analysis = config.family_module(family, "analysis")
    reads = getattr(analysis, "TABLE_READS", {}).get(table, EVERYTHING)
    # A where key that is a hyperparameter of some variant selects (a variant without it is
    # not selected); any other key is a column of the table's own.
    known = {key for hparams in variants.values() for key in hparams}
    wanted = {**(reads.variants or {})}
    wanted.update({k: v for k, v in where.items() if k in known and k not in reads.across})
    chosen = [
        name
        for name, hparams in variants.items()
        if reads.variants is not None
        and all(k in hparams and _same(hparams[k], v) for k, v in wanted.items())
    ]
    trained = [
        (family, f"train_{job}")
        for job, members in training_jobs.items()
        if set(members) & set(chosen)
    ]
    theory = [
        (family, job) for job in theory_jobs if reads.theory is None or job.startswith(reads.theory)
    ]
    images = config.variant_datasets(family, variants, chosen)
    return trained + theory + [("datasets", name) for name in images]


def claim_costs(
    claims: pd.DataFrame, jobs: pd.DataFrame, charged: Mapping[str, Iterable[tuple[str, str]]]
) -> pd.DataFrame:
    """Per claim: how many jobs it is judged on (``charged``: claim id → (folder, job), see
    :func:`claim_jobs`), their summed wall time and their largest peak memory; NaN where none
    of them ran (a family not run)."""
    by_job = jobs.set_index(["family", "job"])
    rows = []
    for row in claims.itertuples():
        mine = [key for key in charged.get(row.id, ()) if key in by_job.index]
        ran = by_job.loc[mine] if mine else by_job.iloc[:0]
        rows.append(
            {
                "id": row.id,
                "family": row.family,
                "verdict": row.verdict,
                "jobs": len(ran),
                "wall_s": ran.wall_s.sum() if len(ran) else np.nan,
                "max_rss_mb": ran.max_rss_mb.max() if len(ran) else np.nan,
            }
        )
    return pd.DataFrame(rows, columns=["id", "family", "verdict", "jobs", "wall_s", "max_rss_mb"])


def duration(seconds: float) -> str:
    """Seconds as people read a duration: '42 s', '3 min 05 s', '2 h 07 min'."""
    if seconds is None or not np.isfinite(seconds):
        return "—"
    seconds = round(float(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, secs = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def memory(megabytes: float) -> str:
    """Peak memory in MB or GB."""
    if megabytes is None or not np.isfinite(megabytes):
        return "—"
    return f"{megabytes / 1024:.1f} GB" if megabytes >= 1024 else f"{fmt(round(megabytes))} MB"


def percent(value: float) -> str:
    """A utilization in percent, or a dash where there is none."""
    return "—" if value is None or not np.isfinite(value) else f"{value:.0f}%"


def display(frame: pd.DataFrame) -> pd.DataFrame:
    """A costs table as people read it: durations and memory with units; the GPU columns only
    where some job ran on a GPU."""
    shown = frame.drop(columns=[c for c in GPU_COLUMNS if c in frame and frame[c].isna().all()])
    for column in ("wall_s", "cpu_s"):
        if column in shown:
            shown[column] = shown[column].map(duration)
    for column in ("max_rss_mb", "gpu_memory_mb"):
        if column in shown:
            shown[column] = shown[column].map(memory)
    if "gpu_util_pct" in shown:
        shown["gpu_util_pct"] = shown["gpu_util_pct"].map(percent)
    if "judged" in shown:
        if shown.claims.notna().any():
            counts = zip(shown.reproduced, shown.judged, shown.claims, strict=True)
            shown["claims reproduced"] = [
                f"{r} of {j} judged ({n} claims)" if pd.notna(n) else "" for r, j, n in counts
            ]
        shown = shown.drop(columns=VERDICT_COLUMNS)
    return shown.rename(
        columns={
            "wall_s": "wall time",
            "cpu_s": "CPU time",
            "max_rss_mb": "peak memory",
            "gpu_util_pct": "GPU busy",
            "gpu_memory_mb": "GPU memory",
            "slowest_job": "slowest job",
        }
    )
