"""Theorem 1: the variance across parity targets of the loss gradient, against its bound G²/2^d."""

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from theorydl.job import log_to
from theorydl.plotting import PAPER_COLORS, SINGLE_COLUMN, save_figure, use_style

sm = snakemake  # noqa: F821 (injected by Snakemake's script directive)
log_to(sm.log[0])
use_style()
table = pd.read_csv(sm.input.gradvar)
long = pd.concat(
    [
        table.assign(quantity="Var over targets (exact)", value=table.variance),
        table.assign(quantity="bound G²/2^d", value=table.bound),
    ]
)
fig, ax = plt.subplots(figsize=SINGLE_COLUMN)
sns.lineplot(
    data=long,
    x="d",
    y="value",
    hue="quantity",
    style="quantity",
    palette=[PAPER_COLORS["blue"], PAPER_COLORS["red"]],
    dashes=[(1, 0), (4, 2)],
    markers=["o", "X"],
    errorbar=("pi", 100),
    markersize=3,
    linewidth=1.0,
    ax=ax,
)
ax.set_yscale("log", base=2)
ax.set(xlabel="input dimension d", ylabel="gradient variance at initialization")
n = table.init_seed.nunique()
ax.set_title(f"Theorem 1 (range over {n} initializations)", fontsize="medium")
ax.legend(title=None)
save_figure(fig, sm.output, sm.params.script, sm.input)
