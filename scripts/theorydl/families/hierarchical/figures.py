"""The hierarchical family's figures, one function per figure (rule
``hierarchical_figure_<name>``). Each takes the rule's inputs and returns the figure;
scripts/figure.py saves it. Every figure is of the reconstructed model.
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import numpy as np
import pandas as pd

from theorydl.families.hierarchical.data import PATCH, make_grammar, sample
from theorydl.families.hierarchical.spec import LABELS, HierarchicalConfig
from theorydl.plotting import PAPER_COLORS

LEARNER_STYLE = {  # label, colour, line style
    "layerwise": ("layer-wise (trained levels + k-means)", PAPER_COLORS["blue"], "-"),
    "onestep": ("layer-wise (one-step embeddings)", PAPER_COLORS["green"], "--"),
    "e2e": ("end-to-end CNN", PAPER_COLORS["red"], "-"),
    "fc": ("fully connected", "0.35", ":"),
}


PIXELS = {"cmap": "gray_r", "vmin": -0.4, "vmax": 1.4, "interpolation": "nearest"}


def generation(inputs: Any, model: dict[str, Any]) -> plt.Figure:
    """(a) The generation, as the paper's Fig 1: one sample refined level by level (the top
    classes, each lower level's classes, the clean pixels, the noisy image), and five samples
    of every label. ``model``: the model's sizes (the family's resolved hyperparameters)."""
    cfg = HierarchicalConfig(**model)
    grammar = make_grammar(cfg)
    shown = sample(grammar, 200, 0, "figure")
    clean_cfg = HierarchicalConfig(**{**model, "noise": 0.0, "distractors": 0.0})
    clean = sample(make_grammar(clean_cfg), 200, 0, "figure")
    levels = len(cfg.classes)
    fig = plt.figure(figsize=(7.0, 5.2), layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=[1, 1.6])
    axes = top.subplots(1, levels + 2)
    for ax, level in zip(axes, reversed(range(levels)), strict=False):
        grid = shown.latents[level][0]
        ax.imshow(grid, cmap="tab20", vmin=0, vmax=19, interpolation="nearest")
        for (row, col), value in np.ndenumerate(grid):
            if grid.shape[0] <= 9:
                ax.text(col, row, str(value), ha="center", va="center", fontsize=5)
        ax.set_title(f"level {level} classes\n{grid.shape[0]}×{grid.shape[0]}", fontsize="small")
    axes[levels].imshow(clean.images[0], **PIXELS)
    axes[levels].set_title("pixels\n(no noise)", fontsize="small")
    axes[levels + 1].imshow(shown.images[0], **PIXELS)
    axes[levels + 1].set_title(f"image\n(σ = {cfg.noise:g})", fontsize="small")
    for ax in axes[levels:]:  # the cells of every level, on the pixels
        for size, width in ((PATCH, 0.3), (PATCH * PATCH, 0.9)):
            for edge in np.arange(size, cfg.side, size) - 0.5:
                ax.axhline(edge, color="tab:blue", linewidth=width, alpha=0.6)
                ax.axvline(edge, color="tab:blue", linewidth=width, alpha=0.6)
    for ax in axes:
        ax.set(xticks=[], yticks=[])
    top.suptitle(f"one sample of label {shown.labels[0]}, refined level by level", fontsize="small")
    per_label = 5
    grid_axes = bottom.subplots(per_label, LABELS)
    for label in range(LABELS):
        picks = np.flatnonzero(shown.labels == label)[:per_label]
        for row in range(per_label):
            ax = grid_axes[row, label]
            if row < len(picks):
                ax.imshow(shown.images[picks[row]], **PIXELS)
            ax.set(xticks=[], yticks=[])
        grid_axes[0, label].set_title(str(label), fontsize="small")
    bottom.suptitle("five samples of every label", fontsize="small")
    return fig


def _band(ax: plt.Axes, rows: pd.DataFrame, x: str, y: str, learner: str) -> None:
    label, color, style = LEARNER_STYLE[learner]
    stats = rows.groupby(x)[y].agg(["mean", "std"]).fillna(0)
    ax.plot(
        stats.index, 100 * stats["mean"], style, color=color, marker="o", markersize=3, label=label
    )
    ax.fill_between(
        stats.index,
        100 * (stats["mean"] - stats["std"]),
        100 * (stats["mean"] + stats["std"]),
        color=color,
        alpha=0.15,
        linewidth=0,
    )


def _sizes_axis(ax: plt.Axes, sizes: Any) -> None:
    """A log axis of training-set sizes, labelled at the sizes themselves."""
    ax.set_xscale("log")
    ax.set_xticks(sorted(set(sizes)))
    ax.xaxis.set_major_formatter(mticker.ScalarFormatter())
    ax.xaxis.set_minor_locator(mticker.NullLocator())


def accuracy_vs_samples(inputs: Any) -> plt.Figure:
    """(b) Test accuracy against the number of training images, per learner: mean and ±1 sd
    over seeds."""
    runs = pd.read_csv(inputs.runs)
    runs = runs[runs.experiment == "samples"]
    fig, ax = plt.subplots(figsize=(4.6, 3.3), layout="constrained")
    for learner in LEARNER_STYLE:
        mine = runs[runs.learner == learner]
        if len(mine):
            _band(ax, mine, "train_examples", "test_accuracy", learner)
    ax.axhline(90, color="0.5", linewidth=0.7, linestyle=":")
    _sizes_axis(ax, runs.train_examples)
    ax.set(xlabel="training images n", ylabel="test accuracy (%)", ylim=(0, 101))
    ax.legend(fontsize="x-small", loc="lower right")
    return fig


def clusters_vs_samples(inputs: Any) -> plt.Figure:
    """(c) Per level, the agreement of the clusters with the latent classes (NMI, solid; purity,
    dashed) against the number of training images: the layer-wise embeddings beside k-means on
    the raw pixels of the same cells (grey); mean over seeds."""
    clusters = pd.read_csv(inputs.clusters)
    clusters = clusters[clusters.experiment == "samples"]
    levels = sorted(clusters.level.unique()) if len(clusters) else [0]
    fig, axes = plt.subplots(
        1, len(levels), figsize=(3.4 * len(levels), 3.0), layout="constrained", squeeze=False
    )
    for ax, level in zip(axes[0], levels, strict=True):
        rows = clusters[clusters.level == level]
        for learner in ("layerwise", "onestep"):
            mine = rows[(rows.learner == learner) & (rows.embedding == "learned")]
            if mine.empty:
                continue
            label, color, _ = LEARNER_STYLE[learner]
            stats = mine.groupby("train_examples")[["nmi", "purity"]].mean()
            ax.plot(stats.index, stats.nmi, "-", color=color, marker="o", markersize=3, label=label)
            ax.plot(stats.index, stats.purity, "--", color=color, linewidth=0.9)
        raw = rows[(rows.learner == "layerwise") & (rows.embedding == "raw")]
        if len(raw):
            stats = raw.groupby("train_examples")[["nmi", "purity"]].mean()
            ax.plot(
                stats.index,
                stats.nmi,
                "-",
                color="0.5",
                marker="s",
                markersize=3,
                label="k-means on raw pixels",
            )
            ax.plot(stats.index, stats.purity, "--", color="0.5", linewidth=0.9)
        _sizes_axis(ax, rows.train_examples)
        ax.set(xlabel="training images n", ylabel="agreement", ylim=(0, 1.02))
        ax.set_title(f"level {level}", fontsize="medium")
    axes[0][0].plot([], [], "--", color="0.3", label="purity (dashed)")
    axes[0][0].legend(fontsize="x-small", loc="lower right")
    return fig


def sweeps(inputs: Any) -> plt.Figure:
    """(d) Test accuracy against the pixel noise σ and against the variants per class, at one
    training-set size, per learner: mean and ±1 sd over seeds."""
    runs = pd.read_csv(inputs.runs)
    fig, axes = plt.subplots(1, 2, figsize=(7.0, 3.0), layout="constrained")
    for ax, (experiment, column, xlabel) in zip(
        axes,
        (("noise", "noise", "pixel noise σ"), ("variants", "variants", "variants per class")),
        strict=True,
    ):
        rows = runs[runs.experiment == experiment]
        for learner in LEARNER_STYLE:
            mine = rows[rows.learner == learner]
            if len(mine):
                _band(ax, mine, column, "test_accuracy", learner)
        n = rows.train_examples.iloc[0] if len(rows) else "?"
        ax.set(xlabel=xlabel, ylabel="test accuracy (%)", ylim=(0, 101))
        ax.set_title(f"n = {n} training images", fontsize="medium")
    axes[0].legend(fontsize="x-small", loc="lower left")
    return fig


def fashion(inputs: Any) -> plt.Figure:
    """(e) Fashion-MNIST cropped to 27 × 27, in place of the paper's CIFAR-10: test accuracy
    per learner, each seed a dot, the mean a bar."""
    runs = pd.read_csv(inputs.runs)
    runs = runs[runs.experiment == "fashion"]
    fig, ax = plt.subplots(figsize=(4.2, 3.0), layout="constrained")
    learners = [learner for learner in LEARNER_STYLE if learner in set(runs.learner)]
    for position, learner in enumerate(learners):
        color = LEARNER_STYLE[learner][1]
        mine = 100 * runs[runs.learner == learner].test_accuracy
        ax.bar(position, mine.mean(), color=color, alpha=0.35, width=0.6)
        ax.plot([position] * len(mine), mine, "o", color=color, markersize=3)
        ax.text(position, mine.mean() + 1, f"{mine.mean():.1f}", ha="center", fontsize="small")
    ax.set_xticks(range(len(learners)))
    ax.set_xticklabels([LEARNER_STYLE[learner][0].split(" (")[0] for learner in learners])
    n = runs.train_examples.iloc[0] if len(runs) else "?"
    ax.set(ylabel="test accuracy (%)", ylim=(0, 100))
    ax.set_title(f"Fashion-MNIST 27×27, n = {n} training images", fontsize="medium")
    return fig
