"""Steps for SGD to reach 99% test accuracy on a parity, vs d and vs the parity's degree |S|.

Seeds that never get there within their budget are drawn as open triangles at the budget
(censored), never dropped.
"""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from theorydl.job import log_to
from theorydl.plotting import DOUBLE_COLUMN, save_figure, use_style

sm = snakemake  # noqa: F821 (injected by Snakemake's script directive)
log_to(sm.log[0])
use_style()
table = pd.read_csv(sm.input.seeds)
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
fig.legend(handles, labels, loc="outside lower center", ncols=3, fontsize="small", frameon=False)
fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=cmap), ax=axes, label="|S|", pad=0.01)
sns.despine(fig)
save_figure(fig, sm.output, sm.params.script, sm.input)
