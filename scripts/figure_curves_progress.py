"""Validation error of the decoded curves against training steps, one panel per learner
(Failures §4): the learning curves behind Fig 6's snapshots.

Relative RMS and relative max error of the decoded validation curves (fractions of each curve's
range, averaged over the curves), on a log scale: the line is the geometric mean over seeds (the
mean of log error, which a single spiking seed does not swamp), the band the range over seeds.
"""

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from theorydl.curves_analysis import EXACT, LEARNER_LABELS
from theorydl.job import log_to
from theorydl.plotting import DOUBLE_COLUMN, PAPER_COLORS, save_figure, use_style

INEXACT = 0.02  # relative max error above which the claims call a learner inexact at the kinks

sm = snakemake  # noqa: F821 (injected by Snakemake's script directive)
log_to(sm.log[0])
use_style()
progress = pd.read_csv(sm.input.progress)
progress = progress[progress.step > 0]
long = pd.concat(
    [
        progress.assign(error="relative RMS", value=progress.relative_rms),
        progress.assign(error="relative max", value=progress.relative_max),
    ]
)
learners = [name for name in LEARNER_LABELS if name in set(long.learner)]
palette = {"relative RMS": PAPER_COLORS["blue"], "relative max": PAPER_COLORS["red"]}


fig, axes = plt.subplots(
    1,
    len(learners),
    figsize=(DOUBLE_COLUMN[0], 2.6),
    sharey=True,
    squeeze=False,
    layout="constrained",
)
for ax, learner in zip(axes[0], learners, strict=True):
    # A log axis set before plotting makes seaborn average log error: the geometric mean.
    ax.set_yscale("log")
    sns.lineplot(
        data=long[long.learner == learner],
        x="step",
        y="value",
        hue="error",
        palette=palette,
        errorbar=("pi", 100),
        linewidth=0.9,
        ax=ax,
        legend=ax is axes[0, 0],
    )
    ax.axhline(EXACT, color="0.3", linestyle=":", linewidth=0.8)
    ax.axhline(INEXACT, color="0.3", linestyle="--", linewidth=0.8)
    ax.set(xlabel="iterations", ylabel="error / range of the curve")
    ax.set_xlim(0, long[long.learner == learner].step.max())
    ax.xaxis.set_major_formatter(lambda x, _: f"{x / 1000:g}k")
    ax.set_title(LEARNER_LABELS[learner], fontsize="small")
axes[0, 0].legend(title=None, fontsize="x-small", loc="lower left")
n = progress.groupby("learner").seed.nunique().min()
fig.suptitle(
    f"Decoded validation curves: geometric mean and range over {n} seeds "
    f"(dotted: RMS {EXACT:g}, exact; dashed: max {INEXACT:g}, inexact)",
    fontsize="small",
)
save_figure(fig, sm.output, sm.params.script, sm.input)
