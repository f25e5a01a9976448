"""Aggregation of the flat-activation runs (Failures §5, Fig 7) into tables.

Tables (``tables/<name>.{csv,md,tex}`` of a run), whose columns are what ``config/claims.yaml``
may name:

- ``flat_seeds``: one row per (method, seed), on the seed's fixed test set after training:
  relative RMS error and share of points off by > 2% (both relative to the label range; for
  the non-flat approximation also through the hard step u(r̂)), whether the output is constant,
  how many distinct output levels it has and how many of them are no level of the label, the
  share of wrong points that sit one step off (a misplaced boundary), the method's rank among
  the four on that seed's target, and its error minus forward-only's;
- ``flat_summary``: one row per method: those statistics over seeds (mean, std, median; how
  many non-flat runs end constant, with a 95% Wilson interval on that share), and the test
  cost (time per prediction, from rule flat_test_cost: see ``theory``);
- ``flat_curves``: training loss and test error per (method, seed, step): the loss curves;
- ``flat_fig7_points``: the test points of the seed each Fig 7 panel shows (median seed by
  relative RMS error unless the config names one), sorted by r.

No TensorFlow here: everything is read from the runs' files.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from theorydl import runs
from theorydl.families.flat.spec import METHODS, TABLES
from theorydl.tables import Reads, fmt, mean_std, write_table

# What the claims' tables are made of (theorydl.costs.claim_jobs): the per-seed table reads
# the training runs alone (not the test-cost timing).
TABLE_READS = {"flat_seeds": Reads(theory=())}

__all__ = ["METHODS", "METHOD_NAMES", "TABLES", "aggregate", "report_values", "zoom_window"]

METHOD_NAMES = {
    "non_flat": "non-flat approximation",
    "end_to_end": "end-to-end",
    "multi_class": "multi-class",
    "forward_only": "forward-only",
}
# A run's output is "constant" when its range over the test points is below 1% of the label's.
CONSTANT_RANGE = 0.01
# Output values closer than 0.1% of the label range count as one level.
LEVEL_RESOLUTION = 1e-3
WILSON_Z = 1.959964  # 95% two-sided
FIGURE_POINTS = 2560  # Fig 7 plots this many test points, as the authors' script does

CURVE_METRICS = [("train", "loss"), ("test", "loss"), ("test", "relative_rms")]


def distinct_levels(values: np.ndarray, span: float) -> np.ndarray:
    """The distinct values of ``values`` on a grid of ``LEVEL_RESOLUTION`` × ``span``."""
    return np.unique(np.round(values / (LEVEL_RESOLUTION * span)))


def spurious_levels(prediction: np.ndarray, label: np.ndarray) -> int:
    """How many distinct output levels lie more than one grid cell from every label level."""
    span = float(np.ptp(label))
    predicted, labelled = distinct_levels(prediction, span), distinct_levels(label, span)
    nearest = np.min(np.abs(predicted[:, None] - labelled[None, :]), axis=1)
    return int(np.sum(nearest > 1))


def boundary_error_share(prediction: np.ndarray, label: np.ndarray, steps: np.ndarray) -> float:
    """Of the points predicted at the wrong step, the share one step off (a misplaced boundary).

    Defined only for predictions that are steps (multi-class, forward-only); NaN otherwise, or
    when no point is wrong.
    """
    levels = np.unique(steps)
    if not np.isin(prediction, levels).all():
        return math.nan
    wrong = prediction != label
    if not wrong.any():
        return math.nan
    gap = np.searchsorted(levels, prediction[wrong]) - np.searchsorted(levels, label[wrong])
    return float(np.mean(np.abs(gap) == 1))


def wilson_interval(successes: int, n: int, z: float = WILSON_Z) -> tuple[float, float]:
    """The 95% Wilson score interval of a binomial share (sound for small n and extreme shares)."""
    if n == 0:
        return math.nan, math.nan
    share = successes / n
    centre = (share + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z / (1 + z**2 / n) * math.sqrt(share * (1 - share) / n + z**2 / (4 * n**2))
    return max(0.0, centre - half), min(1.0, centre + half)


def seed_row(run: runs.Run, method: str, arrays: Mapping[str, np.ndarray]) -> dict[str, Any]:
    """The per-seed statistics of one run (before the comparison across methods)."""
    final = run.metrics[run.metrics.step == run.meta["steps_completed"]]
    test = final[final.split == "test"].set_index("metric").value
    train = final[final.split == "train"].set_index("metric").value
    prediction, label = arrays["prediction"], arrays["label"]
    span = float(np.ptp(label))
    hard = "relative_rms_hard" in test
    return {
        "method": method,
        "seed": run.seed,
        "budget": int(run.meta["hparams"]["steps"]),
        "authors_budget": int(run.meta["authors_steps"]),
        "status": run.meta["status"],
        "relative_rms": test["relative_rms"],
        "off_fraction": test["off_fraction"],
        "relative_rms_hard": test["relative_rms_hard"] if hard else test["relative_rms"],
        "off_fraction_hard": test["off_fraction_hard"] if hard else test["off_fraction"],
        "output_range": test["output_range"],
        "constant": int(test["output_range"] < CONSTANT_RANGE),
        "distinct_levels": len(distinct_levels(prediction, span)),
        "spurious_levels": spurious_levels(prediction, label),
        "boundary_error_share": boundary_error_share(prediction, label, arrays["steps_z"]),
        "final_train_loss": train.get("loss", math.nan),
        "b_star": float(arrays["b_star"]),
    }


def compare_methods(per_seed: pd.DataFrame) -> pd.DataFrame:
    """Add what needs every method of a seed: rank, error above forward-only, budget share.

    ``budget_share`` is the smallest share of the authors' budget any method of the seed ran,
    so that a claim comparing methods is judged only when all of them trained in full.
    """
    table = per_seed.copy()
    table["error_rank"] = table.groupby("seed").relative_rms.rank(method="min")
    forward = table[table.method == "forward_only"].set_index("seed").relative_rms
    table["excess_over_forward_only"] = table.relative_rms - table.seed.map(forward)
    share = (table.budget / table.authors_budget).groupby(table.seed).transform("min")
    incomplete = table.groupby("seed").method.transform("nunique") < len(METHODS)
    table["budget_share"] = np.where(incomplete, 0.0, share)
    order = {m: i for i, m in enumerate(METHODS)}
    table = table.sort_values(
        ["method", "seed"], key=lambda c: c.map(order) if c.name == "method" else c
    )
    return table[TABLES["flat_seeds"]].reset_index(drop=True)


def summarise(per_seed: pd.DataFrame) -> pd.DataFrame:
    """One row per method: statistics over its seeds."""
    rows = []
    for method in METHODS:
        group = per_seed[per_seed.method == method]
        if group.empty:
            continue
        stuck = int(group.constant.sum())
        low, high = wilson_interval(stuck, len(group))
        rows.append(
            {
                "method": method,
                "n": len(group),
                "diverged": int((group.status == "diverged").sum()),
                "budget": int(group.budget.max()),
                "relative_rms_mean": group.relative_rms.mean(),
                "relative_rms_std": group.relative_rms.std(ddof=1),
                "relative_rms_median": group.relative_rms.median(),
                "off_fraction_mean": group.off_fraction.mean(),
                "off_fraction_std": group.off_fraction.std(ddof=1),
                "relative_rms_hard_mean": group.relative_rms_hard.mean(),
                "relative_rms_hard_std": group.relative_rms_hard.std(ddof=1),
                "distinct_levels_median": group.distinct_levels.median(),
                "spurious_levels_median": group.spurious_levels.median(),
                "boundary_error_share_median": group.boundary_error_share.median(),
                "best_on_seeds": int((group.error_rank == 1).sum()),
                "constant_count": stuck,
                "constant_share": stuck / len(group),
                "constant_share_low": low,
                "constant_share_high": high,
            }
        )
    return pd.DataFrame(rows, columns=TABLES["flat_summary"])


def prediction_costs(measured: pd.DataFrame) -> pd.DataFrame:
    """One row per method: nanoseconds per prediction, from rule flat_test_cost (one
    measurement, of this machine: kept out of flat_summary, whose numbers every run shares)."""
    seconds = measured.set_index("method").seconds_per_prediction
    rows = [
        {"method": method, "time_per_prediction_ns": 1e9 * seconds.get(method, math.nan)}
        for method in METHODS
    ]
    return pd.DataFrame(rows, columns=TABLES["flat_test_cost"])


def _percent(values: pd.Series) -> str:
    return mean_std(100 * values, digits=2)


def summary_display(per_seed: pd.DataFrame, summary: pd.DataFrame) -> pd.DataFrame:
    """The Fig 7 table as people read it; the non-flat approximation also through u(r̂)."""
    rows = []
    for row in summary.itertuples():
        group = per_seed[per_seed.method == row.method]
        cells = {
            "method": METHOD_NAMES[row.method],
            "seeds": int(row.n),
            "steps": fmt(row.budget),
            "relative RMS": mean_std(group.relative_rms),
            "off > 2% (%)": _percent(group.off_fraction),
            "levels": fmt(row.distinct_levels_median),
            "best": f"{int(row.best_on_seeds)}/{int(row.n)}",
            "constant": f"{int(row.constant_count)}/{int(row.n)}",
        }
        rows.append(cells)
        if row.method == "non_flat":
            rows.append(
                {
                    **{k: "" for k in cells},
                    "method": "  same, through the hard step",
                    "relative RMS": mean_std(group.relative_rms_hard),
                    "off > 2% (%)": _percent(group.off_fraction_hard),
                }
            )
    return pd.DataFrame(rows)


def representative_seeds(per_seed: pd.DataFrame, figure_seed: int | None) -> dict[str, int]:
    """The seed each Fig 7 panel shows: the configured one, or the method's median seed by
    relative RMS error (the lower median for an even count; ties go to the smaller seed)."""
    chosen = {}
    for method, group in per_seed.groupby("method"):
        if figure_seed is not None:
            chosen[method] = int(figure_seed)
            continue
        ordered = group.sort_values(["relative_rms", "seed"])
        chosen[method] = int(ordered.seed.iloc[(len(ordered) - 1) // 2])
    return chosen


def figure_points(
    arrays: Mapping[tuple[str, int], Mapping[str, np.ndarray]], chosen: Mapping[str, int]
) -> pd.DataFrame:
    """The test points of each panel's seed, sorted by r (as the script plots them)."""
    frames = []
    for method in METHODS:
        if method not in chosen:
            continue
        data = arrays[(method, chosen[method])]
        shown = slice(0, FIGURE_POINTS)
        smooth = data.get("smooth_label", np.full_like(data["r"], np.nan))
        frame = pd.DataFrame(
            {
                "method": method,
                "seed": chosen[method],
                "r": data["r"][shown],
                "label": data["label"][shown],
                "prediction": data["prediction"][shown],
                "smooth_label": smooth[shown],
            }
        )
        frames.append(frame.sort_values("r", kind="stable"))
    return pd.concat(frames, ignore_index=True)[TABLES["flat_fig7_points"]]


def zoom_window(points: pd.DataFrame, width: int = 511) -> pd.DataFrame:
    """Fig 7d: ``width`` consecutive points (by r) around the class boundary with the most
    misclassified points nearby; the points of one method, sorted by r."""
    points = points.reset_index(drop=True)
    wrong = (points.prediction != points.label).to_numpy()
    boundaries = np.flatnonzero(np.diff(points.label.to_numpy()) != 0)
    if len(boundaries) == 0:
        return points.iloc[:width]
    half = width // 2
    counts = [wrong[max(0, b - half) : b + half + 1].sum() for b in boundaries]
    centre = int(boundaries[int(np.argmax(counts))])
    start = min(max(0, centre - half), max(0, len(points) - width))
    return points.iloc[start : start + width]


def load_runs(
    run_dirs: list[Path], variants: Mapping[str, Mapping[str, Any]]
) -> tuple[pd.DataFrame, pd.DataFrame, dict[tuple[str, int], dict[str, np.ndarray]]]:
    """Per-seed rows, the long-form curves, and every run's arrays (each run checked on reading)."""
    rows, curves, arrays = [], [], {}
    for run, _variant, seed, hparams in runs.read_runs(run_dirs, "flat", variants):
        method = hparams["method"]
        arrays[(method, seed)] = run.arrays()
        rows.append(seed_row(run, method, arrays[(method, seed)]))
        for split, metric in CURVE_METRICS:
            curve = run.curve(split, metric).rename("value").reset_index()
            curves.append(curve.assign(method=method, seed=seed, split=split, metric=metric))
    per_seed = compare_methods(pd.DataFrame(rows))
    curves = pd.concat(curves)[TABLES["flat_curves"]].sort_values(
        ["method", "seed", "split", "metric", "step"]
    )
    return per_seed, curves.reset_index(drop=True), arrays


def aggregate(
    run_dirs: list[Path],
    variants: Mapping[str, Mapping[str, Any]],
    figure_seed: int | None,
    test_cost_csv: Path,
    tables_dir: Path,
) -> None:
    """Read the flat runs and the test-cost measurement; write every flat table."""
    per_seed, curves, arrays = load_runs(run_dirs, variants)
    summary = summarise(per_seed)
    write_table(
        tables_dir / "flat_seeds",
        per_seed,
        None,
        "Flat activations: one row per method and seed",
    )
    write_table(
        tables_dir / "flat_summary",
        summary,
        summary_display(per_seed, summary),
        "Flat activations: error of the four methods, over seeds",
    )
    costs = prediction_costs(pd.read_csv(test_cost_csv))
    write_table(
        tables_dir / "flat_test_cost",
        costs,
        pd.DataFrame(
            {
                "method": costs.method.map(METHOD_NAMES),
                "ns per prediction": costs.time_per_prediction_ns.map(lambda v: f"{v:.0f}"),
            }
        ),
        "Flat activations: test cost of the four methods (this machine)",
    )
    write_table(tables_dir / "flat_curves", curves, human=False)
    points = figure_points(arrays, representative_seeds(per_seed, figure_seed))
    write_table(tables_dir / "flat_fig7_points", points, human=False)


def _key(method: str) -> str:
    return method.replace("_", "-")


def _range(values: pd.Series) -> str:
    if values.empty:
        return "(no such seed)"
    if len(values) == 1:
        return f"{values.iloc[0]:.3f}"
    return f"[{values.min():.3f}, {values.max():.3f}]"


def beaten_seeds(per_seed: pd.DataFrame) -> str:
    """The seeds on which forward-only is not the best, with the winner's and its error."""
    forward = per_seed[per_seed.method == "forward_only"].set_index("seed")
    lines = []
    for seed in forward.index[forward.error_rank > 1]:
        rows = per_seed[per_seed.seed == seed]
        best = rows.loc[rows.relative_rms.idxmin()]
        lines.append(
            f"seed {seed}: {METHOD_NAMES[best.method]} {best.relative_rms:.4f}, "
            f"forward-only {forward.relative_rms[seed]:.4f}"
        )
    return "; ".join(lines) or "no seed"


def report_values(tables_dir: Path, block: Mapping[str, Any]) -> dict[str, Any]:
    """The numbers the report's flat section quotes (keys ``flat.*``), from the tables.

    Every key exists at every scale, whatever the runs did (e.g. 'none' when no seed is stuck).
    """
    per_seed = pd.read_csv(tables_dir / "flat_seeds.csv")
    summary = pd.read_csv(tables_dir / "flat_summary.csv").set_index("method")
    costs = pd.read_csv(tables_dir / "flat_test_cost.csv").set_index("method")
    points = pd.read_csv(tables_dir / "flat_fig7_points.csv")
    values: dict[str, Any] = {"flat.seeds": len(block["seeds"])}
    for method in METHODS:
        key, row = _key(method), summary.loc[method]
        group = per_seed[per_seed.method == method]
        values[f"flat.{key}.steps"] = fmt(row.budget)
        values[f"flat.{key}.rms"] = mean_std(group.relative_rms)
        values[f"flat.{key}.off"] = _percent(group.off_fraction)
        values[f"flat.{key}.levels"] = fmt(row.distinct_levels_median)
        values[f"flat.{key}.cost"] = f"{costs.loc[method, 'time_per_prediction_ns']:.0f}"
        values[f"flat.{key}.best"] = f"{int(row.best_on_seeds)} of {int(row.n)}"
        shown = points[points.method == method].seed
        values[f"flat.{key}.figure-seed"] = int(shown.iloc[0]) if len(shown) else "none"
    values["flat.forward-only.beaten"] = beaten_seeds(per_seed)
    excess = per_seed[per_seed.method == "multi_class"].excess_over_forward_only
    values["flat.multi-class.excess"] = f"{excess.median():.4f}" if len(excess) else "—"
    non_flat = per_seed[per_seed.method == "non_flat"]
    stuck, learned = non_flat[non_flat.constant == 1], non_flat[non_flat.constant == 0]
    row = summary.loc["non_flat"]
    values.update(
        {
            "flat.stuck.count": f"{int(row.constant_count)} of {int(row.n)}",
            "flat.stuck.share": f"{row.constant_share:.2f}",
            "flat.stuck.interval": f"{row.constant_share_low:.2f}–{row.constant_share_high:.2f}",
            "flat.stuck.rms": _range(stuck.relative_rms),
            "flat.learned.rms": _range(learned.relative_rms),
            "flat.stuck.bstar": _range(stuck.b_star),
            "flat.learned.bstar": _range(learned.b_star),
            "flat.learned.rms-hard": _range(learned.relative_rms_hard),
            "flat.non-flat.rms-hard": mean_std(non_flat.relative_rms_hard),
            "flat.multi-class.boundary": fmt(
                summary.loc["multi_class"].boundary_error_share_median
            ),
            "flat.figure-seed-rule": (
                "the median seed of each method by relative RMS error"
                if block.get("figure7_seed") is None
                else f"seed {block['figure7_seed']} for every method (set in the config)"
            ),
        }
    )
    return values
