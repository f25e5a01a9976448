"""The GaLU figures, one function per figure (rule ``gating_figure_<name>``).

Each takes the rule's inputs and returns the figure; scripts/figure.py saves it.
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import numpy as np
import pandas as pd
import seaborn as sns

from theorydl.families.gating.analysis import crossing
from theorydl.plotting import PAPER_COLORS

LEARNER_STYLE = {  # label, colour, line style
    "exact": ("GaLU, random gates, exact", PAPER_COLORS["blue"], "-"),
    "hill_climbing": ("GaLU, hill climbing", PAPER_COLORS["green"], "-"),
    "galu": ("GaLU by Adam (not in the paper's plot)", PAPER_COLORS["blue"], ":"),
    "relu": ("ReLU by Adam", PAPER_COLORS["red"], "-"),
}


IMAGE_STYLE = {  # label, colour
    "relu": ("ReLU", PAPER_COLORS["red"]),
    "galu0": ("GaLU0 (sigmoid gates)", PAPER_COLORS["blue"]),
    "linear": ("Linear", "0.35"),
}
DATASET_TITLES = {"mnist": "MNIST (the 10 000-image subset)", "fashion_mnist": "Fashion-MNIST"}


def fig1_images(inputs: Any) -> plt.Figure:
    """Fig 1: test error against the width k on PCA-whitened images, per dataset and learner,
    at the learning rate (and gate scale) selected on a validation part of the training split
    (solid, mean and ±1 sd over seeds) and on the test split itself, the paper's selection
    (dashed); hollow markers: the published errors (full datasets)."""
    summary = pd.read_csv(inputs.summary)
    datasets = list(dict.fromkeys(summary.dataset))
    fig, axes = plt.subplots(
        1, len(datasets), figsize=(4.8 * len(datasets), 3.8), layout="constrained", squeeze=False
    )
    for ax, dataset in zip(axes[0], datasets, strict=True):
        rows = summary[summary.dataset == dataset]
        for learner, (label, color) in IMAGE_STYLE.items():
            mine = rows[rows.learner == learner]
            if mine.empty:
                continue
            honest = mine[mine.selection == "validation"].sort_values("k")
            ax.errorbar(
                honest.k,
                100 * honest.test_error_mean,
                yerr=100 * honest.test_error_std.fillna(0),
                color=color,
                marker="o",
                markersize=4,
                capsize=2,
                label=f"{label}, selected on validation",
            )
            paper = mine[mine.selection == "test"].sort_values("k")
            ax.plot(paper.k, 100 * paper.test_error_mean, "--", color=color, linewidth=0.9)
            published = paper[paper.published.notna()]
            ax.plot(
                published.k,
                100 * published.published,
                "o",
                color=color,
                markerfacecolor="none",
                markersize=6,
            )
        ax.set(xlabel="width k (two hidden layers)", ylabel="test error (%)")
        ax.set_title(DATASET_TITLES.get(dataset, dataset), fontsize="medium")
    axes[0][0].plot([], [], "--", color="0.5", label="selected on test (the paper's way)")
    axes[0][0].plot([], [], "o", color="0.5", markerfacecolor="none", label="published (full data)")
    axes[0][0].legend(fontsize="x-small")
    return fig


def fig2_memorise(inputs: Any) -> plt.Figure:
    """Fig 2: training MSE on random labels against kd/m, per learner (mean and ±1 sd over the
    cells of one ratio and their seeds), with 1 − kd/m (fixed gates: a projection removes kd/m
    of a noise vector's energy) and 1 − 2kd/m; a mark where each learner crosses MSE 0.5."""
    runs = pd.read_csv(inputs.runs)
    fig, ax = plt.subplots(figsize=(5.2, 3.8), layout="constrained")
    ratios = np.linspace(0, 1, 101)
    ax.plot(ratios, 1 - ratios, color="0.3", linewidth=0.9, linestyle="--", label="1 − kd/m")
    ax.plot(ratios, 1 - 2 * ratios, color="0.6", linewidth=0.9, linestyle="--", label="1 − 2kd/m")
    for learner, (label, color, style) in LEARNER_STYLE.items():
        rows = runs[runs.learner == learner]
        if rows.empty:
            continue
        sns.lineplot(
            data=rows,
            x="ratio",
            y="train_mse",
            errorbar="sd",
            color=color,
            linestyle=style,
            marker="o",
            markersize=3.5,
            linewidth=1.1,
            label=label,
            ax=ax,
        )
        means = rows.groupby("ratio").train_mse.mean()
        crossed = crossing(means.index.to_numpy(), means.to_numpy(), 0.5)
        if np.isfinite(crossed):  # the report's crossing ratio, interpolated like there
            ax.plot(crossed, 0.5, marker="v", color=color, markersize=7)
    ax.axhline(0.5, color="0.8", linewidth=0.7)
    ax.set(xlabel="kd / m", ylabel="training MSE", xlim=(0, 1.02), ylim=(-0.03, 1.05))
    ax.legend(fontsize="x-small", loc="upper right")
    n = runs.groupby("learner").seed.nunique().min()
    ax.set_title(
        f"Memorising random labels: {n} seeds per cell (▼: the mean crosses MSE 0.5)",
        fontsize="medium",
    )
    return fig


def fig3_noise(inputs: Any) -> plt.Figure:
    """Fig 3: label noise, train and test, ReLU vs GaLU by Adam (mean and ±1 sd over seeds):
    regression MSE against σ_y with the optimum σ_y²; classification hinge loss and 0-1 error
    against the flip rate p = σ_y/2, with the optimum p and, beyond the paper, 2p(1 − p): the
    test error of a perfect memoriser of noisy labels (its copied label and the test label each
    flip with probability p)."""
    runs = pd.read_csv(inputs.runs)
    runs = runs[runs.learner.isin(["relu", "galu"])].copy()
    runs["flip"] = runs.noise / 2
    colors = {"relu": PAPER_COLORS["red"], "galu": PAPER_COLORS["blue"]}
    panels = [
        ("regression", "noise", "loss", "σ_y", "MSE"),
        ("classification", "flip", "loss", "p = σ_y / 2", "hinge loss"),
        ("classification", "flip", "error", "p = σ_y / 2", "0-1 error"),
    ]
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.5), layout="constrained")
    for ax, (task, x, metric, xlabel, ylabel) in zip(axes, panels, strict=True):
        rows = runs[runs.task == task]
        for learner, color in colors.items():
            for split, style in (("train", ":"), ("test", "-")):
                sns.lineplot(
                    data=rows[rows.learner == learner],
                    x=x,
                    y=f"{split}_{metric}",
                    errorbar="sd",
                    color=color,
                    linestyle=style,
                    linewidth=1.1,
                    label=f"{learner.replace('galu', 'GaLU').replace('relu', 'ReLU')} {split}",
                    ax=ax,
                )
        grid = np.linspace(0, rows[x].max() if len(rows) else 1, 101)
        if task == "regression":
            ax.plot(grid, grid**2, color="0.4", linestyle="--", linewidth=0.9, label="optimum σ_y²")
        elif metric == "error":
            ax.plot(grid, grid, color="0.4", linestyle="--", linewidth=0.9, label="optimum p")
            ax.plot(
                grid,
                2 * grid * (1 - grid),
                color="0.6",
                linestyle="-.",
                linewidth=0.9,
                label="memoriser 2p(1 − p)",
            )
        ax.set(xlabel=xlabel, ylabel=ylabel, title=f"{task}, {ylabel}")
        ax.legend(fontsize="x-small")
    return fig


def fig4_norms(inputs: Any) -> plt.Figure:
    """Fig 4: exact GaLU on the regression task: the generalisation gap (test − train MSE)
    against Σw² and against (Σ|w|)², one point per σ_y (mean and ±1 sd over seeds)."""
    runs = pd.read_csv(inputs.runs)
    exact = runs[(runs.learner == "exact") & (runs.task == "regression")].copy()
    exact["gap"] = exact.test_loss - exact.train_loss
    columns = ["gap", "sum_w2", "sum_abs_w_squared"]
    stats = exact.groupby("noise")[columns].agg(["mean", "std"])
    fig, axes = plt.subplots(1, 2, figsize=(8.5, 3.4), layout="constrained")
    for ax, (column, label) in zip(
        axes, [("sum_w2", "Σ w²"), ("sum_abs_w_squared", "(Σ |w|)²")], strict=True
    ):
        ax.errorbar(
            stats[(column, "mean")],
            stats[("gap", "mean")],
            xerr=stats[(column, "std")],
            yerr=stats[("gap", "std")],
            fmt="o-",
            color=PAPER_COLORS["blue"],
            markersize=4,
            linewidth=1.0,
            elinewidth=0.6,
            capsize=2,
        )
        for noise, row in stats.iterrows():
            ax.annotate(
                f"{noise:g}",
                (row[(column, "mean")], row[("gap", "mean")]),
                fontsize="xx-small",
                xytext=(3, -8),
                textcoords="offset points",
            )
        ax.set(xlabel=label, ylabel="test − train MSE", title=f"gap against {label} (labels: σ_y)")
    return fig


def fig5_width(inputs: Any) -> plt.Figure:
    """Fig 5: the smallest width whose training MSE on d′ random targets (mean over seeds) falls
    below the target, against d′, for ReLU and GaLU (filled), beside the published widths
    (hollow, the authors' m and d); right, every width each search tried and the mean training
    MSE it reached, with the target."""
    summary = pd.read_csv(inputs.summary)
    probes = pd.read_csv(inputs.probes)
    target = float(summary.target_mse.iloc[0])
    colors = {"relu": PAPER_COLORS["red"], "galu": PAPER_COLORS["blue"]}
    labels = {"relu": "ReLU", "galu": "GaLU"}
    fig, (left, right) = plt.subplots(1, 2, figsize=(9.5, 3.8), layout="constrained")
    for learner, rows in summary.groupby("learner", sort=False):
        color = colors[learner]
        left.plot(rows.outputs, rows.minimal_width, "-o", color=color, label=labels[learner])
        published = rows[rows.published.notna()]
        if len(published):
            left.plot(
                published.outputs,
                published.published,
                "--o",
                color=color,
                markerfacecolor="none",
                linewidth=0.8,
                label=f"{labels[learner]}, published (m = 1024, d = 32)",
            )
    m, d = int(summary.m.iloc[0]), int(summary.d.iloc[0])
    left.set(xlabel="output dimension d′", ylabel="minimal width k")
    left.set_title(f"Minimal width, m = {m}, d = {d}", fontsize="medium")
    left.legend(fontsize="x-small")
    means = probes.drop_duplicates(["learner", "outputs", "probe"])
    styles = ["-", "--", ":", "-."]
    for i, outputs in enumerate(sorted(means.outputs.unique())):
        for learner, rows in means[means.outputs == outputs].groupby("learner", sort=False):
            rows = rows.sort_values("k")
            right.plot(
                rows.k,
                rows.mean_train_mse,
                marker="o",
                markersize=3,
                linestyle=styles[i % len(styles)],
                color=colors[learner],
                label=f"{labels[learner]}, d′ = {outputs}",
            )
    right.axhline(target, color="0.4", linewidth=0.8, linestyle="--", label=f"target {target:g}")
    right.set(xscale="log", xlabel="width k tried", ylabel="training MSE, mean over seeds")
    right.xaxis.set_major_formatter(mticker.ScalarFormatter())
    right.xaxis.set_minor_formatter(mticker.NullFormatter())
    seeds = probes.seed.nunique()
    right.set_title(f"Every width the searches tried ({seeds} seeds each)", fontsize="medium")
    right.legend(fontsize="xx-small", ncols=2)
    return fig
