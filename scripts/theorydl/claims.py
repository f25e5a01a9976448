"""Published claims, judged on the aggregated tables.

Each claim in ``config/claims.yaml`` names a table, the rows it is about (``where``), a metric
column, a statistic over those rows (usually over seeds: median, mean, min, max), a comparison
with a value and a tolerance, and the budget it needs (``requires``). The verdict is one of

- ``reproduced`` / ``not reproduced``: the statistic satisfies the comparison or does not;
- ``not judged at this scale``: the runs are shorter (or fewer) than the claim needs, e.g. a
  paper-scale claim at ``scale=quick``; never counted as reproduced;
- ``not evaluated``: rows are missing, or too few seeds have a value (diverged runs have none).

Beside the verdict, ``seeds satisfying`` counts the rows (seeds) that satisfy the comparison on
their own: seeds differ, and the table says so rather than hiding it behind the median.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pandas as pd
import yaml

from theorydl.tables import fmt

REPRODUCED = "reproduced"
NOT_REPRODUCED = "not reproduced"
NOT_JUDGED = "not judged at this scale"
NOT_EVALUATED = "not evaluated"
NOT_RUN = "not run"  # the claim's family was left out of this run (config key families)

STATISTICS = {"median": np.median, "mean": np.mean, "min": np.min, "max": np.max}
SYMBOLS = {"<=": "≤", ">=": "≥", "<": "<", ">": ">", "within": "within"}

COLUMNS = [
    "id",
    "family",
    "figure",
    "statement",
    "published",
    "criterion",
    "measured",
    "seeds_satisfying",
    "verdict",
    "reason",
    "seeds",
    "budget",
]


class ClaimsError(ValueError):
    """``config/claims.yaml`` is malformed or names a table or metric that does not exist."""


@dataclass(frozen=True)
class Claim:
    """One published claim and how to judge it."""

    id: str
    family: str
    figure: str
    statement: str
    published: str
    table: str
    metric: str
    statistic: str
    comparison: str
    value: float
    tolerance: float = 0.0
    where: dict[str, Any] = field(default_factory=dict)
    requires: dict[str, float] = field(default_factory=dict)
    min_seeds: int = 1

    def holds(self, x: float) -> bool:
        """Whether one value (a statistic or a single seed's value) satisfies the claim."""
        if math.isnan(x):
            return False
        v, tol = self.value, self.tolerance
        return {
            "<=": x <= v + tol,
            "<": x < v + tol,
            ">=": x >= v - tol,
            ">": x > v - tol,
            "within": abs(x - v) <= tol,
        }[self.comparison]

    @property
    def criterion(self) -> str:
        """The comparison in words, e.g. 'median of steps_to_99 ≤ 5 000'."""
        target = (
            f"{fmt(self.value, 4)} ± {fmt(self.tolerance, 4)}"
            if self.comparison == "within"
            else fmt(self.value, 4)
            + (f" (tolerance {fmt(self.tolerance, 4)})" if self.tolerance else "")
        )
        return f"{self.statistic} of {self.metric} {SYMBOLS[self.comparison]} {target}"


def load_claims(path: Path, schema_path: Path, tables: dict[str, list[str]]) -> list[Claim]:
    """Read and check the claims file against its schema and the tables that exist."""
    data = yaml.safe_load(Path(path).read_text())
    schema = yaml.safe_load(Path(schema_path).read_text())
    problems = [
        f"claims[{'.'.join(map(str, e.path))}]: {e.message}"
        for e in jsonschema.Draft7Validator(schema).iter_errors(data)
    ]
    if problems:
        raise ClaimsError(f"{path}: " + "; ".join(problems))
    claims = [Claim(**entry) for entry in data["claims"]]
    seen = set()
    for claim in claims:
        columns = tables.get(claim.table)
        if claim.id in seen:
            problems.append(f"claim id {claim.id!r} appears twice")
        seen.add(claim.id)
        if columns is None:
            problems.append(
                f"claim {claim.id!r}: table {claim.table!r} does not exist "
                f"(tables: {', '.join(sorted(tables))})"
            )
            continue
        for name in [claim.metric, *claim.where, *claim.requires]:
            if name not in columns:
                problems.append(
                    f"claim {claim.id!r}: table {claim.table!r} has no column {name!r} "
                    f"(columns: {', '.join(columns)})"
                )
    if problems:
        raise ClaimsError(f"{path}: " + "; ".join(problems))
    return claims


def judge(claim: Claim, table: pd.DataFrame | None) -> dict[str, Any]:
    """The verdict on one claim, with what was measured and why; ``table`` is None where the
    claim's family was not run."""
    result = {
        "id": claim.id,
        "family": claim.family,
        "figure": claim.figure,
        "statement": claim.statement,
        "published": claim.published,
        "criterion": claim.criterion,
        "measured": math.nan,
        "seeds_satisfying": "",
        "verdict": NOT_EVALUATED,
        "reason": "",
        "seeds": math.nan,  # the rows (seeds) judged, and their smallest training budget
        "budget": math.nan,
    }
    if table is None:
        result["verdict"] = NOT_RUN
        result["reason"] = f"family {claim.family} was not in this run's selection (families)"
        return result
    rows = table
    for column, value in claim.where.items():
        rows = rows[rows[column] == value]
    selection = ", ".join(f"{k} = {v}" for k, v in claim.where.items()) or "all rows"
    if rows.empty:
        result["reason"] = f"no rows with {selection} in {claim.table} (not run at this scale?)"
        result["verdict"] = NOT_JUDGED if claim.where else NOT_EVALUATED
        return result
    result["seeds"] = len(rows)
    if "budget" in rows:
        result["budget"] = rows["budget"].min()
    short = {c: rows[c].min() for c, need in claim.requires.items() if rows[c].min() < need}
    if short:
        result["verdict"] = NOT_JUDGED
        result["reason"] = "; ".join(
            f"needs {c} ≥ {fmt(claim.requires[c])}, ran {fmt(v)}" for c, v in short.items()
        )
        return result
    values = rows[claim.metric].to_numpy(dtype=float)
    usable = values[~np.isnan(values)]
    satisfied = sum(claim.holds(v) for v in values)
    result["seeds_satisfying"] = f"{satisfied}/{len(values)}"
    if len(usable) < claim.min_seeds:
        result["reason"] = (
            f"{len(usable)} of {len(values)} rows have a value "
            f"(diverged or missing); the claim needs {claim.min_seeds}"
        )
        return result
    measured = float(STATISTICS[claim.statistic](usable))
    result["measured"] = measured
    result["verdict"] = REPRODUCED if claim.holds(measured) else NOT_REPRODUCED
    missing = len(values) - len(usable)
    if missing:
        result["reason"] = (
            f"{missing} row(s) without a value (diverged) left out of the {claim.statistic}"
        )
    return result


def evaluate(
    claims: list[Claim], tables_dir: Path, families: Collection[str] | None = None
) -> pd.DataFrame:
    """Judge every claim on the CSV tables in ``tables_dir``; a claim of a family not in
    ``families`` (when given) is "not run", and its table is not read."""
    cache: dict[str, pd.DataFrame] = {}
    results = []
    for claim in claims:
        if families is not None and claim.family not in families:
            results.append(judge(claim, None))
            continue
        if claim.table not in cache:
            cache[claim.table] = pd.read_csv(Path(tables_dir) / f"{claim.table}.csv")
        results.append(judge(claim, cache[claim.table]))
    return pd.DataFrame(results, columns=COLUMNS)


def side_by_side(by_scale: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per claim: its measured value, verdict, seeds and budget at each scale of
    ``by_scale`` (scale → that scale's claims table), whether the verdicts differ between the
    scales that ran its family, and why (each such scale's verdict and note)."""
    scales = list(by_scale)
    first = next(iter(by_scale.values()))
    table = first[["id", "family", "figure", "statement"]].copy()
    for scale, results in by_scale.items():
        own = results.set_index("id")
        for column in ("measured", "verdict", "seeds", "budget"):
            table[f"{scale}_{column}"] = table.id.map(own[column])
    ran = pd.DataFrame(
        {s: table[f"{s}_verdict"].where(table[f"{s}_verdict"] != NOT_RUN) for s in scales}
    )
    table["differs"] = ran.nunique(axis=1) > 1
    table["why"] = [
        _why(claim, by_scale, ran.loc[i].dropna().index) if differs else ""
        for i, claim, differs in zip(table.index, table.id, table.differs, strict=True)
    ]
    return table


def _why(claim: str, by_scale: Mapping[str, pd.DataFrame], scales: Iterable[str]) -> str:
    parts = []
    for scale in scales:
        row = by_scale[scale].set_index("id").loc[claim]
        note = row.reason if isinstance(row.reason, str) and row.reason else ""
        parts.append(f"{scale}: {row.verdict}" + (f" ({note})" if note else ""))
    return "; ".join(parts)


def side_by_side_display(table: pd.DataFrame, scales: Sequence[str]) -> pd.DataFrame:
    """The side-by-side claims table as people read it: per scale, verdict and measured value
    with the seeds and budget behind it."""
    shown = pd.DataFrame({"claim": table.id, "figure": table.figure})
    for scale in scales:
        budget = table[f"{scale}_budget"].map(lambda v: "" if pd.isna(v) else f", budget {fmt(v)}")
        seeds = table[f"{scale}_seeds"].map(lambda v: "" if pd.isna(v) else f"{int(v)} seeds")
        shown[scale] = (
            table[f"{scale}_verdict"].fillna("no result")
            + table[f"{scale}_measured"].map(lambda v: "" if pd.isna(v) else f": {fmt(v, 4)}")
            + (" (" + seeds + budget + ")").where(seeds != "", "")
        )
    shown["differs"] = table.differs.map({True: "yes", False: ""})
    return shown


def display(results: pd.DataFrame) -> pd.DataFrame:
    """The claims table as people read it."""
    return pd.DataFrame(
        {
            "claim": results.id,
            "figure": results.figure,
            "statement": results.statement,
            "published": results.published,
            "criterion": results.criterion,
            "measured": results.measured.map(lambda v: fmt(v, 4)),
            "seeds satisfying": results.seeds_satisfying,
            "verdict": results.verdict,
            "note": results.reason.fillna(""),
        }
    )
