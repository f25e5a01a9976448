"""The stocks figures, one function per figure (rule ``stocks_figure_<name>``).

Each takes the rule's inputs (and its config values) and returns the figure;
scripts/figure.py saves it.
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from theorydl.families.stocks.spec import METHOD_NAMES
from theorydl.plotting import DOUBLE_COLUMN, PAPER_COLORS


def fig4_loss(inputs: Any, d: int, ks: list[int]) -> plt.Figure:
    """Fig 4 of Failures of Gradient-Based Deep Learning: the stocks task, loss vs iterations.

    The loss is the E2E objective −zᵀp on fresh samples, for both methods (as the paper plots
    it); one panel per k, red E2E and blue decomposition, mean line and ±1 sd band over seeds.
    """
    curves = pd.read_csv(inputs.curves)
    curves["method"] = curves.method.map(METHOD_NAMES)
    palette = {METHOD_NAMES["e2e"]: PAPER_COLORS["red"], METHOD_NAMES["dec"]: PAPER_COLORS["blue"]}
    ks = list(ks)

    fig, axes = plt.subplots(
        1,
        len(ks),
        figsize=(DOUBLE_COLUMN[0], 2.2),
        sharey=True,
        layout="constrained",
        squeeze=False,
    )
    for ax, k in zip(axes[0], ks, strict=True):
        panel = curves[curves.k == k]
        sns.lineplot(
            data=panel,
            x="step",
            y="loss",
            hue="method",
            hue_order=list(palette),
            palette=palette,
            errorbar="sd",
            linewidth=1.0,
            legend=ax is axes[0][0],
            ax=ax,
        )
        budget = panel.step.max()
        ax.set(
            title=f"k={k}",
            xlabel="Iterations",
            ylabel="Loss" if ax is axes[0][0] else "",
            xlim=(0, budget),
            ylim=(-1.05, 0.1),
            xticks=[0, budget],
            yticks=[-1, 0],
        )
        ax.set_xticklabels(["0", f"{budget:,}"])
    axes[0][0].legend(title=None, loc="center right", fontsize="small")
    n = curves.groupby(["k", "method"]).seed.nunique().min()
    fig.suptitle(
        f"Stocks, d = {d}: E2E objective on fresh samples, mean ± 1 sd over {n} seeds",
        fontsize="medium",
    )
    return fig


def moment_ratio(inputs: Any, d: int) -> plt.Figure:
    """Failures §3.3: second moments of the E2E and decomposition gradient estimators vs k.

    Left: their ratio at initialization, log-log, exact (line) and measured by Monte Carlo over
    autodiff per-example gradients (points, ±1 sd over initializations), against ratio = k.
    Right: the two second moments themselves (exact).
    """
    table = pd.read_csv(inputs.moments)
    red, blue = PAPER_COLORS["red"], PAPER_COLORS["blue"]
    fig, (left, right) = plt.subplots(1, 2, figsize=DOUBLE_COLUMN, layout="constrained")

    ks = sorted(table.k.unique())
    sns.lineplot(
        data=table,
        x="k",
        y="exact_ratio",
        color=red,
        errorbar=("pi", 100),
        linewidth=1.0,
        label="exact",
        ax=left,
    )
    measured = table.groupby("k").measured_ratio.agg(["mean", "std"]).reset_index()
    left.errorbar(
        measured.k,
        measured["mean"],
        yerr=measured["std"].fillna(0.0),
        fmt="o",
        color=red,
        markersize=3,
        markerfacecolor="white",
        elinewidth=0.8,
        label=f"measured ({int(table.samples.iloc[0]):,} samples)",
    )
    # Drawn last and dashed, so that the prediction stays visible where the data lie on it.
    left.plot(
        ks, ks, color="black", linestyle=(0, (2, 3)), linewidth=1.0, label="ratio = k", zorder=3
    )
    left.set(
        xscale="log", yscale="log", xlabel="number of stocks k", ylabel="E2E / Dec second moment"
    )
    left.legend(loc="upper left")

    long = pd.concat(
        [
            table.assign(estimator=r"E2E: $E\,\|\Sigma_i\, z_i G_i\|^2$", value=table.exact_e2e),
            table.assign(estimator=r"Dec: $E\,\|G_y\|^2$", value=table.exact_dec),
        ]
    )
    sns.lineplot(
        data=long,
        x="k",
        y="value",
        hue="estimator",
        palette=[red, blue],
        marker="o",
        markersize=3,
        errorbar=("pi", 100),
        linewidth=1.0,
        ax=right,
    )
    right.set(
        xscale="log",
        yscale="log",
        xlabel="number of stocks k",
        ylabel="per-example second moment",
    )
    right.legend(title=None)
    n = table.init_seed.nunique()
    fig.suptitle(
        f"Gradient second moments at initialization, d = {d} ({n} initializations)",
        fontsize="medium",
    )
    return fig
