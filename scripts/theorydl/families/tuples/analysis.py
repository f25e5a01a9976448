"""Aggregation of the tuple runs and of the gradient-SNR measurement into tables.

Tables (``tables/<name>.{csv,md,tex}`` of a run), whose columns are what ``config/claims.yaml``
may name:

- ``tuples_seeds``: one row per (method, k, seed): the budget, the final tuple and image
  accuracies, the *parity ceiling* (1 + (2a − 1)^k)/2 that the run's own image accuracy a allows
  (the best a tuple prediction built from k independent image guesses can do), the gap to it,
  the peak smoothed accuracy and the steps to first reach 0.75 (∞ = never: censored, never
  dropped);
- ``tuples_summary``: one row per (method, k): those over seeds;
- ``tuples_curves``: test accuracies per (method, k, seed, step), the data of Fig 3;
- ``tuples_snr``: one row per (k, initialization): the SNR of the E2E and of the decomposition
  gradient, their ratio, the script's formula beside ours, and the estimator's floor 1/n;
- ``tuples_snr_summary``: one row per k: medians and ranges over initializations (Fig 5).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from theorydl import runs
from theorydl.families.tuples.spec import TABLES
from theorydl.tables import Reads, fmt, mean_std, write_table

# What the claims' tables are made of (theorydl.costs.claim_jobs): the per-seed table reads
# the training runs alone; the SNR table the gradient SNR jobs alone.
TABLE_READS = {
    "tuples_seeds": Reads(theory=()),
    "tuples_snr": Reads(variants=None, theory=("snr_init",)),
}

FINAL_EVALS = 5  # final accuracy: mean of the last 5 evaluations (10 000 test tuples)
SMOOTHING_EVALS = 5  # peak accuracy: max of a 5-evaluation moving average
LEARNED = 0.75  # "learned": well above chance (0.5 ± 0.011 on 2 000 test tuples)
METHOD_NAMES = {"e2e": "end-to-end", "dec": "decomposition"}

__all__ = ["METHOD_NAMES", "TABLES", "aggregate", "report_values"]


def parity_ceiling(image_accuracy: float, k: int) -> float:
    """Tuple accuracy of the parity of k independent image guesses, each right with probability
    a: the parity is right iff an even number of guesses are wrong, (1 + (2a − 1)^k)/2."""
    return (1.0 + (2.0 * image_accuracy - 1.0) ** k) / 2.0


def first_step_at_least(curve: pd.Series, threshold: float) -> float:
    """First logged step whose value reaches ``threshold``; ∞ if none does."""
    hits = curve.index[curve.to_numpy() >= threshold]
    return float(hits[0]) if len(hits) else float("inf")


def seed_row(run: runs.Run, hparams: Mapping[str, Any]) -> dict[str, Any]:
    """The per-seed statistics of one run."""
    accuracy = run.curve("test", "accuracy")
    image_accuracy = run.curve("test", "image_accuracy")
    final = float(accuracy.iloc[-FINAL_EVALS:].mean())
    final_image = float(image_accuracy.iloc[-FINAL_EVALS:].mean())
    if hparams["method"] == "e2e":
        # E2E never sees an image's label, and N(2) undoes a flipped sign of N(1) for any k:
        # its image scores mean something only up to that sign (a learned k = 1 run may sit
        # at 0.07 or at 0.93), so its images count as right up to one flip per seed.
        final_image = max(final_image, 1.0 - final_image)
    ceiling = parity_ceiling(final_image, hparams["k"])
    row = {
        "method": hparams["method"],
        "k": hparams["k"],
        "seed": run.seed,
        "budget": int(hparams["steps"]),
        "batch_size": int(hparams["batch_size"]),
        "status": run.meta["status"],
        "final_accuracy": final,
        "final_image_accuracy": final_image,
        "parity_ceiling": ceiling,
        "ceiling_gap": final - ceiling,
        "max_smoothed_accuracy": float(
            accuracy.rolling(min(SMOOTHING_EVALS, len(accuracy))).mean().max()
        ),
        "steps_to_learn": first_step_at_least(accuracy, LEARNED),
    }
    if run.diverged:
        for column in ("final_accuracy", "final_image_accuracy", "parity_ceiling", "ceiling_gap"):
            row[column] = np.nan
        row.update(max_smoothed_accuracy=np.nan, steps_to_learn=float("inf"))
    return row


def load_runs(
    run_dirs: list[Path], variants: Mapping[str, Mapping[str, Any]]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-seed statistics and accuracy curves of the given runs (each checked on reading)."""
    rows, curves = [], []
    for run, _variant, seed, hparams in runs.read_runs(run_dirs, "tuples", variants):
        rows.append(seed_row(run, hparams))
        curve = pd.concat(
            [run.curve("test", "accuracy"), run.curve("test", "image_accuracy")],
            axis=1,
            keys=["accuracy", "image_accuracy"],
        ).reset_index()
        curves.append(curve.assign(method=hparams["method"], k=hparams["k"], seed=seed))
    order = ["method", "k", "seed"]
    per_seed = pd.DataFrame(rows, columns=TABLES["tuples_seeds"]).sort_values(order)
    curves = pd.concat(curves)[TABLES["tuples_curves"]].sort_values([*order, "step"])
    return per_seed.reset_index(drop=True), curves.reset_index(drop=True)


def summarise(per_seed: pd.DataFrame) -> pd.DataFrame:
    """One row per (method, k): statistics over its seeds."""
    rows = []
    for (method, k), group in per_seed.groupby(["method", "k"], sort=False):
        rows.append(
            {
                "method": method,
                "k": k,
                "n": len(group),
                "budget": int(group.budget.max()),
                "batch_size": int(group.batch_size.max()),
                "final_accuracy_mean": group.final_accuracy.mean(),
                "final_accuracy_std": group.final_accuracy.std(ddof=1),
                "final_image_accuracy_mean": group.final_image_accuracy.mean(),
                "parity_ceiling_mean": group.parity_ceiling.mean(),
                "ceiling_gap_median": group.ceiling_gap.median(),
                "learned": int(np.isfinite(group.steps_to_learn).sum()),
                "steps_to_learn_median": float(np.median(group.steps_to_learn)),
                # Diverged seeds have no accuracy: counted here, never averaged in.
                "diverged": int((group.status == "diverged").sum()),
            }
        )
    return pd.DataFrame(rows, columns=TABLES["tuples_summary"])


def summary_display(per_seed: pd.DataFrame, summary: pd.DataFrame) -> pd.DataFrame:
    """The summary as people read it: mean ± sd over seeds, medians with counts."""
    cells = []
    for row in summary.itertuples():
        group = per_seed[(per_seed.method == row.method) & (per_seed.k == row.k)]
        learned = (
            fmt(row.steps_to_learn_median)
            if np.isfinite(row.steps_to_learn_median)
            else f"> {fmt(row.budget)}"
        )
        cells.append(
            {
                "method": METHOD_NAMES[row.method],
                "k": row.k,
                "seeds": row.n if not row.diverged else f"{row.n} ({row.diverged} diverged)",
                "steps × batch": f"{fmt(row.budget)} × {row.batch_size}",
                "tuple accuracy": mean_std(group.final_accuracy),
                "image accuracy": mean_std(group.final_image_accuracy),
                "parity ceiling": mean_std(group.parity_ceiling),
                f"steps to {LEARNED}": f"{learned} ({row.learned}/{row.n})",
            }
        )
    return pd.DataFrame(cells)


def snr_tables(raw: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The SNR per (k, initialization), E2E and decomposition side by side, and per k."""
    wide = raw.pivot_table(
        index=["k", "init_seed", "tuples"],
        columns="method",
        values=["snr", "snr_script", "signal", "noise"],
    )
    wide.columns = [
        f"snr_{method}_script" if value == "snr_script" else f"{value}_{method}"
        for value, method in wide.columns
    ]
    table = wide.reset_index()
    table["ratio"] = table.snr_e2e / table.snr_dec
    # With no signal at all, the plug-in ‖ḡ‖² still averages noise/n: SNR estimates near 1/n
    # are the estimator's resolution, not a measurement.
    table["floor"] = 1.0 / table.tuples
    table = table[TABLES["tuples_snr"]].sort_values(["k", "init_seed"]).reset_index(drop=True)
    rows = []
    for k, group in table.groupby("k"):
        row = {"k": k, "inits": len(group), "tuples": int(group.tuples.min())}
        for method in ("e2e", "dec"):
            values = group[f"snr_{method}"]
            row.update(
                {
                    f"snr_{method}_median": values.median(),
                    f"snr_{method}_min": values.min(),
                    f"snr_{method}_max": values.max(),
                }
            )
        row.update(
            ratio_median=group.ratio.median(), ratio_max=group.ratio.max(), floor=group.floor.max()
        )
        rows.append(row)
    return table, pd.DataFrame(rows, columns=TABLES["tuples_snr_summary"])


def snr_display(summary: pd.DataFrame) -> pd.DataFrame:
    def cell(row: Any, method: str) -> str:
        median, low, high = (getattr(row, f"snr_{method}_{s}") for s in ("median", "min", "max"))
        return f"{median:.2e} [{low:.1e}, {high:.1e}]"

    return pd.DataFrame(
        {
            "k": summary.k,
            "inits": summary.inits,
            "tuples": summary.tuples.map(fmt),
            "SNR end-to-end": [cell(r, "e2e") for r in summary.itertuples()],
            "SNR decomposition": [cell(r, "dec") for r in summary.itertuples()],
            "ratio (median)": summary.ratio_median.map(lambda v: f"{v:.1e}"),
            "floor 1/n": summary.floor.map(lambda v: f"{v:.1e}"),
        }
    )


def aggregate(
    run_dirs: list[Path],
    variants: Mapping[str, Mapping[str, Any]],
    snr_csvs: list[Path],
    tables_dir: Path,
) -> None:
    """Read the tuple runs and the SNR measurements; write all tuple tables."""
    per_seed, curves = load_runs(run_dirs, variants)
    summary = summarise(per_seed)
    snr, snr_summary = snr_tables(pd.concat([pd.read_csv(p) for p in snr_csvs]))
    write_table(
        tables_dir / "tuples_seeds",
        per_seed,
        None,
        "Tuples: one row per method, k and seed",
    )
    write_table(
        tables_dir / "tuples_summary",
        summary,
        summary_display(per_seed, summary),
        "Tuples: final test accuracies over seeds",
    )
    write_table(tables_dir / "tuples_curves", curves, human=False)
    write_table(tables_dir / "tuples_snr", snr, None, "Gradient SNR per k and initialization")
    write_table(
        tables_dir / "tuples_snr_summary",
        snr_summary,
        snr_display(snr_summary),
        "Gradient SNR at initialization: median [range] over initializations",
    )


# --------------------------------------------------------------------------------------------
# Report values: only keys that exist at every scale (a k or method not run says so).

REPORT_KS = (1, 2, 3, 4)


def _training_values(summary: pd.DataFrame) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for method in ("e2e", "dec"):
        for k in REPORT_KS:
            key = f"tuples.{method}-k{k}"
            rows = summary[(summary.method == method) & (summary.k == k)]
            if rows.empty:
                for field in ("accuracy", "image-accuracy", "ceiling", "budget", "learned"):
                    values[f"{key}.{field}"] = "not run"
                values[f"{key}.steps-to-learn"] = "not run"
                continue
            row = rows.iloc[0]
            values[f"{key}.accuracy"] = f"{row.final_accuracy_mean:.3f}"
            values[f"{key}.image-accuracy"] = f"{row.final_image_accuracy_mean:.3f}"
            values[f"{key}.ceiling"] = f"{row.parity_ceiling_mean:.3f}"
            values[f"{key}.budget"] = fmt(row.budget)
            values[f"{key}.learned"] = f"{row.learned} of {row.n}"
            steps = row.steps_to_learn_median
            values[f"{key}.steps-to-learn"] = (
                fmt(steps) if np.isfinite(steps) else f"more than {fmt(row.budget)}"
            )
    return values


def _snr_values(table: pd.DataFrame, summary: pd.DataFrame) -> dict[str, Any]:
    values: dict[str, Any] = {
        "tuples.snr.inits": int(table.init_seed.nunique()),
        "tuples.snr.ks": ", ".join(map(str, summary.k)),
        "tuples.snr.tuples-range": f"{fmt(table.tuples.min())}–{fmt(table.tuples.max())}",
        "tuples.snr.dec-median": f"{table.snr_dec.median():.1e}",
        "tuples.snr.dec-spread": f"{summary.snr_dec_max.max() / summary.snr_dec_min.min():.1f}",
    }
    script_diffs = [
        np.max(np.abs(table[f"snr_{m}_script"] / table[f"snr_{m}"] - 1)) for m in ("e2e", "dec")
    ]
    values["tuples.snr.script-max-diff"] = f"{100 * max(script_diffs):.0f}%"
    for k in REPORT_KS:
        rows = summary[summary.k == k]
        key = f"tuples.snr.k{k}"
        if rows.empty:
            for field in ("e2e", "dec", "ratio", "floor", "e2e-over-floor"):
                values[f"{key}.{field}"] = "not measured"
            continue
        row = rows.iloc[0]
        values[f"{key}.e2e"] = f"{row.snr_e2e_median:.1e}"
        values[f"{key}.dec"] = f"{row.snr_dec_median:.1e}"
        values[f"{key}.ratio"] = f"{row.ratio_median:.1e}"
        values[f"{key}.floor"] = f"{row.floor:.1e}"
        values[f"{key}.e2e-over-floor"] = f"{row.snr_e2e_median / row.floor:.2g}"
    return values


def report_values(tables_dir: Path, block: Mapping[str, Any]) -> dict[str, Any]:
    """The numbers the report's tuples section quotes (keys ``tuples.*``), from the tables."""
    summary = pd.read_csv(tables_dir / "tuples_summary.csv")
    snr = pd.read_csv(tables_dir / "tuples_snr.csv")
    snr_summary = pd.read_csv(tables_dir / "tuples_snr_summary.csv")
    values: dict[str, Any] = {
        "tuples.seeds": len(block["seeds"]),
        "tuples.ks": ", ".join(map(str, block["ks"])),
        "tuples.batch-sizes": ", ".join(fmt(b) for b in sorted(set(summary.batch_size))),
        "tuples.learned-threshold": f"{LEARNED}",
        "tuples.final-evals": FINAL_EVALS,
    }
    values.update(_training_values(summary))
    values.update(_snr_values(snr, snr_summary))
    return values
