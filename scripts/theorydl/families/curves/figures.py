"""The curves figures, one function per figure (rule ``curves_figure_<name>``).

Each takes the rule's inputs (and its config values) and returns the figure;
scripts/figure.py saves it.
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from theorydl.families.curves.analysis import (
    EXACT,
    LEARNER_LABELS,
    PAPER_CURVES,
    QUANTITY_LABELS,
)
from theorydl.plotting import DOUBLE_COLUMN, PAPER_COLORS
from theorydl.tables import fmt

INEXACT = 0.02  # relative max error above which the claims call a learner inexact at the kinks
# Mathtext for the figure; the tables use QUANTITY_LABELS' plain text.
QUANTITY_MATHTEXT = {
    "fc_gram": r"fully connected, cond($W^\top W$)",
    "conv_covariance": "3-tap rows, cond($C$)",
    "conv_whitened": "3-tap rows whitened",
}
QUANTITY_COLORS = {
    "fc_gram": PAPER_COLORS["red"],
    "conv_covariance": PAPER_COLORS["blue"],
    "conv_whitened": PAPER_COLORS["green"],
}


def _learners(learner: pd.Series) -> list[str]:
    """The learners in a table's ``learner`` column, in Fig 6's order (its rows)."""
    return [name for name in LEARNER_LABELS if name in set(learner)]


def fig6_decoded(
    inputs: Any, budgets: dict[str, int], figure_seed: int, snapshot_steps: list[int]
) -> plt.Figure:
    """Fig 6 of Failures of Gradient-Based Deep Learning: decoded piecewise-linear curves.

    Rows: the four learners; columns: two validation curves (the ones most like the paper's)
    after each snapshot's number of steps. Original in blue, decoded in red, as in the paper. A
    learner trained for fewer steps than a column leaves that panel empty, saying so.
    """
    data = pd.read_csv(inputs.curves)
    learners = _learners(data.learner)
    steps = list(snapshot_steps)
    columns = [(curve, step) for curve in PAPER_CURVES for step in steps]

    fig, axes = plt.subplots(
        len(learners),
        len(columns),
        figsize=(7.0, 1.15 * len(learners) + 0.5),
        squeeze=False,
        layout="constrained",
    )
    for row, learner in enumerate(learners):
        for col, (curve, step) in enumerate(columns):
            ax = axes[row, col]
            panel = data[(data.learner == learner) & (data.curve == curve) & (data.step == step)]
            if panel.empty:
                budget = fmt(budgets[learner])
                ax.text(
                    0.5,
                    0.5,
                    f"not run\n({budget} steps\nat this scale)",
                    ha="center",
                    va="center",
                    fontsize="x-small",
                    color="0.4",
                    transform=ax.transAxes,
                )
            else:
                ax.plot(panel.x, panel.original, color=PAPER_COLORS["blue"], linewidth=2.2)
                ax.plot(panel.x, panel.decoded, color=PAPER_COLORS["red"], linewidth=1.0)
            ax.set(xticklabels=[], yticklabels=[])
            ax.tick_params(length=0)
            if row == 0:
                ax.set_title(f"curve {curve}, {fmt(step)} steps", fontsize="x-small")
            if col == 0:
                ax.set_ylabel(LEARNER_LABELS[learner], fontsize="x-small")
    fig.suptitle(
        f"Decoded validation curves (blue: original, red: decoded), seed {figure_seed}",
        fontsize="small",
    )
    return fig


def error_vs_steps(inputs: Any) -> plt.Figure:
    """Validation error of the decoded curves against training steps, one panel per learner
    (Failures §4): the learning curves behind Fig 6's snapshots.

    Relative RMS and relative max error of the decoded validation curves (fractions of each
    curve's range, averaged over the curves), on a log scale: the line is the geometric mean over
    seeds (the mean of log error, which a single spiking seed does not swamp), the band the range
    over seeds.
    """
    progress = pd.read_csv(inputs.progress)
    progress = progress[progress.step > 0]
    long = pd.concat(
        [
            progress.assign(error="relative RMS", value=progress.relative_rms),
            progress.assign(error="relative max", value=progress.relative_max),
        ]
    )
    learners = _learners(long.learner)
    palette = {"relative RMS": PAPER_COLORS["blue"], "relative max": PAPER_COLORS["red"]}

    fig, axes = plt.subplots(
        1,
        len(learners),
        figsize=(DOUBLE_COLUMN[0], 2.6),
        sharey=True,
        squeeze=False,
        layout="constrained",
    )
    for ax, learner in zip(axes[0], learners, strict=True):
        # A log axis set before plotting makes seaborn average log error: the geometric mean.
        ax.set_yscale("log")
        sns.lineplot(
            data=long[long.learner == learner],
            x="step",
            y="value",
            hue="error",
            palette=palette,
            errorbar=("pi", 100),
            linewidth=0.9,
            ax=ax,
            legend=ax is axes[0, 0],
        )
        ax.axhline(EXACT, color="0.3", linestyle=":", linewidth=0.8)
        ax.axhline(INEXACT, color="0.3", linestyle="--", linewidth=0.8)
        ax.set(xlabel="iterations", ylabel="error / range of the curve")
        ax.set_xlim(0, long[long.learner == learner].step.max())
        ax.xaxis.set_major_formatter(lambda x, _: f"{x / 1000:g}k")
        ax.set_title(LEARNER_LABELS[learner], fontsize="small")
    axes[0, 0].legend(title=None, fontsize="x-small", loc="lower left")
    n = progress.groupby("learner").seed.nunique().min()
    fig.suptitle(
        f"Decoded validation curves: geometric mean and range over {n} seeds "
        f"(dotted: RMS {EXACT:g}, exact; dashed: max {INEXACT:g}, inexact)",
        fontsize="small",
    )
    return fig


def condition_numbers(inputs: Any) -> plt.Figure:
    """Condition numbers against the curve length n (Failures §4, Theorem 3 and App. A.6).

    cond(WᵀW) of the fully connected problem (exact), and the 3-tap rows' covariance before and
    after whitening (estimated from sampled curves; mean over sampling seeds with their range as
    a band), on log-log axes; the legend gives each fitted slope.
    """
    table = pd.read_csv(inputs.conditioning)
    fit = pd.read_csv(inputs.fit)
    slopes = fit.groupby(["quantity", "distribution"]).slope.median()

    def label(quantity: str, distribution: str) -> str:
        curves = "" if distribution == "exact" else f", {distribution} curves"
        return f"{QUANTITY_MATHTEXT[quantity]}{curves}: slope {slopes[quantity, distribution]:.2f}"

    table["label"] = [label(q, d) for q, d in zip(table.quantity, table.distribution, strict=True)]
    lines = table[["quantity", "distribution", "label"]].drop_duplicates()
    lines = lines.assign(rank=lines.quantity.map(list(QUANTITY_LABELS).index)).sort_values(
        ["rank", "distribution"]
    )
    palette = {row.label: QUANTITY_COLORS[row.quantity] for row in lines.itertuples()}
    dashes = {
        row.label: (4, 2) if row.distribution == "paper" else (1, 0) for row in lines.itertuples()
    }

    fig, ax = plt.subplots(figsize=(4.8, 3.4), layout="constrained")
    sns.lineplot(
        data=table,
        x="n",
        y="condition_number",
        hue="label",
        hue_order=list(lines.label),
        style="label",
        style_order=list(lines.label),
        palette=palette,
        dashes=dashes,
        errorbar=("pi", 100),
        linewidth=1.2,
        ax=ax,
    )
    ax.set(xscale="log", yscale="log", xlabel="curve length n", ylabel="condition number")
    ax.legend(title=None, fontsize="x-small", loc="upper left")
    samples = int(table.sample_seed.nunique())
    ax.set_title(
        f"Condition numbers against n (band: range over {samples} samples)", fontsize="small"
    )
    return fig
