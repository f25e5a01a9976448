"""Fig 6 of Failures of Gradient-Based Deep Learning: decoded piecewise-linear curves.

Rows: the four learners; columns: two validation curves (the ones most like the paper's) after
each snapshot's number of steps. Original in blue, decoded in red, as in the paper. A learner
trained for fewer steps than a column leaves that panel empty, saying so.
"""

import matplotlib.pyplot as plt
import pandas as pd

from theorydl.curves_analysis import LEARNER_LABELS, PAPER_CURVES
from theorydl.job import log_to
from theorydl.plotting import PAPER_COLORS, save_figure, use_style
from theorydl.tables import fmt

sm = snakemake  # noqa: F821 (injected by Snakemake's script directive)
log_to(sm.log[0])
use_style()
data = pd.read_csv(sm.input.curves)
learners = [name for name in LEARNER_LABELS if name in set(data.learner)]
steps = list(sm.params.snapshot_steps)
columns = [(curve, step) for curve in PAPER_CURVES for step in steps]

fig, axes = plt.subplots(
    len(learners),
    len(columns),
    figsize=(7.0, 1.15 * len(learners) + 0.5),
    squeeze=False,
    layout="constrained",
)
for row, learner in enumerate(learners):
    for col, (curve, step) in enumerate(columns):
        ax = axes[row, col]
        panel = data[(data.learner == learner) & (data.curve == curve) & (data.step == step)]
        if panel.empty:
            budget = fmt(sm.params.budgets[learner])
            ax.text(
                0.5,
                0.5,
                f"not run\n({budget} steps\nat this scale)",
                ha="center",
                va="center",
                fontsize="x-small",
                color="0.4",
                transform=ax.transAxes,
            )
        else:
            ax.plot(panel.x, panel.original, color=PAPER_COLORS["blue"], linewidth=2.2)
            ax.plot(panel.x, panel.decoded, color=PAPER_COLORS["red"], linewidth=1.0)
        ax.set(xticklabels=[], yticklabels=[])
        ax.tick_params(length=0)
        if row == 0:
            ax.set_title(f"curve {curve}, {fmt(step)} steps", fontsize="x-small")
        if col == 0:
            ax.set_ylabel(LEARNER_LABELS[learner], fontsize="x-small")
fig.suptitle(
    f"Decoded validation curves (blue: original, red: decoded), seed {sm.params.figure_seed}",
    fontsize="small",
)
save_figure(fig, sm.output, sm.params.script, sm.input)
