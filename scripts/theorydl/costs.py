"""What a run cost: wall time, CPU time and peak memory per job, per family and per claim.

Snakemake writes one benchmark file per job (``results/benchmarks/<family>/<job>.tsv``, the
``benchmark:`` directive of every training and theory rule). This module reads them into tables.
Timings are measurements of this machine and this run, so they live in their own tables
(``runtime_*``) and never in a table that a claim or a determinism check reads.

A claim's time to reproduce is the compute of its family: the family's runs are trained once and
feed all its claims, so that is what running ``snakemake --until <family>_aggregate`` costs.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from theorydl.tables import fmt

# Snakemake's benchmark columns that we keep, under names that say their unit.
BENCHMARK_COLUMNS = {"s": "wall_s", "cpu_time": "cpu_s", "max_rss": "max_rss_mb"}
JOB_COLUMNS = ["family", "job", "wall_s", "cpu_s", "max_rss_mb"]
FAMILY_COLUMNS = ["family", "jobs", "wall_s", "cpu_s", "max_rss_mb", "slowest_job"]


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


def job_costs(paths: Iterable[Path], families: list[str]) -> pd.DataFrame:
    """One row per job, families in the given order (the report's), jobs by name."""
    rows = [read_benchmark(Path(p)) for p in paths]
    frame = pd.DataFrame(rows, columns=JOB_COLUMNS)
    order = frame.family.map({f: i for i, f in enumerate(families)}).fillna(len(families))
    return (
        frame.assign(_order=order)
        .sort_values(["_order", "job"])
        .drop(columns="_order")
        .reset_index(drop=True)
    )


def family_costs(jobs: pd.DataFrame, families: Iterable[str]) -> pd.DataFrame:
    """Per family: job count, summed wall and CPU time, the largest peak memory, the slowest
    job; then a total row. Families listed in order, as the report presents them."""
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
                "slowest_job": group.loc[group.wall_s.idxmax(), "job"],
            }
        )
    frame = pd.DataFrame(rows, columns=FAMILY_COLUMNS)
    total = {
        "family": "total",
        "jobs": int(frame.jobs.sum()),
        "wall_s": frame.wall_s.sum(),
        "cpu_s": frame.cpu_s.sum(min_count=1),
        "max_rss_mb": frame.max_rss_mb.max(),
        "slowest_job": "",
    }
    return pd.concat([frame, pd.DataFrame([total])], ignore_index=True)


def claim_costs(claims: pd.DataFrame, families: pd.DataFrame) -> pd.DataFrame:
    """Per claim: the compute of the family whose runs it is judged on."""
    per_family = families.set_index("family")
    rows = []
    for row in claims.itertuples():
        known = row.family in per_family.index
        rows.append(
            {
                "id": row.id,
                "family": row.family,
                "verdict": row.verdict,
                "wall_s": per_family.loc[row.family, "wall_s"] if known else np.nan,
                "max_rss_mb": per_family.loc[row.family, "max_rss_mb"] if known else np.nan,
            }
        )
    return pd.DataFrame(rows, columns=["id", "family", "verdict", "wall_s", "max_rss_mb"])


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


def display(frame: pd.DataFrame) -> pd.DataFrame:
    """A costs table as people read it: durations and memory with units."""
    shown = frame.copy()
    for column in ("wall_s", "cpu_s"):
        if column in shown:
            shown[column] = shown[column].map(duration)
    if "max_rss_mb" in shown:
        shown["max_rss_mb"] = shown["max_rss_mb"].map(memory)
    return shown.rename(
        columns={"wall_s": "wall time", "cpu_s": "CPU time", "max_rss_mb": "peak memory"}
    )
