"""The tuples figures, one function per figure (rule ``tuples_figure_<name>``).

Each takes the rule's inputs (and its config values) and returns the figure;
scripts/figure.py saves it.
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import matplotlib.ticker as ticker
import numpy as np
import pandas as pd
import seaborn as sns

from theorydl.plotting import PAPER_COLORS, SINGLE_COLUMN


def _method_styles() -> dict[str, tuple[str, Any]]:
    """Each method's display name and the paper's colour: end-to-end red, decomposition blue."""
    from theorydl.families.tuples.analysis import METHOD_NAMES

    colors = {"e2e": PAPER_COLORS["red"], "dec": PAPER_COLORS["blue"]}
    return {method: (METHOD_NAMES[method], color) for method, color in colors.items()}


def fig2_examples(inputs: Any, tf_threads: int, seed: int) -> plt.Figure:
    """Fig 2 of Failures of Gradient-Based Deep Learning: example line images from the generator.

    Top row: label +1 (the line rises, θ < π/2); bottom row: label −1. Drawn with the row index
    pointing up, so that a rising line looks like "/" as in the paper. The rule has no inputs:
    the images come from the generator's stream ``tuples/examples`` of ``seed``.
    """
    from theorydl import runtime

    runtime.hide_gpus()  # takes no gpu slot: off the GPUs that training jobs claim
    tf = runtime.setup_tensorflow(tf_threads)

    from theorydl.families.tuples import model  # after TensorFlow's setup

    theta, length, centre = model.line_parameters(
        tf.constant(runtime.stream_key(seed, "tuples/examples")), 100
    )
    images = model.draw_lines(theta, length, centre).numpy()
    labels = model.image_labels(theta).numpy()
    per_row = 5
    rows = {+1: np.flatnonzero(labels > 0)[:per_row], -1: np.flatnonzero(labels < 0)[:per_row]}
    fig, axes = plt.subplots(2, per_row, figsize=(5.0, 2.2), layout="constrained")
    for row, (label, picks) in enumerate(rows.items()):
        for col, index in enumerate(picks):
            ax = axes[row, col]
            ax.imshow(images[index], cmap="gray", vmin=0, vmax=1, origin="lower")
            ax.set(xticks=[], yticks=[])
            ax.grid(False)
        axes[row, 0].set_ylabel(f"y = {label:+d}")
    fig.suptitle("Line images: rising (θ < π/2, top) and falling (bottom)", fontsize="medium")
    return fig


def fig3_accuracy(inputs: Any) -> plt.Figure:
    """Fig 3 of Failures of Gradient-Based Deep Learning: tuple test accuracy against iterations,
    end-to-end (red) vs decomposition (blue), one panel per k; mean and ±1 sd band over seeds.

    The dotted line is the parity ceiling (1 + (2a − 1)^k)/2 of the decomposition runs' own image
    accuracy a (median over seeds): what k independent image guesses allow.
    """
    styles = _method_styles()
    curves = pd.read_csv(inputs.curves)
    seeds = pd.read_csv(inputs.seeds)
    curves["method"] = curves.method.map({method: name for method, (name, _) in styles.items()})
    palette = dict(styles.values())  # display name → colour, end-to-end first
    ks = sorted(curves.k.unique())

    fig, axes = plt.subplots(
        1,
        len(ks),
        figsize=(1.75 * len(ks) + 0.6, 2.6),
        sharex=True,
        sharey=True,
        squeeze=False,
        layout="constrained",
    )
    for ax, k in zip(axes[0], ks, strict=True):
        sns.lineplot(
            data=curves[curves.k == k],
            x="step",
            y="accuracy",
            hue="method",
            palette=palette,
            hue_order=[m for m in palette if m in set(curves.method)],
            errorbar="sd",
            linewidth=1.0,
            legend=bool(k == ks[-1]),
            ax=ax,
        )
        dec = seeds[(seeds.k == k) & (seeds.method == "dec")]
        if not dec.empty:
            ax.axhline(dec.parity_ceiling.median(), color="0.4", linestyle=":", linewidth=1.0)
        ax.set(
            title=f"k = {k}",
            xlabel="iterations",
            ylabel="",
            ylim=(0.3, 1.0),
            yticks=[0.3, 0.5, 1.0],
        )
        ax.set_xlim(0, curves.step.max())
        ax.xaxis.set_major_locator(ticker.MaxNLocator(3, integer=True))
        ax.xaxis.set_major_formatter(
            ticker.FuncFormatter(lambda x, _: f"{x:,.0f}".replace(",", " "))
        )
    axes[0, 0].set_ylabel("test accuracy (tuples)")
    handles, labels = axes[0, -1].get_legend_handles_labels()
    axes[0, -1].get_legend().remove()
    handles.append(plt.Line2D([], [], color="0.4", linestyle=":", linewidth=1.0))
    labels.append("parity ceiling of decomposition")
    fig.legend(handles, labels, loc="outside lower center", ncol=3, frameon=False)
    n = curves.groupby(["method", "k"]).seed.nunique().min()
    fig.suptitle(f"Tuples of line images: mean and ±1 sd over {n} seeds", fontsize="medium")
    return fig


def fig5_snr(inputs: Any) -> plt.Figure:
    """Fig 5 of Failures of Gradient-Based Deep Learning: the SNR of the stochastic gradient at
    initialization (N(1)'s last layer) against k, end-to-end (red) vs decomposition (blue).

    Log scale: the median over initializations with the range as error bars, and every
    initialization as a faint dot. Two reference lines: float32 machine epsilon (the paper's
    caption), and the estimator's floor 1/n (with no signal at all, the plug-in SNR of n samples
    averages 1/n: points near it say only that the SNR is at most about that).
    """
    table = pd.read_csv(inputs.snr)
    stats = table.groupby("k").agg(["median", "min", "max"])
    ks = stats.index.to_numpy()

    styles = _method_styles()
    fig, ax = plt.subplots(figsize=(SINGLE_COLUMN[0] + 0.6, SINGLE_COLUMN[1] + 0.3))
    for method, shift in (("dec", -0.04), ("e2e", 0.04)):
        name, color = styles[method]
        column = f"snr_{method}"
        median = stats[column]["median"].to_numpy()
        spread = [
            median - stats[column]["min"].to_numpy(),
            stats[column]["max"].to_numpy() - median,
        ]
        ax.errorbar(
            ks + shift, median, yerr=spread, color=color, label=name, linewidth=1.2, capsize=2
        )
        ax.scatter(table.k + shift, table[column], color=color, s=6, alpha=0.35, linewidths=0)
    ax.plot(
        ks, stats["floor"]["max"], color="0.45", linestyle=":", linewidth=1.0, label="floor 1/n"
    )
    eps = float(np.finfo(np.float32).eps)
    ax.axhline(eps, color="0.2", linestyle="--", linewidth=0.8, label="float32 ε")
    ax.set_yscale("log")
    ax.set(xlabel="k", ylabel="SNR at initialization", xticks=ks)
    ax.legend(loc="center right", fontsize="x-small")
    n = table.init_seed.nunique()
    ax.set_title(f"Gradient SNR: median, range over {n} initializations", fontsize="medium")
    return fig
