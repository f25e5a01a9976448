"""Weight sharing, Fig 3: the Walsh view.

Left: the learned fraction of each character (degree 1 … J) against training epochs, one panel
per support layout × architecture, at one patch dimension d; mean and ±1 sd over seeds.
Right: the highest degree learned (fraction ≥ 0.5 at the end) against d, one point per seed
(jittered) and the median, shared vs local, disjoint (solid) and nested (dashed) supports.
"""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from theorydl.job import log_to
from theorydl.plotting import save_figure, use_style
from theorydl.sharing_analysis import ARCHITECTURE_COLORS as COLORS

sm = snakemake  # noqa: F821 (injected by Snakemake's script directive)
log_to(sm.log[0])
use_style()
LINES = {"disjoint": "-", "nested": "--"}

walsh = sm.params.walsh
curves = pd.read_csv(sm.input.curves)
seeds = pd.read_csv(sm.input.seeds)
layouts, archs = list(walsh["dims"]), list(walsh["architectures"])
degrees = sorted(curves.degree.unique()) if len(curves) else [1]
palette = dict(zip(degrees, sns.color_palette("viridis", len(degrees)), strict=True))

fig = plt.figure(figsize=(2.3 * len(archs) + 3.2, 2.0 * len(layouts) + 0.8), layout="constrained")
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
        group.d * jitter, group.highest_degree, s=8, color=COLORS[arch], alpha=0.45, linewidths=0
    )
    median = group.groupby("d").highest_degree.median()
    ax.plot(
        median.index,
        median.values,
        LINES[layout],
        marker="o",
        markersize=3,
        color=COLORS[arch],
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
save_figure(fig, sm.output, sm.params.script, sm.input)
