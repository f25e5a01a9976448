"""Weight sharing, Fig 2: final held-out loss against the frequency ω and against C.

One panel per target of the ω sweep (mixed, and high if run) and one for the C sweep of the
mixed target; shared vs local vs dense, mean and ±1 sd over seeds. The dotted line is the cos
part's share of the target's variance: where a network that learns only the linear part, and
can ignore the cos part, would stop.
"""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.lines import Line2D

from theorydl.job import log_to
from theorydl.plotting import save_figure, use_style
from theorydl.sharing_analysis import ARCHITECTURE_COLORS as COLORS

sm = snakemake  # noqa: F821 (injected by Snakemake's script directive)
log_to(sm.log[0])
use_style()
DASHES = {"known": "", "learned": (4, 2)}

runs = pd.read_csv(sm.input.runs)
runs = runs[(runs.patches == "gaussian") & (runs.target != "walsh")]
omega_sweep, mix_sweep = sm.params.omega_sweep, sm.params.mix_sweep
panels = []
for target in omega_sweep["targets"]:
    rows = runs[
        (runs.target == target)
        & runs.omega.isin(omega_sweep["omegas"])
        & runs.g.isin(omega_sweep["g"])
        & ((target == "high") | np.isclose(runs.mix, omega_sweep["mix"]))
    ]
    title = f"{target}, C = {omega_sweep['mix']:g}" if target == "mixed" else target
    panels.append((rows, "omega", "frequency ω", title))
rows = runs[
    (runs.target == "mixed")
    & np.isclose(runs.omega, mix_sweep["omega"])
    & runs.mix.isin(mix_sweep["mixes"])
    & runs.g.isin(mix_sweep["g"])
]
panels.append((rows, "mix", "weight C of the linear part", f"mixed, ω = {mix_sweep['omega']:g}"))

fig, axes = plt.subplots(
    1, len(panels), figsize=(2.6 * len(panels) + 0.6, 2.7), squeeze=False, layout="constrained"
)
for ax, (rows, axis, label, title) in zip(axes[0], panels, strict=True):
    sns.lineplot(
        data=rows,
        x=axis,
        y="final_loss",
        hue="architecture",
        hue_order=[a for a in COLORS if a in set(rows.architecture)],
        palette=COLORS,
        style="g",
        style_order=[g for g in DASHES if g in set(rows.g)],
        dashes=DASHES,
        markers=True,
        errorbar="sd",
        err_style="bars",
        linewidth=1.0,
        markersize=4,
        legend=False,
        ax=ax,
    )
    share = rows[rows.target == "mixed"].groupby(axis).wave_share.mean()
    if len(share):
        ax.plot(share.index, share.values, color="k", linestyle=":", linewidth=1.0)
    ax.axhline(1.0, color="0.4", linestyle=":", linewidth=0.6)
    ax.set(xlabel=label, ylabel="", title=title, ylim=(-0.05, None))
    if axis == "mix":
        ax.set_xscale("log", base=2)
        ax.minorticks_off()
    ticks = sorted(rows[axis].unique())
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
axes[0, 0].set_ylabel("final held-out loss / Var(y)")
handles = [Line2D([], [], color=c, marker="o", markersize=3, label=a) for a, c in COLORS.items()]
regimes = [g for g in DASHES if any(g in set(rows.g) for rows, *_ in panels)]
if len(regimes) > 1:
    handles += [
        Line2D([], [], color="0.3", linestyle="-" if g == "known" else "--", label=f"g {g}")
        for g in regimes
    ]
handles.append(Line2D([], [], color="k", linestyle=":", label="cos part's share"))
fig.legend(handles=handles, loc="outside right center", fontsize="x-small", frameon=False)
n = runs.groupby("variant").seed.nunique().min()
fig.suptitle(f"Final loss, mean ± 1 sd over {n} seeds", fontsize="medium")
save_figure(fig, sm.output, sm.params.script, sm.input)
