"""Fig 3 of Failures of Gradient-Based Deep Learning: tuple test accuracy against iterations,
end-to-end (red) vs decomposition (blue), one panel per k; mean and ±1 sd band over seeds.

The dotted line is the parity ceiling (1 + (2a − 1)^k)/2 of the decomposition runs' own image
accuracy a (median over seeds): what k independent image guesses allow.
"""

import matplotlib.pyplot as plt
import matplotlib.ticker as ticker
import pandas as pd
import seaborn as sns

from theorydl.job import log_to
from theorydl.plotting import PAPER_COLORS, save_figure, use_style
from theorydl.tuples_analysis import METHOD_NAMES

sm = snakemake  # noqa: F821 (injected by Snakemake's script directive)
log_to(sm.log[0])
use_style()
curves = pd.read_csv(sm.input.curves)
seeds = pd.read_csv(sm.input.seeds)
curves["method"] = curves.method.map(METHOD_NAMES)
palette = {"end-to-end": PAPER_COLORS["red"], "decomposition": PAPER_COLORS["blue"]}
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
        title=f"k = {k}", xlabel="iterations", ylabel="", ylim=(0.3, 1.0), yticks=[0.3, 0.5, 1.0]
    )
    ax.set_xlim(0, curves.step.max())
    ax.xaxis.set_major_locator(ticker.MaxNLocator(3, integer=True))
    ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda x, _: f"{x:,.0f}".replace(",", " ")))
axes[0, 0].set_ylabel("test accuracy (tuples)")
handles, labels = axes[0, -1].get_legend_handles_labels()
axes[0, -1].get_legend().remove()
handles.append(plt.Line2D([], [], color="0.4", linestyle=":", linewidth=1.0))
labels.append("parity ceiling of decomposition")
fig.legend(handles, labels, loc="outside lower center", ncol=3, frameon=False)
n = curves.groupby(["method", "k"]).seed.nunique().min()
fig.suptitle(f"Tuples of line images: mean and ±1 sd over {n} seeds", fontsize="medium")
save_figure(fig, sm.output, sm.params.script, sm.input)
