"""Fig 1 of Failures of Gradient-Based Deep Learning: parity test accuracy vs SGD iterations."""

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from theorydl.job import log_to
from theorydl.plotting import PAPER_COLORS, SINGLE_COLUMN, save_figure, use_style

sm = snakemake  # noqa: F821 (injected by Snakemake's script directive)
log_to(sm.log[0])
use_style()
curves = pd.read_csv(sm.input.curves)
dims = list(sm.params.dims)
curves = curves[curves.d.isin(dims)]
# A diverged seed's accuracy is NaN from its divergence on: say so in the legend rather than let
# the band quietly lose a seed.
diverged = curves[curves.accuracy.isna()].groupby("d").seed.nunique()
labels = {d: f"d = {d}" + (f" ({diverged[d]} diverged)" if d in diverged else "") for d in dims}
curves = curves.assign(label=curves.d.map(labels))
# Blue, green, red as in the paper for its three curves; more dimensions get seaborn colours.
colors = [PAPER_COLORS["blue"], PAPER_COLORS["green"], PAPER_COLORS["red"]]
colors += sns.color_palette("colorblind", max(0, len(dims) - 3))
palette = {labels[d]: color for d, color in zip(dims, colors, strict=False)}

fig, ax = plt.subplots(figsize=SINGLE_COLUMN)
sns.lineplot(
    data=curves,
    x="step",
    y="accuracy",
    hue="label",
    palette=palette,
    errorbar="sd",
    linewidth=1.0,
    ax=ax,
)
ax.set(
    xlabel="Training Iterations",
    ylabel="Accuracy",
    ylim=(0.35, 1.05),
    xlim=(0, curves.step.max()),
    yticks=[0.5, 1.0],
)
ax.ticklabel_format(axis="x", style="sci", scilimits=(4, 4))
ax.legend(title=None, loc="center right")
n = curves.groupby("d").seed.nunique().min()
ax.set_title(f"Parity: mean and ±1 sd over {n} seeds", fontsize="medium")
save_figure(fig, sm.output, sm.params.script, sm.input)
