"""Fig 4 of Failures of Gradient-Based Deep Learning: the stocks task, loss vs iterations.

The loss is the E2E objective −zᵀp on fresh samples, for both methods (as the paper plots it);
one panel per k, red E2E and blue decomposition, mean line and ±1 sd band over seeds.
"""

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from theorydl.job import log_to
from theorydl.plotting import DOUBLE_COLUMN, PAPER_COLORS, save_figure, use_style
from theorydl.stocks_analysis import METHOD_NAMES

sm = snakemake  # noqa: F821 (injected by Snakemake's script directive)
log_to(sm.log[0])
use_style()
curves = pd.read_csv(sm.input.curves)
curves["method"] = curves.method.map(METHOD_NAMES)
palette = {METHOD_NAMES["e2e"]: PAPER_COLORS["red"], METHOD_NAMES["dec"]: PAPER_COLORS["blue"]}
ks = list(sm.params.ks)

fig, axes = plt.subplots(
    1, len(ks), figsize=(DOUBLE_COLUMN[0], 2.2), sharey=True, layout="constrained", squeeze=False
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
    f"Stocks, d = {sm.params.d}: E2E objective on fresh samples, mean ± 1 sd over {n} seeds",
    fontsize="medium",
)
save_figure(fig, sm.output, sm.params.script, sm.input)
