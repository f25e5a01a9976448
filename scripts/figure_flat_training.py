"""Training of the four learners of Failures §5 against steps: training loss (MSE for three of
them, cross-entropy for multi-class) and the test error that compares them all (relative RMS).
Mean line over seeds, band from the lowest to the highest seed.
"""

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.ticker import FuncFormatter, NullFormatter

from theorydl.flat_analysis import METHOD_NAMES, METHODS
from theorydl.job import log_to
from theorydl.plotting import DOUBLE_COLUMN, save_figure, use_style

sm = snakemake  # noqa: F821 (injected by Snakemake's script directive)
log_to(sm.log[0])
use_style()
curves = pd.read_csv(sm.input.curves)
curves = curves[curves.step > 0].assign(learner=lambda t: t.method.map(METHOD_NAMES))
palette = dict(
    zip((METHOD_NAMES[m] for m in METHODS), sns.color_palette("colorblind", 4), strict=True)
)
mse = [METHOD_NAMES[m] for m in METHODS if m != "multi_class"]
panels = [
    ("training MSE", curves[(curves.split == "train") & curves.learner.isin(mse)]),
    (
        "training cross-entropy",
        curves[(curves.split == "train") & (curves.method == "multi_class")],
    ),
    (
        "test error (relative RMS)",
        curves[(curves.split == "test") & (curves.metric == "relative_rms")],
    ),
]

fig, axes = plt.subplots(1, 3, figsize=DOUBLE_COLUMN, layout="constrained")
for ax, (ylabel, data) in zip(axes, panels, strict=True):
    sns.lineplot(
        data=data,
        x="step",
        y="value",
        hue="learner",
        palette=palette,
        estimator="mean",
        errorbar=("pi", 100),
        linewidth=1.0,
        ax=ax,
        legend=False,
    )
    ax.set(yscale="log", xlabel="Training Iterations", ylabel=ylabel, xlim=(0, None))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x / 1000:g}k" if x else "0"))
    ax.yaxis.set_minor_formatter(NullFormatter())
handles = [plt.Line2D([], [], color=palette[name], label=name) for name in palette]
fig.legend(handles=handles, loc="outside lower center", ncols=4, fontsize="small", frameon=False)
n = curves.groupby("method").seed.nunique().min()
fig.suptitle(
    f"Learning through a step function: mean over {n} seeds, band from lowest to highest",
    fontsize="medium",
)
sns.despine(fig)
save_figure(fig, sm.output, sm.params.script, sm.input)
