"""Theorem 1: the variance across parity targets of the loss gradient, against its bound G²/2^d.

Left: both on a log₂ scale against d. Right: their ratio, which the theorem says is at most 1.
"""

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from theorydl.job import log_to
from theorydl.plotting import DOUBLE_COLUMN, PAPER_COLORS, save_figure, use_style

sm = snakemake  # noqa: F821 (injected by Snakemake's script directive)
log_to(sm.log[0])
use_style()
table = pd.read_csv(sm.input.gradvar)
long = pd.concat(
    [
        table.assign(quantity="Var across targets (exact)", value=table.variance),
        table.assign(quantity="bound G²/2^d", value=table.bound),
    ]
)
blue, red = PAPER_COLORS["blue"], PAPER_COLORS["red"]
fig, (left, right) = plt.subplots(1, 2, figsize=DOUBLE_COLUMN, layout="constrained")
sns.lineplot(
    data=long,
    x="d",
    y="value",
    hue="quantity",
    style="quantity",
    palette=[blue, red],
    dashes=[(1, 0), (4, 2)],
    markers=["o", "X"],
    errorbar=("pi", 100),
    markersize=3,
    linewidth=1.0,
    ax=left,
)
left.set_yscale("log", base=2)
left.set(xlabel="input dimension d", ylabel="gradient variance at initialization")
left.legend(title=None)
sns.lineplot(
    data=table,
    x="d",
    y="ratio",
    color=blue,
    marker="o",
    markersize=3,
    errorbar=("pi", 100),
    linewidth=1.0,
    ax=right,
)
right.axhline(1.0, color=red, linestyle="--", linewidth=1.0, label="Theorem 1 bound")
right.set(xlabel="input dimension d", ylabel="Var / (G²/2^d)", ylim=(0, 1.1))
right.legend(loc="lower right")
n = table.init_seed.nunique()
fig.suptitle(
    f"Theorem 1, exact over all 2^d inputs (range over {n} initializations)", fontsize="medium"
)
for ax in (left, right):
    ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
save_figure(fig, sm.output, sm.params.script, sm.input)
