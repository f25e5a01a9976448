"""The flat figures, one function per figure (rule ``flat_figure_<name>``).

Each takes the rule's inputs (and its config values) and returns the figure;
scripts/figure.py saves it.
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.ticker import FuncFormatter, NullFormatter

from theorydl.families.flat.analysis import METHOD_NAMES, METHODS, zoom_window
from theorydl.plotting import DOUBLE_COLUMN, PAPER_COLORS


def fig7_step_function(inputs: Any) -> plt.Figure:
    """Fig 7 of Failures of Gradient-Based Deep Learning: learning through a step function.

    Panels (a)-(e) as in the paper: the label u(r) (green, dashed) and the learned output (red)
    against r = v*ᵀx + b* on the sorted test points: (a) non-flat approximation, with ũ(r) at
    the true r (magenta, dashed); (b) end-to-end; (c) multi-class; (d) multi-class zoomed at one
    class boundary; (e) forward-only. Each panel shows one representative seed (see
    analysis.representative_seeds).
    """
    points = pd.read_csv(inputs.points)
    panels = [
        ("(a) non-flat approximation", "non_flat", False),
        ("(b) end-to-end", "end_to_end", False),
        ("(c) multi-class", "multi_class", False),
        ("(d) multi-class, zoomed", "multi_class", True),
        ("(e) forward-only", "forward_only", False),
    ]
    fig, axes = plt.subplots(1, 5, figsize=(DOUBLE_COLUMN[0], 1.9), layout="constrained")
    for ax, (title, method, zoomed) in zip(axes, panels, strict=True):
        data = points[points.method == method]
        if zoomed:
            data = zoom_window(data)
        # The label on top of the learned output, as the script draws them: both stay visible.
        ax.plot(data.r, data.prediction, color=PAPER_COLORS["red"], linewidth=0.9, label="learned")
        ax.plot(
            data.r, data.label, "--", color=PAPER_COLORS["green"], linewidth=1.2, label="label u(r)"
        )
        if method == "non_flat":
            ax.plot(
                data.r,
                data.smooth_label,
                "--",
                color=PAPER_COLORS["magenta"],
                linewidth=0.9,
                label="ũ(r)",
            )
        seed = int(data.seed.iloc[0]) if len(data) else "?"
        ax.set_title(f"{title}\nseed {seed}", fontsize="small")
        ax.set_xlabel("r = v*ᵀx + b*", fontsize="small")
        ax.tick_params(labelsize="x-small")
    axes[0].set_ylabel("output")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(
        handles, labels, loc="outside lower center", ncols=3, fontsize="small", frameon=False
    )
    sns.despine(fig)
    return fig


def training_curves(inputs: Any) -> plt.Figure:
    """Training of the four learners of Failures §5 against steps: training loss (MSE for three
    of them, cross-entropy for multi-class) and the test error that compares them all (relative
    RMS). Mean line over seeds, band from the lowest to the highest seed.
    """
    curves = pd.read_csv(inputs.curves)
    curves = curves[curves.step > 0].assign(learner=lambda t: t.method.map(METHOD_NAMES))
    palette = dict(
        zip((METHOD_NAMES[m] for m in METHODS), sns.color_palette("colorblind", 4), strict=True)
    )
    mse = [METHOD_NAMES[m] for m in METHODS if m != "multi_class"]
    panels = [
        ("training MSE", curves[(curves.split == "train") & curves.learner.isin(mse)]),
        (
            "training cross-entropy",
            curves[(curves.split == "train") & (curves.method == "multi_class")],
        ),
        (
            "test error (relative RMS)",
            curves[(curves.split == "test") & (curves.metric == "relative_rms")],
        ),
    ]
    fig, axes = plt.subplots(1, 3, figsize=DOUBLE_COLUMN, layout="constrained")
    for ax, (ylabel, data) in zip(axes, panels, strict=True):
        sns.lineplot(
            data=data,
            x="step",
            y="value",
            hue="learner",
            palette=palette,
            estimator="mean",
            errorbar=("pi", 100),
            linewidth=1.0,
            ax=ax,
            legend=False,
        )
        ax.set(yscale="log", xlabel="Training Iterations", ylabel=ylabel, xlim=(0, None))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x / 1000:g}k" if x else "0"))
        ax.yaxis.set_minor_formatter(NullFormatter())
    handles = [plt.Line2D([], [], color=palette[name], label=name) for name in palette]
    fig.legend(
        handles=handles, loc="outside lower center", ncols=4, fontsize="small", frameon=False
    )
    n = curves.groupby("method").seed.nunique().min()
    fig.suptitle(
        f"Learning through a step function: mean over {n} seeds, band from lowest to highest",
        fontsize="medium",
    )
    sns.despine(fig)
    return fig
