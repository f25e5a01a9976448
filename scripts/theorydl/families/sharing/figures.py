"""The weight-sharing figures, one function per figure (rule ``sharing_figure_<name>``).

Each takes the rule's inputs (and its config values) and returns the figure;
scripts/figure.py saves it.
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.lines import Line2D

from theorydl.plotting import PAPER_COLORS

# The paper's blue and red for the ablation's two arms, green for dense.
ARCHITECTURE_COLORS = {
    "shared": PAPER_COLORS["blue"],
    "local": PAPER_COLORS["red"],
    "dense": PAPER_COLORS["green"],
}


def fig1_curves(inputs: Any, curves: dict[str, Any]) -> plt.Figure:
    """Fig 1: held-out loss against epochs, targets × g regimes, shared vs local vs dense.

    Columns are the targets (low, high, mixed), rows the g regimes (known, learned), on Gaussian
    patches. Mean line and ±1 sd band over seeds."""
    return _loss_curves(inputs, curves, ["gaussian"])


def fig4_natural(inputs: Any, natural: dict[str, Any]) -> plt.Figure:
    """Fig 4: Fig 1's g-known row on windows of real images (scikit-learn's digits, MNIST).

    The same grid as Fig 1, one row per image source and g regime of the ``natural`` block; mean
    line and ±1 sd band over seeds."""
    return _loss_curves(inputs, natural, list(natural["patches"]))


PATCH_NAMES = {
    "gaussian": "Gaussian patches",
    "digits": "digit windows",
    "mnist": "MNIST windows",
}


def _loss_curves(inputs: Any, setting: dict[str, Any], sources: list[str]) -> plt.Figure:
    """Held-out loss against epochs: one panel per target (columns) and per patch source and g
    regime (rows) of ``setting``, shared vs local vs dense; mean line and ±1 sd band over seeds."""
    titles = {"low": "low: $z_1$", "high": "high: $\\cos(\\omega\\Sigma z)$", "mixed": "mixed"}

    curves = pd.read_csv(inputs.curves)
    curves = curves[curves.patches.isin(sources)]
    on_frequency = curves.omega.isna() | np.isclose(curves.omega, setting["omega"])
    on_mix = curves.mix.isna() | np.isclose(curves.mix, setting["mix"])
    curves = curves[on_frequency & on_mix]
    targets = list(setting["targets"])
    rows = [(source, g) for source in sources for g in setting["g"]]

    fig, axes = plt.subplots(
        len(rows),
        len(targets),
        figsize=(2.4 * len(targets) + 0.4, 2.0 * len(rows) + 0.6),
        sharex=True,
        squeeze=False,
        layout="constrained",
    )
    for row, (source, g) in enumerate(rows):
        for col, target in enumerate(targets):
            ax = axes[row, col]
            panel = curves[(curves.patches == source) & (curves.g == g) & (curves.target == target)]
            sns.lineplot(
                data=panel,
                x="epoch",
                y="normalised_loss",
                hue="architecture",
                hue_order=[a for a in ARCHITECTURE_COLORS if a in set(panel.architecture)],
                palette=ARCHITECTURE_COLORS,
                errorbar="sd",
                linewidth=1.0,
                legend=row == 0 and col == 0,
                ax=ax,
            )
            ax.axhline(1.0, color="0.4", linestyle=":", linewidth=0.8)
            top = max(2.2, float(panel.normalised_loss.max()) * 1.05)
            ax.set(ylim=(-0.05, top), xlabel="", ylabel="")
            title = titles[target]
            if target == "mixed":
                title += f", C = {setting['mix']:g}"
            if target != "low":
                title += f", ω = {setting['omega']:g}"
            if row == 0:
                ax.set_title(title, fontsize="medium")
        source_name = f"{PATCH_NAMES[source]}, " if len(sources) > 1 else ""
        axes[row, 0].set_ylabel(f"{source_name}g {g}\nheld-out loss / Var(y)")
    for ax in axes[-1]:
        ax.set_xlabel("epoch")
    if axes[0, 0].get_legend() is not None:
        sns.move_legend(axes[0, 0], "upper right", title=None, fontsize="small")
    n = curves.groupby("variant").seed.nunique().min() if len(curves) else 0
    where = " and ".join(PATCH_NAMES[source] for source in sources)
    where = where[:1].upper() + where[1:]
    fig.suptitle(
        f"{where}: mean and ±1 sd over {n} seeds (dotted: predicting the mean)", fontsize="medium"
    )
    return fig


def fig2_frequency(
    inputs: Any, omega_sweep: dict[str, Any], mix_sweep: dict[str, Any]
) -> plt.Figure:
    """Fig 2: final held-out loss against the frequency ω and against C.

    One panel per target of the ω sweep (mixed, and high if run) and one for the C sweep of the
    mixed target; shared vs local vs dense, mean and ±1 sd over seeds. The dotted line is the cos
    part's share of the target's variance: where a network that learns only the linear part, and
    can ignore the cos part, would stop."""
    dashes = {"known": "", "learned": (4, 2)}

    runs = pd.read_csv(inputs.runs)
    runs = runs[(runs.patches == "gaussian") & (runs.target != "walsh")]
    panels = []
    for target in omega_sweep["targets"]:
        rows = runs[
            (runs.target == target)
            & runs.omega.isin(omega_sweep["omegas"])
            & runs.g.isin(omega_sweep["g"])
            & ((target == "high") | np.isclose(runs.mix, omega_sweep["mix"]))
        ]
        title = f"{target}, C = {omega_sweep['mix']:g}" if target == "mixed" else target
        panels.append((rows, "omega", "frequency ω", title))
    rows = runs[
        (runs.target == "mixed")
        & np.isclose(runs.omega, mix_sweep["omega"])
        & runs.mix.isin(mix_sweep["mixes"])
        & runs.g.isin(mix_sweep["g"])
    ]
    panels.append(
        (rows, "mix", "weight C of the linear part", f"mixed, ω = {mix_sweep['omega']:g}")
    )

    fig, axes = plt.subplots(
        1, len(panels), figsize=(2.6 * len(panels) + 0.6, 2.7), squeeze=False, layout="constrained"
    )
    for ax, (rows, axis, label, title) in zip(axes[0], panels, strict=True):
        sns.lineplot(
            data=rows,
            x=axis,
            y="final_loss",
            hue="architecture",
            hue_order=[a for a in ARCHITECTURE_COLORS if a in set(rows.architecture)],
            palette=ARCHITECTURE_COLORS,
            style="g",
            style_order=[g for g in dashes if g in set(rows.g)],
            dashes=dashes,
            markers=True,
            errorbar="sd",
            err_style="bars",
            linewidth=1.0,
            markersize=4,
            legend=False,
            ax=ax,
        )
        share = rows[rows.target == "mixed"].groupby(axis).wave_share.mean()
        if len(share):
            ax.plot(share.index, share.values, color="k", linestyle=":", linewidth=1.0)
        ax.axhline(1.0, color="0.4", linestyle=":", linewidth=0.6)
        ax.set(xlabel=label, ylabel="", title=title, ylim=(-0.05, None))
        if axis == "mix":
            ax.set_xscale("log", base=2)
            ax.minorticks_off()
        ticks = sorted(rows[axis].unique())
        ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    axes[0, 0].set_ylabel("final held-out loss / Var(y)")
    handles = [
        Line2D([], [], color=c, marker="o", markersize=3, label=a)
        for a, c in ARCHITECTURE_COLORS.items()
    ]
    regimes = [g for g in dashes if any(g in set(rows.g) for rows, *_ in panels)]
    if len(regimes) > 1:
        handles += [
            Line2D([], [], color="0.3", linestyle="-" if g == "known" else "--", label=f"g {g}")
            for g in regimes
        ]
    handles.append(Line2D([], [], color="k", linestyle=":", label="cos part's share"))
    fig.legend(handles=handles, loc="outside right center", fontsize="x-small", frameon=False)
    n = runs.groupby("variant").seed.nunique().min()
    fig.suptitle(f"Final loss, mean ± 1 sd over {n} seeds", fontsize="medium")
    return fig


def fig3_walsh(inputs: Any, walsh: dict[str, Any]) -> plt.Figure:
    """Fig 3, the Walsh view: learned fraction per degree over training, highest degree vs d.

    Left: the learned fraction of each character (degree 1 … J) against training epochs, one panel
    per support layout × architecture, at one patch dimension d; mean and ±1 sd over seeds.
    Right: the highest degree learned (fraction ≥ 0.5 at the end) against d, one point per seed
    (jittered) and the median, shared vs local, disjoint (solid) and nested (dashed) supports."""
    lines = {"disjoint": "-", "nested": "--"}

    curves = pd.read_csv(inputs.curves)
    seeds = pd.read_csv(inputs.seeds)
    layouts, archs = list(walsh["dims"]), list(walsh["architectures"])
    degrees = sorted(curves.degree.unique()) if len(curves) else [1]
    palette = dict(zip(degrees, sns.color_palette("viridis", len(degrees)), strict=True))

    fig = plt.figure(
        figsize=(2.3 * len(archs) + 3.2, 2.0 * len(layouts) + 0.8), layout="constrained"
    )
    grid = fig.add_gridspec(len(layouts), len(archs) + 1, width_ratios=[1] * len(archs) + [1.4])
    first = None
    for row, layout in enumerate(layouts):
        for col, arch in enumerate(archs):
            ax = fig.add_subplot(grid[row, col], sharex=first, sharey=first)
            first = first or ax
            panel = curves[(curves.layout == layout) & (curves.architecture == arch)]
            sns.lineplot(
                data=panel,
                x="epoch",
                y="fraction",
                hue="degree",
                palette=palette,
                errorbar="sd",
                linewidth=1.0,
                legend=row == 0 and col == 0,
                ax=ax,
            )
            ax.axhline(0.5, color="0.4", linestyle=":", linewidth=0.6)
            ax.set(ylim=(-0.1, 1.15), title=f"{arch}, {layout}", xlabel="", ylabel="")
            if row == len(layouts) - 1:
                ax.set_xlabel("epoch")
            if col == 0:
                ax.set_ylabel(f"learned fraction (d = {walsh['curve_dim']})")
            if ax.get_legend() is not None:
                sns.move_legend(ax, "lower right", title="degree", fontsize="x-small", ncols=2)

    ax = fig.add_subplot(grid[:, -1])
    rng = np.random.default_rng(0)  # horizontal jitter only, so that overlapping seeds stay visible
    for (layout, arch), group in seeds.groupby(["layout", "architecture"]):
        jitter = np.exp(rng.uniform(-0.06, 0.06, len(group)))
        ax.scatter(
            group.d * jitter,
            group.highest_degree,
            s=8,
            color=ARCHITECTURE_COLORS[arch],
            alpha=0.45,
            linewidths=0,
        )
        median = group.groupby("d").highest_degree.median()
        ax.plot(
            median.index,
            median.values,
            lines[layout],
            marker="o",
            markersize=3,
            color=ARCHITECTURE_COLORS[arch],
            linewidth=1.2,
            label=f"{arch}, {layout}",
        )
    ax.set(
        xscale="log",
        xlabel="patch dimension d",
        ylabel="highest degree learned (fraction ≥ 0.5)",
        yticks=range(0, len(degrees) + 1),
        ylim=(-0.3, len(degrees) + 0.3),
        title="median (line) and seeds (dots)",
    )
    if len(seeds):
        ax.minorticks_off()
        ax.set_xticks(sorted(seeds.d.unique()), [str(d) for d in sorted(seeds.d.unique())])
        ax.legend(fontsize="x-small", loc="lower left")
    n = seeds.groupby(["layout", "architecture", "d"]).seed.nunique().min() if len(seeds) else 0
    fig.suptitle(f"Walsh view: mean and ±1 sd over {n} seeds", fontsize="medium")
    return fig
