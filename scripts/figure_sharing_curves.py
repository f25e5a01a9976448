"""Weight sharing, Figs 1 and 4: held-out loss against epochs, shared vs local vs dense.

Columns are the targets (low, high, mixed), rows the g regimes (known, learned); Fig 4 is the
same grid on patches cut from scikit-learn's digits. Mean line and ±1 sd band over seeds.
"""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from theorydl.job import log_to
from theorydl.plotting import save_figure, use_style
from theorydl.sharing_analysis import ARCHITECTURE_COLORS as COLORS

sm = snakemake  # noqa: F821 (injected by Snakemake's script directive)
log_to(sm.log[0])
use_style()
TITLES = {"low": "low: $z_1$", "high": "high: $\\cos(\\omega\\Sigma z)$", "mixed": "mixed"}

setting = sm.params.curves
curves = pd.read_csv(sm.input.curves)
curves = curves[curves.patches == sm.params.patches]
on_frequency = curves.omega.isna() | np.isclose(curves.omega, setting["omega"])
on_mix = curves.mix.isna() | np.isclose(curves.mix, setting["mix"])
curves = curves[on_frequency & on_mix]
targets, regimes = list(setting["targets"]), list(setting["g"])

fig, axes = plt.subplots(
    len(regimes),
    len(targets),
    figsize=(2.4 * len(targets) + 0.4, 2.0 * len(regimes) + 0.6),
    sharex=True,
    squeeze=False,
    layout="constrained",
)
for row, g in enumerate(regimes):
    for col, target in enumerate(targets):
        ax = axes[row, col]
        panel = curves[(curves.g == g) & (curves.target == target)]
        sns.lineplot(
            data=panel,
            x="epoch",
            y="normalised_loss",
            hue="architecture",
            hue_order=[a for a in COLORS if a in set(panel.architecture)],
            palette=COLORS,
            errorbar="sd",
            linewidth=1.0,
            legend=row == 0 and col == 0,
            ax=ax,
        )
        ax.axhline(1.0, color="0.4", linestyle=":", linewidth=0.8)
        top = max(2.2, float(panel.normalised_loss.max()) * 1.05)
        ax.set(ylim=(-0.05, top), xlabel="", ylabel="")
        title = TITLES[target]
        if target == "mixed":
            title += f", C = {setting['mix']:g}"
        if target != "low":
            title += f", ω = {setting['omega']:g}"
        if row == 0:
            ax.set_title(title, fontsize="medium")
    axes[row, 0].set_ylabel(f"g {g}\nheld-out loss / Var(y)")
for ax in axes[-1]:
    ax.set_xlabel("epoch")
if axes[0, 0].get_legend() is not None:
    sns.move_legend(axes[0, 0], "upper right", title=None, fontsize="small")
n = curves.groupby("variant").seed.nunique().min() if len(curves) else 0
where = "digit patches" if sm.params.patches == "digits" else "Gaussian patches"
fig.suptitle(
    f"{where}: mean and ±1 sd over {n} seeds (dotted: predicting the mean)", fontsize="medium"
)
save_figure(fig, sm.output, sm.params.script, sm.input)
