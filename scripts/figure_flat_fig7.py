"""Fig 7 of Failures of Gradient-Based Deep Learning: learning through a step function.

Panels (a)-(e) as in the paper: the label u(r) (green, dashed) and the learned output (red)
against r = v*ᵀx + b* on the sorted test points: (a) non-flat approximation, with ũ(r) at the
true r (magenta, dashed); (b) end-to-end; (c) multi-class; (d) multi-class zoomed at one class
boundary; (e) forward-only. Each panel shows one representative seed (see flat_analysis).
"""

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from theorydl.flat_analysis import zoom_window
from theorydl.job import log_to
from theorydl.plotting import DOUBLE_COLUMN, PAPER_COLORS, save_figure, use_style

sm = snakemake  # noqa: F821 (injected by Snakemake's script directive)
log_to(sm.log[0])
use_style()
points = pd.read_csv(sm.input.points)
panels = [
    ("(a) non-flat approximation", "non_flat", False),
    ("(b) end-to-end", "end_to_end", False),
    ("(c) multi-class", "multi_class", False),
    ("(d) multi-class, zoomed", "multi_class", True),
    ("(e) forward-only", "forward_only", False),
]

fig, axes = plt.subplots(1, 5, figsize=(DOUBLE_COLUMN[0], 1.9), layout="constrained")
for ax, (title, method, zoomed) in zip(axes, panels, strict=True):
    data = points[points.method == method]
    if zoomed:
        data = zoom_window(data)
    # The label on top of the learned output, as the script draws them: both stay visible.
    ax.plot(data.r, data.prediction, color=PAPER_COLORS["red"], linewidth=0.9, label="learned")
    ax.plot(
        data.r, data.label, "--", color=PAPER_COLORS["green"], linewidth=1.2, label="label u(r)"
    )
    if method == "non_flat":
        ax.plot(
            data.r,
            data.smooth_label,
            "--",
            color=PAPER_COLORS["magenta"],
            linewidth=0.9,
            label="ũ(r)",
        )
    seed = int(data.seed.iloc[0]) if len(data) else "?"
    ax.set_title(f"{title}\nseed {seed}", fontsize="small")
    ax.set_xlabel("r = v*ᵀx + b*", fontsize="small")
    ax.tick_params(labelsize="x-small")
axes[0].set_ylabel("output")
handles, labels = axes[0].get_legend_handles_labels()
fig.legend(handles, labels, loc="outside lower center", ncols=3, fontsize="small", frameon=False)
sns.despine(fig)
save_figure(fig, sm.output, sm.params.script, sm.input)
