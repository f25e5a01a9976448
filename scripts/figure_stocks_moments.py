"""Failures §3.3: second moments of the E2E and decomposition gradient estimators vs k.

Left: their ratio at initialization, log-log, exact (line) and measured by Monte Carlo over
autodiff per-example gradients (points, ±1 sd over initializations), against ratio = k.
Right: the two second moments themselves (exact).
"""

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from theorydl.job import log_to
from theorydl.plotting import DOUBLE_COLUMN, PAPER_COLORS, save_figure, use_style

sm = snakemake  # noqa: F821 (injected by Snakemake's script directive)
log_to(sm.log[0])
use_style()
table = pd.read_csv(sm.input.moments)
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
left.plot(ks, ks, color="black", linestyle=(0, (2, 3)), linewidth=1.0, label="ratio = k", zorder=3)
left.set(xscale="log", yscale="log", xlabel="number of stocks k", ylabel="E2E / Dec second moment")
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
    f"Gradient second moments at initialization, d = {sm.params.d} ({n} initializations)",
    fontsize="medium",
)
save_figure(fig, sm.output, sm.params.script, sm.input)
