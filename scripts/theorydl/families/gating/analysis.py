"""The GaLU family's tables: the trained runs and the exact solutions, per seed, then over seeds,
then the statistics the claims read (one row per learner).

Learners in the tables: ``relu`` and ``galu`` (trained by Adam), ``exact`` (GaLU with random
gates solved exactly) and ``hill_climbing`` (exact GaLU after hill climbing over its gates).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from theorydl import runs
from theorydl.families.gating.spec import TABLES, minimal_width, search_probes
from theorydl.tables import Reads, fmt, write_table

# What the claims' tables are made of (theorydl.costs.claim_jobs). Each checks table reads one
# experiment; a row of the label-noise and width checks compares a learner with another (ReLU's
# test MSE beside GaLU's, GaLU's width beside ReLU's), so the learner does not narrow them.
TABLE_READS = {
    "gating_memorise_checks": Reads({"experiment": "memorise"}, theory=("exact_memorise",)),
    "gating_noise_checks": Reads(
        {"experiment": "noise"}, theory=("exact_noise",), across=("learner",)
    ),
    "gating_width_checks": Reads({"experiment": "width"}, theory=(), across=("learner",)),
    "gating_images_checks": Reads({"experiment": "images"}, theory=()),
}

LEARNERS = ["exact", "hill_climbing", "galu", "galu0", "relu", "linear"]  # every table's order
LINE_RATIOS = (0.25, 0.5, 0.75)  # where the claims compare the learners with 1 − kd/m
FIT_NOISE = 0.5  # the label-noise claims on fitting and on ReLU vs GaLU hold from this σ_y on


def _last(run: runs.Run, metric: str) -> float:
    curve = run.curve("test", metric)
    return float(curve.iloc[-1]) if len(curve) else np.nan


def load_runs(
    run_dirs: list[Path], variants: Mapping[str, Mapping[str, Any]]
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """One row per trained run and seed: (memorisation runs, label-noise runs, image runs), and
    one row per width search, seed and width tried."""
    memorise, noise, width, images = [], [], [], []
    for run, _variant, seed, hp in runs.read_runs(run_dirs, "gating", variants):
        steps = int(run.meta["steps_completed"])
        if hp["experiment"] == "images":
            images.append(
                {
                    "dataset": hp["dataset"],
                    "learner": hp["learner"],
                    "k": hp["k"],
                    "learning_rate": hp["learning_rate"],
                    "alpha": hp["alpha"] if hp["learner"] == "galu0" else np.nan,
                    "seed": seed,
                    "steps": steps,
                    **{
                        f"{split}_error": _last(run, f"{split}_error")
                        for split in ("train", "validation", "test")
                    },
                }
            )
        elif hp["experiment"] == "width":
            arrays = run.arrays()
            for probe, (k, mse, mean) in enumerate(
                zip(arrays["widths"], arrays["train_mse"], arrays["mean_train_mse"], strict=True)
            ):
                width.append(
                    {
                        "learner": hp["learner"],
                        "outputs": hp["outputs"],
                        "m": hp["m"],
                        "d": hp["d"],
                        "seed": seed,
                        "steps": steps,
                        "probe": probe,
                        "k": int(k),
                        "train_mse": float(mse),
                        "mean_train_mse": float(mean),
                    }
                )
        elif hp["experiment"] == "memorise":
            memorise.append(
                {
                    "learner": hp["learner"],
                    "m": hp["m"],
                    "d": hp["d"],
                    "k": hp["k"],
                    "seed": seed,
                    "steps": steps,
                    "train_mse": _last(run, "train_loss"),
                }
            )
        else:
            noise.append(
                {
                    "task": hp["task"],
                    "learner": hp["learner"],
                    "noise": hp["noise"],
                    "seed": seed,
                    "steps": steps,
                    "train_loss": _last(run, "train_loss"),
                    "test_loss": _last(run, "test_loss"),
                    "train_error": _last(run, "train_error"),
                    "test_error": _last(run, "test_error"),
                }
            )
    return (
        pd.DataFrame(memorise),
        pd.DataFrame(noise),
        pd.DataFrame(width, columns=TABLES["gating_width_probes"]),
        pd.DataFrame(images, columns=TABLES["gating_images_runs"]),
    )


def _ordered(table: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    order = {name: i for i, name in enumerate(LEARNERS)}
    return table.sort_values(keys, key=lambda c: c.map(order) if c.name == "learner" else c)


# --------------------------------------------------------------------------------------------
# Memorisation (Fig 2).


def memorise_runs(trained: pd.DataFrame, exact: pd.DataFrame) -> pd.DataFrame:
    """Every memorisation result, trained or solved, with its kd/m."""
    table = pd.concat([trained, exact], ignore_index=True)
    table["ratio"] = table.k * table.d / table.m
    table = _ordered(table, ["learner", "ratio", "m", "d", "k", "seed"])
    return table[TABLES["gating_memorise_runs"]].reset_index(drop=True)


def memorise_summary(per_run: pd.DataFrame) -> pd.DataFrame:
    """One row per learner and kd/m: the training MSE over the cells with that ratio and their
    seeds (the authors average the cells of one ratio), and the two reference lines."""
    rows = []
    for (learner, ratio), group in per_run.groupby(["learner", "ratio"], sort=False):
        mean = group.train_mse.mean()
        rows.append(
            {
                "learner": learner,
                "ratio": ratio,
                "cells": group[["m", "d", "k"]].drop_duplicates().shape[0],
                "repeats": group.seed.nunique(),
                "steps": int(group.steps.min()),
                "train_mse_mean": mean,
                "train_mse_std": group.train_mse.std(ddof=1),
                "line": 1 - ratio,
                "line_2": 1 - 2 * ratio,
                "gap_to_line": mean - (1 - ratio),
            }
        )
    return _ordered(pd.DataFrame(rows), ["learner", "ratio"]).reset_index(drop=True)


def crossing(ratios: np.ndarray, values: np.ndarray, level: float = 0.5) -> float:
    """The kd/m at which a learner's mean training MSE first falls to ``level`` (linear
    interpolation between grid points); NaN if it never does on the grid."""
    for i in range(1, len(ratios)):
        if values[i - 1] > level >= values[i]:
            t = (values[i - 1] - level) / (values[i - 1] - values[i])
            return float(ratios[i - 1] + t * (ratios[i] - ratios[i - 1]))
    return float(ratios[0]) if len(values) and values[0] <= level else np.nan


def memorise_checks(summary: pd.DataFrame) -> pd.DataFrame:
    """One row per learner: what the memorisation claims read."""
    exact = summary[summary.learner == "exact"].set_index("ratio").train_mse_mean
    rows = []
    for learner, group in summary.groupby("learner", sort=False):
        by_ratio = group.set_index("ratio").sort_index()
        mean = by_ratio.train_mse_mean
        at_lines = mean[np.isin(mean.index, LINE_RATIOS)]
        positive = mean[(1 - 2 * mean.index) > 0]
        shared = mean.index.intersection(exact.index)
        rows.append(
            {
                "learner": learner,
                "repeats": int(group.repeats.min()),
                "steps": int(group.steps.min()),
                "ratios": len(mean),
                "max_abs_gap_to_line": float(np.max(np.abs(mean - (1 - mean.index)))),
                "mse_at_full": float(mean.get(1.0, np.nan)),
                "max_excess_over_line": float(np.max(at_lines - (1 - at_lines.index)))
                if len(at_lines)
                else np.nan,
                "min_margin_over_line_2": float(np.min(positive - (1 - 2 * positive.index)))
                if len(positive)
                else np.nan,
                "max_gap_to_exact": float(np.max(np.abs(mean[shared] - exact[shared])))
                if len(shared)
                else np.nan,
                "crossing_ratio": crossing(mean.index.to_numpy(), mean.to_numpy()),
            }
        )
    return pd.DataFrame(rows)[TABLES["gating_memorise_checks"]]


# --------------------------------------------------------------------------------------------
# Label noise (Figs 3 and 4).


def noise_runs(trained: pd.DataFrame, exact: pd.DataFrame) -> pd.DataFrame:
    """Every label-noise result, trained or solved exactly, one row per run and seed."""
    table = pd.concat([trained, exact.assign(steps=0)], ignore_index=True)
    for column in TABLES["gating_noise_runs"]:
        if column not in table:
            table[column] = np.nan
    table = _ordered(table, ["task", "learner", "noise", "seed"])
    return table[TABLES["gating_noise_runs"]].reset_index(drop=True)


def noise_summary(per_run: pd.DataFrame) -> pd.DataFrame:
    """One row per task, learner and σ_y: means and standard deviations over seeds, the optimum
    a learner that knew the clean labels would reach (σ_y² for the MSE, p = σ_y/2 for the 0-1
    error, since the test labels are noisy too), and 2p(1 − p), the test error of a perfect
    memoriser of noisy labels (a noisy training label is copied, and a test label is noisy)."""
    rows = []
    for (task, learner, noise), group in per_run.groupby(["task", "learner", "noise"], sort=False):
        flip = noise / 2 if task == "classification" else np.nan
        rows.append(
            {
                "task": task,
                "learner": learner,
                "noise": noise,
                "flip": flip,
                "repeats": group.seed.nunique(),
                "steps": int(group.steps.min()),
                "train_loss_mean": group.train_loss.mean(),
                "train_loss_std": group.train_loss.std(ddof=1),
                "test_loss_mean": group.test_loss.mean(),
                "test_loss_std": group.test_loss.std(ddof=1),
                "train_error_mean": group.train_error.mean(),
                "test_error_mean": group.test_error.mean(),
                "test_error_std": group.test_error.std(ddof=1),
                "optimum": flip if task == "classification" else noise**2,
                "memoriser_error": 2 * flip * (1 - flip),
                "sum_w2_mean": group.sum_w2.mean(),
                "sum_abs_w_squared_mean": group.sum_abs_w_squared.mean(),
                "gap_mean": (group.test_loss - group.train_loss).mean(),
            }
        )
    table = pd.DataFrame(rows, columns=TABLES["gating_noise"])
    return _ordered(table, ["task", "learner", "noise"]).reset_index(drop=True)


def _rank_correlation(a: pd.Series, b: pd.Series) -> float:
    if len(a) < 3:
        return np.nan
    return float(np.corrcoef(a.rank(), b.rank())[0, 1])


def noise_checks(summary: pd.DataFrame) -> pd.DataFrame:
    """One row per task and learner: what the label-noise claims read."""
    rows = []
    for (task, learner), group in summary.groupby(["task", "learner"], sort=False):
        group = group.set_index("noise").sort_index()
        noisy = group[group.index >= FIT_NOISE]
        regression = task == "regression"
        error = group.test_error_mean
        row = {
            "task": task,
            "learner": learner,
            "repeats": int(group.repeats.min()),
            "steps": int(group.steps.min()),
            "max_train_mse_over_var": float((noisy.train_loss_mean / noisy.index**2).max())
            if regression and len(noisy)
            else np.nan,
            "max_train_error": np.nan if regression else float(group.train_error_mean.max()),
            "min_test_over_optimum": float(
                ((group.test_loss_mean if regression else error) - group.optimum).min()
            ),
            "max_distance_to_memoriser": np.nan
            if regression
            else float((error - group.memoriser_error).abs().max()),
            "max_relu_minus_galu_test": np.nan,
            "gap_rank_correlation": _rank_correlation(group.gap_mean, group.sum_w2_mean),
            "log2_gap_at_1": float(np.log2(group.gap_mean.get(1.0, np.nan))),
            "log2_sum_w2_at_1": float(np.log2(group.sum_w2_mean.get(1.0, np.nan))),
        }
        if regression and learner == "relu":
            galu = summary[(summary.task == task) & (summary.learner == "galu")]
            galu = galu.set_index("noise").test_loss_mean
            both = noisy.index.intersection(galu.index)
            if len(both):
                row["max_relu_minus_galu_test"] = float(
                    (noisy.test_loss_mean[both] - galu[both]).max()
                )
        rows.append(row)
    return pd.DataFrame(rows)[TABLES["gating_noise_checks"]]


# --------------------------------------------------------------------------------------------
# Real images (Fig 1).

# The authors' test errors (full MNIST and Fashion-MNIST, 100 000 steps, 4 repeats, (lr, α)
# selected on the test split), per dataset and learner, at k = 16, 32, 48, 64, 80, 96.
PUBLISHED_IMAGES = {
    ("mnist", "relu"): [4.08, 3.53, 3.24, 2.67, 2.38, 2.18],
    ("mnist", "galu0"): [5.67, 4.21, 3.51, 3.22, 3.08, 2.81],
    ("mnist", "linear"): [8.28, 8.30, 8.30, 8.32, 8.34, 8.34],
    ("fashion_mnist", "relu"): [13.9, 13.0, 12.9, 12.8, 12.6, 12.7],
    ("fashion_mnist", "galu0"): [14.9, 13.6, 13.0, 12.8, 12.3, 12.3],
    ("fashion_mnist", "linear"): [16.8, 16.8, 16.8, 16.8, 16.8, 16.8],
}
PUBLISHED_WIDTHS = (16, 32, 48, 64, 80, 96)
SELECTIONS = ("test", "validation")  # the paper's selection, and the honest one
NEAR_RELU_FROM = 48  # GaLU0 within a margin of ReLU from this k on (Fashion-MNIST)
BEAT_LINEAR_FROM = 32  # both nonlinear networks beat Linear from this k on


def published_error(dataset: str, learner: str, k: int) -> float:
    """The authors' test error (a fraction) at this dataset, learner and width; NaN if none."""
    errors = PUBLISHED_IMAGES.get((dataset, learner))
    if errors is None or k not in PUBLISHED_WIDTHS:
        return np.nan
    return errors[PUBLISHED_WIDTHS.index(k)] / 100


def images_summary(per_run: pd.DataFrame) -> pd.DataFrame:
    """One row per dataset, learner, width and selection: the (lr, α) whose mean error over the
    seeds is lowest on the selection split (``test``: the authors' choice, which reads the test
    set; ``validation``: a part of the training split held out), and that setting's errors."""
    keys = ["dataset", "learner", "k", "learning_rate", "alpha"]
    means = (
        per_run.groupby(keys, dropna=False)
        .agg(
            repeats=("seed", "nunique"),
            steps=("steps", "min"),
            train_error_mean=("train_error", "mean"),
            validation_error_mean=("validation_error", "mean"),
            test_error_mean=("test_error", "mean"),
            test_error_std=("test_error", "std"),
        )
        .reset_index()
    )
    rows = []
    for (dataset, learner, k), settings in means.groupby(["dataset", "learner", "k"], sort=False):
        for selection in SELECTIONS:
            best = settings.loc[settings[f"{selection}_error_mean"].idxmin()]
            rows.append(
                {
                    "dataset": dataset,
                    "learner": learner,
                    "k": k,
                    "selection": selection,
                    "settings": len(settings),
                    "learning_rate": best.learning_rate,
                    "alpha": best.alpha,
                    "repeats": int(best.repeats),
                    "steps": int(best.steps),
                    "train_error_mean": best.train_error_mean,
                    "validation_error_mean": best.validation_error_mean,
                    "test_error_mean": best.test_error_mean,
                    "test_error_std": best.test_error_std,
                    "published": published_error(dataset, learner, int(k)),
                }
            )
    table = pd.DataFrame(rows, columns=TABLES["gating_images"])
    return _ordered(table, ["dataset", "selection", "learner", "k"]).reset_index(drop=True)


def _largest(values: pd.Series) -> float:
    return float(values.max()) if values.notna().any() else np.nan


def _smallest(values: pd.Series) -> float:
    return float(values.min()) if values.notna().any() else np.nan


def images_checks(summary: pd.DataFrame) -> pd.DataFrame:
    """One row per dataset and selection: what the image claims read (errors as fractions)."""
    rows = []
    for (dataset, selection), group in summary.groupby(["dataset", "selection"], sort=False):
        error = group.pivot_table(index="k", columns="learner", values="test_error_mean")
        for learner in ("relu", "galu0", "linear"):
            if learner not in error:
                error[learner] = np.nan
        best = error[["relu", "galu0"]].max(axis=1)
        published_linear = [published_error(dataset, "linear", k) for k in error.index]
        near = error.index >= NEAR_RELU_FROM
        beat = error.index >= BEAT_LINEAR_FROM
        rows.append(
            {
                "dataset": dataset,
                "selection": selection,
                "repeats": int(group.repeats.min()),
                "steps": int(group.steps.min()),
                "widths": len(error),
                "max_galu0_relu_distance_from_48": _largest((error.galu0 - error.relu).abs()[near]),
                "min_linear_margin_from_32": _smallest((error.linear - best)[beat]),
                "max_linear_distance_to_published": _largest(
                    (error.linear - published_linear).abs()
                ),
                "max_relu_minus_galu0": _largest(error.relu - error.galu0),
                "min_linear_minus_galu0": _smallest(error.linear - error.galu0),
            }
        )
    return pd.DataFrame(rows, columns=TABLES["gating_images_checks"])


def images_display(summary: pd.DataFrame) -> pd.DataFrame:
    """The image table for people: errors in %, the chosen setting, the published error."""

    def percent(v: float) -> str:
        return fmt(100 * v, 3) if np.isfinite(v) else "—"

    return pd.DataFrame(
        {
            "dataset": summary.dataset,
            "selected on": summary.selection,
            "learner": summary.learner,
            "k": summary.k,
            "lr": summary.learning_rate.map(fmt),
            "α": summary.alpha.map(lambda v: fmt(v) if np.isfinite(v) else "—"),
            "train %": summary.train_error_mean.map(percent),
            "test %": [
                f"{percent(m)} ± {percent(s)}" if np.isfinite(s) else percent(m)
                for m, s in zip(summary.test_error_mean, summary.test_error_std, strict=True)
            ],
            "published %": summary.published.map(percent),
        }
    )


# --------------------------------------------------------------------------------------------
# Minimal width (Fig 5).

# The authors' minimal widths (m = 1024, d = 32, 100 000 steps, 8 repeats), per learner and d′.
PUBLISHED_WIDTH = {
    "relu": {1: 16, 8: 93, 16: 160, 32: 232, 64: 317, 96: 370, 128: 406},
    "galu": {1: 22, 8: 102, 16: 160, 32: 226, 64: 308, 96: 356, 128: 390},
}
WIDTH_FROM_OUTPUTS = 8  # the claim that GaLU needs about as many units as ReLU holds from this d′


def width_summary(probes: pd.DataFrame, target: float) -> pd.DataFrame:
    """One row per learner and d′: the widths the search tried, the smallest whose mean
    training MSE over the seeds fell below ``target`` (NaN where none did), and the published
    width where the authors searched the same d′."""
    rows = []
    for (learner, outputs), group in probes.groupby(["learner", "outputs"], sort=False):
        tried = group.drop_duplicates("probe").sort_values("probe")
        searched = list(zip(tried.k, tried.mean_train_mse, strict=True))
        rows.append(
            {
                "learner": learner,
                "outputs": outputs,
                "m": int(group.m.iloc[0]),
                "d": int(group.d.iloc[0]),
                "repeats": group.seed.nunique(),
                "steps": int(group.steps.min()),
                "probes": len(searched),
                "widths_tried": " ".join(str(k) for k, _ in searched),
                "target_mse": target,
                "minimal_width": minimal_width(searched, target),
                "published": PUBLISHED_WIDTH.get(learner, {}).get(int(outputs), np.nan),
            }
        )
    table = pd.DataFrame(rows, columns=TABLES["gating_width"])
    return _ordered(table, ["learner", "outputs"]).reset_index(drop=True)


def width_checks(summary: pd.DataFrame) -> pd.DataFrame:
    """One row per learner: what the minimal-width claims read. GaLU's row has the largest
    relative difference from ReLU's width at any d′ ≥ 8; every row the largest relative
    distance from the published widths (where the authors searched that d′)."""
    relu = summary[summary.learner == "relu"].set_index("outputs").minimal_width
    rows = []
    for learner, group in summary.groupby("learner", sort=False):
        group = group.set_index("outputs")
        published = group.published.notna()
        from_outputs = group.index >= WIDTH_FROM_OUTPUTS
        both = group.index[from_outputs].intersection(relu.index)
        difference = np.nan
        if learner != "relu" and len(both):
            difference = float(((group.minimal_width[both] - relu[both]).abs() / relu[both]).max())
        distance = (group.minimal_width - group.published).abs() / group.published
        rows.append(
            {
                "learner": learner,
                "m": int(group.m.min()),
                "d": int(group.d.min()),
                "repeats": int(group.repeats.min()),
                "steps": int(group.steps.min()),
                "outputs": len(group),
                "max_relative_difference_to_relu": difference,
                "max_relative_distance_to_published": float(distance[published].max())
                if published.any()
                else np.nan,
            }
        )
    return pd.DataFrame(rows, columns=TABLES["gating_width_checks"])


def width_display(summary: pd.DataFrame) -> pd.DataFrame:
    """The minimal-width table for people."""
    return pd.DataFrame(
        {
            "learner": summary.learner,
            "d′": summary.outputs,
            "seeds": summary.repeats,
            "steps": summary.steps.map(fmt),
            "widths tried": summary.widths_tried,
            "minimal k": summary.minimal_width.map(lambda v: fmt(v) if np.isfinite(v) else "none"),
            "published": summary.published.map(lambda v: fmt(v) if np.isfinite(v) else "—"),
        }
    )


# --------------------------------------------------------------------------------------------


def aggregate(
    run_dirs: list[Path],
    variants: Mapping[str, Mapping[str, Any]],
    memorise_csv: Path,
    noise_csv: Path,
    tables_dir: Path,
) -> None:
    """Read the trained runs and the exact solutions; write every gating table."""
    trained_memorise, trained_noise, width, images = load_runs(run_dirs, variants)
    per_cell = memorise_runs(trained_memorise, pd.read_csv(memorise_csv))
    summary = memorise_summary(per_cell)
    write_table(tables_dir / "gating_memorise_runs", per_cell, human=False)
    write_table(
        tables_dir / "gating_memorise",
        summary,
        memorise_display(summary),
        "GaLU, memorising random labels: training MSE per learner and kd/m (mean ± sd over "
        "the cells of that ratio and their seeds) and the lines 1 − kd/m, 1 − 2kd/m",
    )
    write_table(
        tables_dir / "gating_memorise_checks",
        memorise_checks(summary),
        None,
        "GaLU, memorising random labels: what the claims read, per learner",
    )
    per_run = noise_runs(trained_noise, pd.read_csv(noise_csv))
    noise = noise_summary(per_run)
    write_table(tables_dir / "gating_noise_runs", per_run, human=False)
    write_table(
        tables_dir / "gating_noise",
        noise,
        noise_display(noise),
        "GaLU, label noise: train and test loss and 0-1 error per task, learner and σ_y "
        "(mean ± sd over seeds), the optimum, and the exact solution's weight norms",
        long=True,
    )
    write_table(
        tables_dir / "gating_noise_checks",
        noise_checks(noise),
        None,
        "GaLU, label noise: what the claims read, per task and learner",
    )
    write_table(tables_dir / "gating_images_runs", images, human=False)
    chosen = images_summary(images)
    write_table(
        tables_dir / "gating_images",
        chosen,
        images_display(chosen),
        "GaLU, real images: test error per dataset, learner and width at the learning rate (and "
        "gate scale) selected on the test split (the paper's choice) and on a validation part "
        "of the training split, mean ± sd over seeds, beside the published error",
        long=True,
    )
    write_table(
        tables_dir / "gating_images_checks",
        images_checks(chosen),
        None,
        "GaLU, real images: what the claims read, per dataset and selection",
    )
    write_table(tables_dir / "gating_width_probes", width, human=False)
    targets = {hp["target_mse"] for hp in variants.values() if hp["experiment"] == "width"}
    minimal = width_summary(width, targets.pop() if targets else np.nan)
    write_table(
        tables_dir / "gating_width",
        minimal,
        width_display(minimal),
        "GaLU, minimal width: the widths the binary search tried and the smallest whose mean "
        "training MSE over the seeds fell below the target, per learner and d′, beside the "
        "published width",
    )
    write_table(
        tables_dir / "gating_width_checks",
        width_checks(minimal),
        None,
        "GaLU, minimal width: what the claims read, per learner",
    )


def memorise_display(summary: pd.DataFrame) -> pd.DataFrame:
    """The memorisation table for people: mean ± sd, and the lines."""
    return pd.DataFrame(
        {
            "learner": summary.learner,
            "kd/m": summary.ratio.map(lambda r: fmt(r, 3)),
            "cells × seeds": [
                f"{c} × {r}" for c, r in zip(summary.cells, summary.repeats, strict=True)
            ],
            "steps": summary.steps.map(fmt),
            "train MSE": [
                f"{fmt(m)} ± {fmt(s)}"
                for m, s in zip(summary.train_mse_mean, summary.train_mse_std, strict=True)
            ],
            "1 − kd/m": summary.line.map(fmt),
            "1 − 2kd/m": summary.line_2.map(fmt),
        }
    )


def noise_display(noise: pd.DataFrame) -> pd.DataFrame:
    """The label-noise table for people."""

    def pair(mean: pd.Series, std: pd.Series) -> list[str]:
        return [
            f"{fmt(m)} ± {fmt(s)}" if np.isfinite(m) else "—"
            for m, s in zip(mean, std, strict=True)
        ]

    return pd.DataFrame(
        {
            "task": noise.task,
            "learner": noise.learner,
            "σ_y": noise.noise.map(fmt),
            "train loss": pair(noise.train_loss_mean, noise.train_loss_std),
            "test loss": pair(noise.test_loss_mean, noise.test_loss_std),
            "test 0-1": pair(noise.test_error_mean, noise.test_error_std),
            "optimum": noise.optimum.map(fmt),
            "2p(1 − p)": noise.memoriser_error.map(lambda v: fmt(v) if np.isfinite(v) else "—"),
            "Σw²": noise.sum_w2_mean.map(lambda v: fmt(v) if np.isfinite(v) else "—"),
        }
    )


def report_values(tables_dir: Path, block: Mapping[str, Any]) -> dict[str, Any]:
    """The numbers the report's gating section quotes (keys ``gating.*``), from the tables.

    Every key exists at every scale; a setting not run at this scale reads "not run".
    """
    memorise = pd.read_csv(tables_dir / "gating_memorise_checks.csv").set_index("learner")
    noise = pd.read_csv(tables_dir / "gating_noise.csv")
    grid = block["memorise"]

    def value(table: pd.DataFrame, row: str, column: str, digits: int = 3) -> str:
        if row not in table.index or not np.isfinite(table.loc[row, column]):
            return "not run"
        return fmt(float(table.loc[row, column]), digits)

    values: dict[str, Any] = {
        "gating.seeds": len(block["seeds"]),
        "gating.memorise.ms": ", ".join(map(str, grid["ms"])),
        "gating.memorise.dims": ", ".join(map(str, grid["dims"])),
        "gating.memorise.widths": ", ".join(map(str, grid["widths"])),
        "gating.memorise.hill-steps": grid["hill_climbing_steps"],
        "gating.noise.noises": ", ".join(fmt(s) for s in block["noise"]["noises"]),
    }
    for key in ("m", "d", "k", "clusters", "spread", "test_points"):
        values[f"gating.noise.{key.replace('_', '-')}"] = fmt(block["noise"][key])
    for learner in LEARNERS:
        for column in ("max_abs_gap_to_line", "mse_at_full", "crossing_ratio", "max_gap_to_exact"):
            key = f"gating.memorise.{learner}.{column}".replace("_", "-")
            values[key] = value(memorise, learner, column)
    at = noise[noise.noise == noise.noise.max()].set_index(["task", "learner"])
    for task, learner, column in [
        ("regression", "exact", "gap_mean"),
        ("regression", "exact", "sum_w2_mean"),
        ("regression", "relu", "test_loss_mean"),
        ("regression", "galu", "test_loss_mean"),
        ("classification", "relu", "test_error_mean"),
        ("classification", "galu", "test_error_mean"),
    ]:
        key = f"gating.noise.{task}.{learner}.{column.replace('_', '-')}"
        values[key] = value(at.loc[task] if task in at.index else at.iloc[:0], learner, column)
    values["gating.noise.largest"] = fmt(float(noise.noise.max())) if len(noise) else "not run"
    grid = block["images"]
    values["gating.images.datasets"] = ", ".join(
        {"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST"}[d] for d in grid["datasets"]
    )
    for key in ("widths", "learning_rates", "alphas"):
        values[f"gating.images.{key.replace('_', '-')}"] = ", ".join(fmt(v) for v in grid[key])
    for key in ("layers", "pca_dims", "repeats", "gate"):
        values[f"gating.images.{key.replace('_', '-')}"] = grid[key]
    values["gating.images.validation-percent"] = fmt(100 * grid["validation"])
    images = pd.read_csv(tables_dir / "gating_images_checks.csv")
    # In percentage points, as the paper gives its errors.
    points = images.select_dtypes("number").set_index(images.dataset + "/" + images.selection) * 100
    for row, column in [
        ("fashion_mnist/test", "max_galu0_relu_distance_from_48"),
        ("fashion_mnist/validation", "max_galu0_relu_distance_from_48"),
        ("fashion_mnist/test", "min_linear_margin_from_32"),
        ("fashion_mnist/test", "max_linear_distance_to_published"),
        ("mnist/test", "max_relu_minus_galu0"),
        ("mnist/test", "min_linear_minus_galu0"),
    ]:
        key = f"gating.images.{row.replace('/', '.')}.{column}".replace("_", "-")
        values[key] = value(points, row, column, 2)
    width = block["width"]
    for key in ("m", "d", "min_width", "max_width", "target_mse"):
        values[f"gating.width.{key.replace('_', '-')}"] = fmt(width[key])
    values["gating.width.outputs"] = ", ".join(map(str, width["outputs"]))
    values["gating.width.probes"] = search_probes(width["min_width"], width["max_width"])
    values["gating.width.repeats"] = width["repeats"]
    checks = pd.read_csv(tables_dir / "gating_width_checks.csv").set_index("learner")
    for learner, column in [
        ("galu", "max_relative_difference_to_relu"),
        ("relu", "max_relative_distance_to_published"),
        ("galu", "max_relative_distance_to_published"),
    ]:
        key = f"gating.width.{learner}.{column}".replace("_", "-")
        values[key] = value(checks, learner, column, 2)
    return values
