"""The parity figures, one function per figure (rule ``parity_figure_<name>``).

Each takes the rule's inputs (and its config values) and returns the figure;
scripts/figure.py saves it.
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from theorydl.plotting import DOUBLE_COLUMN, PAPER_COLORS, SINGLE_COLUMN


def fig1_accuracy(inputs: Any, dims: list[int]) -> plt.Figure:
    """Fig 1 of Failures of Gradient-Based Deep Learning: parity test accuracy vs SGD iterations."""
    curves = pd.read_csv(inputs.curves)
    dims = list(dims)
    curves = curves[curves.d.isin(dims)]
    # A diverged seed's accuracy is NaN from its divergence on: say so in the legend rather than let
    # the band quietly lose a seed.
    diverged = curves[curves.accuracy.isna()].groupby("d").seed.nunique()
    labels = {d: f"d = {d}" + (f" ({diverged[d]} diverged)" if d in diverged else "") for d in dims}
    curves = curves.assign(label=curves.d.map(labels))
    # Blue, green, red as in the paper for its three curves; more dimensions get seaborn colours.
    colors = [PAPER_COLORS["blue"], PAPER_COLORS["green"], PAPER_COLORS["red"]]
    colors += sns.color_palette("colorblind", max(0, len(dims) - 3))
    palette = {labels[d]: color for d, color in zip(dims, colors, strict=False)}

    fig, ax = plt.subplots(figsize=SINGLE_COLUMN)
    sns.lineplot(
        data=curves,
        x="step",
        y="accuracy",
        hue="label",
        palette=palette,
        errorbar="sd",
        linewidth=1.0,
        ax=ax,
    )
    ax.set(
        xlabel="Training Iterations",
        ylabel="Accuracy",
        ylim=(0.35, 1.05),
        xlim=(0, curves.step.max()),
        yticks=[0.5, 1.0],
    )
    ax.ticklabel_format(axis="x", style="sci", scilimits=(4, 4))
    ax.legend(title=None, loc="center right")
    n = curves.groupby("d").seed.nunique().min()
    ax.set_title(f"Parity: mean and ±1 sd over {n} seeds", fontsize="medium")
    return fig


def steps_to_99(inputs: Any) -> plt.Figure:
    """Steps for SGD to reach 99% test accuracy on a parity, vs d and vs the parity's degree |S|.

    Seeds that never get there within their budget are drawn as open triangles at the budget
    (censored), never dropped."""
    table = pd.read_csv(inputs.seeds)
    norm = plt.Normalize(table.subset_size.min(), max(table.subset_size.max(), 1))
    diverged = table[table.status == "diverged"]
    seeds = table[table.status != "diverged"].copy()  # diverged: drawn apart, red crosses at budget
    seeds["reached"] = np.isfinite(seeds.steps_to_99)
    seeds["shown"] = np.where(seeds.reached, seeds.steps_to_99, seeds.budget)
    rng = np.random.default_rng(0)  # horizontal jitter only, so that overlapping seeds stay visible
    seeds["jitter"] = rng.uniform(-0.2, 0.2, len(seeds))
    cmap = plt.get_cmap("viridis")

    fig, axes = plt.subplots(1, 2, figsize=DOUBLE_COLUMN, sharey=True, layout="constrained")
    for ax, axis, label in (
        (axes[0], "d", "input dimension d"),
        (axes[1], "subset_size", "parity degree |S|"),
    ):
        reached, censored = seeds[seeds.reached], seeds[~seeds.reached]
        ax.scatter(
            reached[axis] + reached.jitter,
            reached.shown,
            marker="o",
            s=14,
            color=cmap(norm(reached.subset_size)),
            label="reached 99%",
        )
        ax.scatter(
            censored[axis] + censored.jitter,
            censored.shown,
            marker="^",
            s=18,
            facecolors="none",
            edgecolors=cmap(norm(censored.subset_size)),
            linewidths=0.8,
            label="not within the budget (drawn at it)",
        )
        if len(diverged):
            ax.scatter(
                diverged[axis],
                diverged.budget,
                marker="x",
                s=20,
                color="red",
                label="diverged (loss NaN/inf)",
            )
        medians = seeds.groupby(axis).steps_to_99.median()
        medians = medians[np.isfinite(medians)]
        ax.plot(medians.index, medians.values, color="k", linewidth=1.0, label="median over seeds")
        ax.set(xlabel=label, yscale="log")
    axes[0].set_ylabel("steps to 99% test accuracy")
    axes[1].xaxis.set_major_locator(plt.MaxNLocator(integer=True))
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(
        handles, labels, loc="outside lower center", ncols=3, fontsize="small", frameon=False
    )
    fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=cmap), ax=axes, label="|S|", pad=0.01)
    sns.despine(fig)
    return fig


def gradient_variance(inputs: Any) -> plt.Figure:
    """Theorem 1: the variance across parity targets of the loss gradient, against G²/2^d.

    Left: both on a log₂ scale against d. Right: their ratio, which the theorem says is at most 1.
    """
    table = pd.read_csv(inputs.gradvar)
    long = pd.concat(
        [
            table.assign(quantity="Var across targets (exact)", value=table.variance),
            table.assign(quantity="bound G²/2^d", value=table.bound),
        ]
    )
    blue, red = PAPER_COLORS["blue"], PAPER_COLORS["red"]
    fig, (left, right) = plt.subplots(1, 2, figsize=DOUBLE_COLUMN, layout="constrained")
    sns.lineplot(
        data=long,
        x="d",
        y="value",
        hue="quantity",
        style="quantity",
        palette=[blue, red],
        dashes=[(1, 0), (4, 2)],
        markers=["o", "X"],
        errorbar=("pi", 100),
        markersize=3,
        linewidth=1.0,
        ax=left,
    )
    left.set_yscale("log", base=2)
    left.set(xlabel="input dimension d", ylabel="gradient variance at initialization")
    left.legend(title=None)
    sns.lineplot(
        data=table,
        x="d",
        y="ratio",
        color=blue,
        marker="o",
        markersize=3,
        errorbar=("pi", 100),
        linewidth=1.0,
        ax=right,
    )
    right.axhline(1.0, color=red, linestyle="--", linewidth=1.0, label="Theorem 1 bound")
    right.set(xlabel="input dimension d", ylabel="Var / (G²/2^d)", ylim=(0, 1.1))
    right.legend(loc="lower right")
    n = table.init_seed.nunique()
    fig.suptitle(
        f"Theorem 1, exact over all 2^d inputs (range over {n} initializations)", fontsize="medium"
    )
    for ax in (left, right):
        ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
    return fig
