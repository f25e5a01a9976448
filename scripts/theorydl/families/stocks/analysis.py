"""Aggregation of the stocks runs (Failures §3.2, Fig 4) and of the second-moment check (§3.3).

Tables (``tables/<name>.{csv,md,tex}`` of a run), whose columns are what ``config/claims.yaml``
may name:

- ``stocks_seeds``: one row per (method, k, seed): the budget, the final plotted loss (−zᵀp on
  500 fresh samples), the exact expected loss L(w) at the end and half-way, how often the top
  stock is the right one, how much of the portfolio the top stock holds, the steps to reach
  L ≤ −0.9 (∞ = never within the budget: censored, never dropped) and the second-moment ratio
  at step 0;
- ``stocks_summary``: one row per (k, method): those statistics over seeds, beside the paper's;
- ``stocks_curves``: per (method, k, seed, step) the plotted and the exact loss and both
  estimators' second moments: the data of Fig 4;
- ``stocks_moments``: per (k, initialization) both estimators' second moments at
  initialization, exact and measured (Monte Carlo over autodiff gradients), and their ratios;
- ``stocks_moments_fit``: per initialization, least-squares slopes of log ratio against log k
  (the analysis predicts 1: the E2E second moment is about k times the Dec one).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from theorydl import runs
from theorydl.families.stocks.spec import METHOD_NAMES, TABLES
from theorydl.tables import Reads, fmt, mean_std, write_table

# What the claims' tables are made of (theorydl.costs.claim_jobs): the per-seed table reads
# the training runs alone; the moments' fit the second-moment job alone.
TABLE_READS = {
    "stocks_seeds": Reads(theory=()),
    "stocks_moments_fit": Reads(variants=None, theory=("second_moments",)),
}

__all__ = ["METHOD_NAMES", "TABLES", "aggregate", "report_values"]

SOLVED = -0.9  # a loss this low means the right stock holds at least 90% of the portfolio
# Final losses of Fig 4, digitized from the paper's vector data (reference notes §5.3).
PUBLISHED_FINAL_LOSS = {
    ("e2e", 10): -1.00,
    ("dec", 10): -1.00,
    ("e2e", 1000): -0.29,
    ("dec", 1000): -1.00,
    ("e2e", 2000): -0.24,
    ("dec", 2000): -0.999,
}


def first_step_at_most(curve: pd.Series, threshold: float) -> float:
    """First logged step whose value is at most ``threshold``; ∞ if none is."""
    hits = curve.index[curve.to_numpy() <= threshold]
    return float(hits[0]) if len(hits) else float("inf")


def seed_row(run: runs.Run, method: str, k: int) -> dict[str, Any]:
    """The per-seed statistics of one run."""
    expected = run.curve("test", "expected_loss")
    moments = run.curve("test", "second_moment_e2e") / run.curve("test", "second_moment_dec")
    row = {
        "method": method,
        "k": k,
        "seed": run.seed,
        "budget": int(run.meta["hparams"]["steps"]),
        "status": run.meta["status"],
        "final_loss": float(run.curve("test", "loss").iloc[-1]),
        "final_expected_loss": float(expected.iloc[-1]),
        "half_budget_expected_loss": float(
            expected[expected.index <= expected.index[-1] / 2].iloc[-1]
        ),
        "final_right_stock_accuracy": float(run.curve("test", "right_stock_accuracy").iloc[-1]),
        "final_top_stock_mass": float(run.curve("test", "top_stock_mass").iloc[-1]),
        "steps_to_solved": first_step_at_most(expected, SOLVED),
        "initial_moment_ratio": float(moments.iloc[0]),
    }
    if run.diverged:
        # A diverged seed solved nothing and has no final values to aggregate.
        finals = ["final_loss", "final_expected_loss", "half_budget_expected_loss"]
        finals += ["final_right_stock_accuracy", "final_top_stock_mass"]
        row.update(dict.fromkeys(finals, np.nan), steps_to_solved=float("inf"))
    return row


def load_runs(
    run_dirs: list[Path], variants: Mapping[str, Mapping[str, Any]]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-seed statistics and test curves of the given runs (each checked on reading)."""
    rows, curves = [], []
    for run, _variant, seed, hparams in runs.read_runs(run_dirs, "stocks", variants):
        method, k = hparams["method"], hparams["k"]
        rows.append(seed_row(run, method, k))
        test = run.metrics[run.metrics.split == "test"]
        curve = test.pivot(index="step", columns="metric", values="value").reset_index()
        curves.append(curve.assign(method=method, k=k, seed=seed))
    per_seed = pd.DataFrame(rows, columns=TABLES["stocks_seeds"])
    per_seed = per_seed.sort_values(["k", "method", "seed"]).reset_index(drop=True)
    curves = pd.concat(curves)[TABLES["stocks_curves"]]
    curves = curves.sort_values(["k", "method", "seed", "step"]).reset_index(drop=True)
    return per_seed, curves


def summarise(per_seed: pd.DataFrame) -> pd.DataFrame:
    """One row per (k, method): statistics over its seeds, and the paper's final loss."""
    rows = []
    for (k, method), group in per_seed.groupby(["k", "method"], sort=True):
        steps = group.steps_to_solved
        rows.append(
            {
                "k": k,
                "method": method,
                "n": len(group),
                "budget": int(group.budget.max()),
                "final_loss_mean": group.final_loss.mean(),
                "final_loss_std": group.final_loss.std(ddof=1),
                "final_expected_loss_median": group.final_expected_loss.median(),
                "final_right_stock_accuracy_median": group.final_right_stock_accuracy.median(),
                "final_top_stock_mass_median": group.final_top_stock_mass.median(),
                "steps_to_solved_median": float(np.median(steps)),
                "reached_solved": int(np.isfinite(steps).sum()),
                "published_final_loss": PUBLISHED_FINAL_LOSS.get((method, k), np.nan),
            }
        )
    return pd.DataFrame(rows, columns=TABLES["stocks_summary"])


def summary_display(per_seed: pd.DataFrame, summary: pd.DataFrame) -> pd.DataFrame:
    """The summary as people read it."""
    cells = []
    for row in summary.itertuples():
        group = per_seed[(per_seed.k == row.k) & (per_seed.method == row.method)]
        solved = (
            fmt(row.steps_to_solved_median)
            if np.isfinite(row.steps_to_solved_median)
            else f"> {fmt(row.budget)}"
        )
        cells.append(
            {
                "k": row.k,
                "method": METHOD_NAMES[row.method],
                "seeds": row.n,
                "steps": fmt(row.budget),
                "final loss (plotted)": mean_std(group.final_loss),
                "paper (Fig 4)": fmt(row.published_final_loss),
                "final L(w) (median)": f"{row.final_expected_loss_median:.3f}",
                "right stock (median)": f"{row.final_right_stock_accuracy_median:.3f}",
                "top-stock mass (median)": f"{row.final_top_stock_mass_median:.3f}",
                "steps to L ≤ −0.9": f"{solved} ({row.reached_solved}/{row.n})",
            }
        )
    return pd.DataFrame(cells)


def moments_tables(raw: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The second-moment table with its ratios, and the per-initialization log-log fit."""
    table = raw.assign(
        exact_ratio=raw.exact_e2e / raw.exact_dec,
        measured_ratio=raw.measured_e2e / raw.measured_dec,
    )[TABLES["stocks_moments"]]
    table = table.sort_values(["k", "init_seed"]).reset_index(drop=True)
    fits = []
    for seed, group in table.groupby("init_seed"):
        log_k = np.log(group.k)
        fits.append(
            {
                "init_seed": seed,
                "slope_exact": np.polyfit(log_k, np.log(group.exact_ratio), 1)[0],
                "slope_measured": np.polyfit(log_k, np.log(group.measured_ratio), 1)[0],
                "max_relative_deviation_from_k": float(
                    np.max(np.abs(group.exact_ratio / group.k - 1.0))
                ),
            }
        )
    return table, pd.DataFrame(fits, columns=TABLES["stocks_moments_fit"])


def moments_display(table: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for k, group in table.groupby("k"):
        rows.append(
            {
                "k": k,
                "inits": len(group),
                "E2E (exact)": f"{group.exact_e2e.mean():.3e}",
                "Dec (exact)": f"{group.exact_dec.mean():.3e}",
                "ratio (exact)": f"{group.exact_ratio.mean():.4g}",
                "ratio (measured)": mean_std(group.measured_ratio, 1 if k >= 100 else 3),
                "ratio / k": f"{(group.exact_ratio / k).mean():.4f}",
            }
        )
    return pd.DataFrame(rows)


def aggregate(
    run_dirs: list[Path],
    variants: Mapping[str, Mapping[str, Any]],
    moments_csv: Path,
    tables_dir: Path,
) -> None:
    """Read the stocks runs and the second-moment check; write all stocks tables."""
    per_seed, curves = load_runs(run_dirs, variants)
    summary = summarise(per_seed)
    moments, fit = moments_tables(pd.read_csv(moments_csv))
    write_table(
        tables_dir / "stocks_seeds", per_seed, None, "Stocks: one row per method, k and seed"
    )
    write_table(
        tables_dir / "stocks_summary",
        summary,
        summary_display(per_seed, summary),
        "Stocks: final losses and steps to solve, over seeds",
    )
    write_table(tables_dir / "stocks_curves", curves, human=False)
    write_table(
        tables_dir / "stocks_moments",
        moments,
        moments_display(moments),
        "Stocks: second moments of the two gradient estimators at initialization",
    )
    write_table(
        tables_dir / "stocks_moments_fit",
        fit,
        None,
        "Stocks: slope of log(E2E/Dec second moment) against log k, per initialization",
    )


def _ks_where(summary: pd.DataFrame, method: str) -> str:
    solved = summary[(summary.method == method) & (summary.final_expected_loss_median <= SOLVED)]
    return ", ".join(map(str, solved.k)) or "none"


def report_values(tables_dir: Path, block: Mapping[str, Any]) -> dict[str, Any]:
    """The numbers the report's stocks section quotes (keys ``stocks.*``), from the tables.

    Only keys that exist at every scale: specifics per k are in the tables and the claims.
    """
    summary = pd.read_csv(tables_dir / "stocks_summary.csv")
    per_seed = pd.read_csv(tables_dir / "stocks_seeds.csv")
    moments = pd.read_csv(tables_dir / "stocks_moments.csv")
    fit = pd.read_csv(tables_dir / "stocks_moments_fit.csv")
    e2e = summary[summary.method == "e2e"]
    stuck = e2e[e2e.final_expected_loss_median > SOLVED]
    stuck_seeds = per_seed[(per_seed.method == "e2e") & per_seed.k.isin(stuck.k)]
    late_gain = (
        (stuck_seeds.half_budget_expected_loss - stuck_seeds.final_expected_loss)
        .groupby(stuck_seeds.k)
        .median()
    )
    return {
        "stocks.seeds": len(block["seeds"]),
        "stocks.ks": ", ".join(map(str, block["ks"])),
        "stocks.figure4-ks": ", ".join(map(str, block["figure4_ks"])),
        "stocks.budgets": ", ".join(fmt(b) for b in sorted(set(summary.budget))),
        "stocks.e2e-solved-ks": _ks_where(summary, "e2e"),
        "stocks.dec-solved-ks": _ks_where(summary, "dec"),
        # Where E2E is stuck, how committed its portfolios are and how often they are right.
        "stocks.e2e-stuck-top-mass": (
            f"{stuck.final_top_stock_mass_median.min():.3f}" if len(stuck) else "—"
        ),
        "stocks.e2e-stuck-right": (
            f"{stuck.final_right_stock_accuracy_median.min():.2f}–"
            f"{stuck.final_right_stock_accuracy_median.max():.2f}"
            if len(stuck)
            else "—"
        ),
        # How much L(w) still fell in the second half of the budget where E2E is stuck.
        "stocks.e2e-stuck-late-gain": f"{late_gain.max():.3f}" if len(stuck) else "—",
        "stocks.initial-ratio-over-k": (
            f"{(per_seed.initial_moment_ratio / per_seed.k).min():.3f}–"
            f"{(per_seed.initial_moment_ratio / per_seed.k).max():.3f}"
        ),
        "stocks.moments.ks": f"{moments.k.min()}–{moments.k.max()}",
        "stocks.moments.inits": int(moments.init_seed.nunique()),
        "stocks.moments.samples": fmt(int(moments.samples.iloc[0])),
        "stocks.moments.slope-exact": f"{fit.slope_exact.median():.4f}",
        "stocks.moments.slope-measured": f"{fit.slope_measured.median():.3f}",
        "stocks.moments.max-deviation": f"{fit.max_relative_deviation_from_k.max():.3f}",
        # ‖∇L‖² as a share of the smaller second moment: how far second moment ≈ variance.
        "stocks.moments.mean-gradient-share": (
            f"{(moments.mean_gradient_sq / moments.exact_dec).max():.1e}"
        ),
    }
