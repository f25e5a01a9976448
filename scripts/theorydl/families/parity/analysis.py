"""Aggregation of the parity runs and of the Theorem 1 check into tables.

Tables (``tables/<name>.{csv,md,tex}`` of a run), whose columns are what ``config/claims.yaml``
may name:

- ``parity_seeds``: one row per (d, seed): the target's subset size, the budget, the final
  accuracy, the smoothed peak accuracy and the steps to reach 0.6 / 0.9 / 0.99 (∞ = never
  within the budget: censored, never dropped);
- ``parity_summary``: one row per d: those statistics over seeds (mean ± std, median, how many
  seeds reached each threshold);
- ``parity_by_degree``: for Fig 1's dimensions, the same per parity degree |S| (the authors'
  script draws |S| at random, and it sets the difficulty);
- ``parity_curves``: test accuracy per (d, seed, step), the data of Fig 1;
- ``parity_gradvar``: Theorem 1's variance, G² and bound per (d, initialization);
- ``parity_gradvar_fit``: per initialization, least-squares slopes of log₂ Var and of
  log₂(Var/G²) against d (the theorem predicts −1 for the latter), and the largest Var/bound.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from theorydl import runs
from theorydl.families.parity.spec import TABLES
from theorydl.tables import Reads, fmt, mean_std, write_table

# What the claims' tables are made of (theorydl.costs.claim_jobs): the per-seed table reads
# the training runs alone; Theorem 1's tables the exact gradient variance alone.
TABLE_READS = {
    "parity_seeds": Reads(theory=()),
    "parity_gradvar": Reads(variants=None, theory=("gradient_variance",)),
    "parity_gradvar_fit": Reads(variants=None, theory=("gradient_variance",)),
}

__all__ = ["TABLES", "aggregate", "report_values"]

THRESHOLDS = {"60": 0.6, "90": 0.9, "99": 0.99}
FINAL_EVALS = 5  # final accuracy: mean of the last 5 evaluations (2 500 samples at paper scale)
SMOOTHING_EVALS = 10  # peak accuracy: max of a 10-evaluation moving average


def first_step_at_least(curve: pd.Series, threshold: float) -> float:
    """First logged step whose value reaches ``threshold``; ∞ if none does."""
    hits = curve.index[curve.to_numpy() >= threshold]
    return float(hits[0]) if len(hits) else float("inf")


def seed_row(run: runs.Run, d: int) -> dict[str, Any]:
    """The per-seed statistics of one run."""
    accuracy = run.curve("test", "accuracy")
    row = {
        "d": d,
        "seed": run.seed,
        "subset_size": int(run.arrays()["subset_mask"].sum()),
        "budget": int(run.meta["hparams"]["steps"]),
        "status": run.meta["status"],
        "final_accuracy": float(accuracy.iloc[-FINAL_EVALS:].mean()),
        "max_smoothed_accuracy": float(
            accuracy.rolling(min(SMOOTHING_EVALS, len(accuracy))).mean().max()
        ),
    }
    for name, threshold in THRESHOLDS.items():
        row[f"steps_to_{name}"] = first_step_at_least(accuracy, threshold)
    if run.diverged:
        # A diverged seed never reached anything, and has no final accuracy to average in.
        row.update({k: np.nan for k in ("final_accuracy", "max_smoothed_accuracy")})
        row.update({f"steps_to_{n}": float("inf") for n in THRESHOLDS})
    return row


def load_runs(
    run_dirs: list[Path], variants: Mapping[str, Mapping[str, Any]]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-seed statistics and accuracy curves of the given runs (each checked on reading)."""
    rows, curves = [], []
    for run, _variant, seed, hparams in runs.read_runs(run_dirs, "parity", variants):
        rows.append(seed_row(run, hparams["d"]))
        curve = run.curve("test", "accuracy").rename("accuracy").reset_index()
        curves.append(curve.assign(d=hparams["d"], seed=seed))
    per_seed = pd.DataFrame(rows, columns=TABLES["parity_seeds"]).sort_values(["d", "seed"])
    curves = pd.concat(curves)[TABLES["parity_curves"]].sort_values(["d", "seed", "step"])
    return per_seed.reset_index(drop=True), curves.reset_index(drop=True)


def summarise(per_seed: pd.DataFrame) -> pd.DataFrame:
    """One row per d: statistics over its seeds."""
    rows = []
    for d, group in per_seed.groupby("d"):
        row = {
            "d": d,
            "n": len(group),
            "budget": int(group.budget.max()),
            "final_accuracy_mean": group.final_accuracy.mean(),
            "final_accuracy_std": group.final_accuracy.std(ddof=1),
            # Diverged seeds have no accuracy: counted here, never averaged in.
            "diverged": int((group.status == "diverged").sum()),
        }
        for name in THRESHOLDS:
            steps = group[f"steps_to_{name}"]
            row[f"steps_to_{name}_median"] = float(np.median(steps))
            row[f"reached_{name}"] = int(np.isfinite(steps).sum())
        rows.append(row)
    return pd.DataFrame(rows, columns=TABLES["parity_summary"])


def by_degree(per_seed: pd.DataFrame, dims: list[int]) -> pd.DataFrame:
    """Steps to 0.9 and 0.99 per (d, |S|) for the given dimensions: medians and counts."""
    rows = []
    for (d, size), group in per_seed[per_seed.d.isin(dims)].groupby(["d", "subset_size"]):
        rows.append(
            {
                "d": d,
                "subset_size": size,
                "n": len(group),
                "steps_to_90_median": float(np.median(group.steps_to_90)),
                "steps_to_99_median": float(np.median(group.steps_to_99)),
                "reached_99": int(np.isfinite(group.steps_to_99).sum()),
            }
        )
    return pd.DataFrame(rows, columns=TABLES["parity_by_degree"])


def by_degree_display(table: pd.DataFrame, budgets: pd.Series) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "d": table.d,
            "|S|": table.subset_size,
            "seeds": table.n,
            "steps to 0.90 (median)": [
                fmt(v) if np.isfinite(v) else f"> {fmt(budgets[d])}"
                for v, d in zip(table.steps_to_90_median, table.d, strict=True)
            ],
            "steps to 0.99 (median)": [
                fmt(v) if np.isfinite(v) else f"> {fmt(budgets[d])}"
                for v, d in zip(table.steps_to_99_median, table.d, strict=True)
            ],
            "reached 0.99": [f"{r}/{n}" for r, n in zip(table.reached_99, table.n, strict=True)],
        }
    )


def _steps_cell(median: float, reached: int, n: int, budget: int) -> str:
    shown = fmt(median) if np.isfinite(median) else f"> {fmt(budget)}"
    return f"{shown} ({reached}/{n})"


def summary_display(per_seed: pd.DataFrame, summary: pd.DataFrame) -> pd.DataFrame:
    """The summary as people read it: mean ± std, medians with how many seeds got there."""
    display = pd.DataFrame(
        {
            "d": summary.d,
            "seeds": summary.n,
            "steps trained": summary.budget.map(fmt),
            "final accuracy": [
                mean_std(per_seed[per_seed.d == d].final_accuracy) for d in summary.d
            ],
            "diverged": summary.diverged,
        }
    )
    for name in THRESHOLDS:
        display[f"steps to 0.{name}"] = [
            _steps_cell(median, reached, n, budget)
            for median, reached, n, budget in zip(
                summary[f"steps_to_{name}_median"],
                summary[f"reached_{name}"],
                summary.n,
                summary.budget,
                strict=True,
            )
        ]
    return display


def gradvar_tables(raw: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Theorem 1 table with the ratio to the bound, and the per-initialization slope fit."""
    table = raw.assign(ratio=raw.variance / raw.bound)[TABLES["parity_gradvar"]]
    table = table.sort_values(["d", "init_seed"]).reset_index(drop=True)
    fits = []
    for seed, group in table.groupby("init_seed"):
        fits.append(
            {
                "init_seed": seed,
                "slope_log2_variance": np.polyfit(group.d, np.log2(group.variance), 1)[0],
                "slope_log2_relative_variance": np.polyfit(
                    group.d, np.log2(group.variance / group.g_squared), 1
                )[0],
                "max_ratio": group.ratio.max(),
            }
        )
    return table, pd.DataFrame(fits, columns=TABLES["parity_gradvar_fit"])


def gradvar_display(table: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for d, group in table.groupby("d"):
        rows.append(
            {
                "d": d,
                "inits": len(group),
                "Var over targets": f"{group.variance.mean():.3e}",
                "G²": f"{group.g_squared.mean():.3g}",
                "bound G²/2^d": f"{group.bound.mean():.3e}",
                "Var / bound (max)": f"{group.ratio.max():.3f}",
            }
        )
    return pd.DataFrame(rows)


def aggregate(
    run_dirs: list[Path],
    variants: Mapping[str, Mapping[str, Any]],
    figure1_dims: list[int],
    gradvar_csv: Path,
    tables_dir: Path,
) -> None:
    """Read the parity runs and the Theorem 1 check; write all parity tables."""
    per_seed, curves = load_runs(run_dirs, variants)
    summary = summarise(per_seed)
    gradvar, fit = gradvar_tables(pd.read_csv(gradvar_csv))
    write_table(
        tables_dir / "parity_seeds", per_seed, None, "Parity: one row per input dimension and seed"
    )
    write_table(
        tables_dir / "parity_summary",
        summary,
        summary_display(per_seed, summary),
        "Parity: test accuracy and steps to reach it, over seeds",
    )
    degrees = by_degree(per_seed, figure1_dims)
    write_table(
        tables_dir / "parity_by_degree",
        degrees,
        by_degree_display(degrees, summary.set_index("d").budget),
        "Parity: steps to 0.9 and 0.99 by the parity's degree, for Fig 1's dimensions",
    )
    write_table(tables_dir / "parity_curves", curves, human=False)
    write_table(
        tables_dir / "parity_gradvar",
        gradvar,
        gradvar_display(gradvar),
        "Theorem 1: gradient variance across parity targets at initialization",
    )
    write_table(
        tables_dir / "parity_gradvar_fit", fit, None, "Theorem 1: slopes of log2 variance against d"
    )


def report_values(tables_dir: Path, block: Mapping[str, Any]) -> dict[str, Any]:
    """The numbers the report's parity section quotes (keys ``parity.*``), from the tables.

    Only keys that exist at every scale: specifics per d are in the tables and the claims.
    """
    summary = pd.read_csv(tables_dir / "parity_summary.csv")
    fit = pd.read_csv(tables_dir / "parity_gradvar_fit.csv")
    gradvar = pd.read_csv(tables_dir / "parity_gradvar.csv")
    learned = summary[np.isfinite(summary.steps_to_99_median)].d
    never = summary[summary.reached_99 == 0].d
    return {
        "parity.seeds": len(block["seeds"]),
        "parity.dims": ", ".join(map(str, block["dims"])),
        "parity.figure1-dims": ", ".join(map(str, block["figure1_dims"])),
        "parity.budgets": ", ".join(fmt(b) for b in sorted(set(summary.budget))),
        "parity.largest-d-learned": int(learned.max()) if len(learned) else "none",
        "parity.smallest-d-never-learned": int(never.min()) if len(never) else "none of those run",
        "parity.gradvar.dims": f"{gradvar.d.min()}–{gradvar.d.max()}",
        "parity.gradvar.inits": int(gradvar.init_seed.nunique()),
        "parity.gradvar.slope": f"{fit.slope_log2_variance.median():.3f}",
        "parity.gradvar.relative-slope": f"{fit.slope_log2_relative_variance.median():.3f}",
        "parity.gradvar.max-ratio": f"{fit.max_ratio.max():.3f}",
    }
