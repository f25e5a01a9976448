"""Condition numbers against the curve length n (Failures §4, Theorem 3 and App. A.6).

cond(WᵀW) of the fully connected problem (exact), and the 3-tap rows' covariance before and
after whitening (estimated from sampled curves; mean over sampling seeds with their range as a
band), on log-log axes; the legend gives each fitted slope.
"""

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from theorydl.curves_analysis import QUANTITY_LABELS
from theorydl.job import log_to
from theorydl.plotting import PAPER_COLORS, save_figure, use_style

sm = snakemake  # noqa: F821 (injected by Snakemake's script directive)
log_to(sm.log[0])
use_style()
table = pd.read_csv(sm.input.conditioning)
fit = pd.read_csv(sm.input.fit)
slopes = fit.groupby(["quantity", "distribution"]).slope.median()
LABELS = {  # mathtext for the figure; the tables use QUANTITY_LABELS' plain text
    "fc_gram": r"fully connected, cond($W^\top W$)",
    "conv_covariance": "3-tap rows, cond($C$)",
    "conv_whitened": "3-tap rows whitened",
}
COLORS = {
    "fc_gram": PAPER_COLORS["red"],
    "conv_covariance": PAPER_COLORS["blue"],
    "conv_whitened": PAPER_COLORS["green"],
}


def label(quantity: str, distribution: str) -> str:
    curves = "" if distribution == "exact" else f", {distribution} curves"
    return f"{LABELS[quantity]}{curves}: slope {slopes[quantity, distribution]:.2f}"


table["label"] = [label(q, d) for q, d in zip(table.quantity, table.distribution, strict=True)]
lines = table[["quantity", "distribution", "label"]].drop_duplicates()
lines = lines.assign(rank=lines.quantity.map(list(QUANTITY_LABELS).index)).sort_values(
    ["rank", "distribution"]
)
palette = {row.label: COLORS[row.quantity] for row in lines.itertuples()}
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
ax.set_title(f"Condition numbers against n (band: range over {samples} samples)", fontsize="small")
save_figure(fig, sm.output, sm.params.script, sm.input)
