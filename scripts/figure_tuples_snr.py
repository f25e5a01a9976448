"""Fig 5 of Failures of Gradient-Based Deep Learning: the SNR of the stochastic gradient at
initialization (N(1)'s last layer) against k, end-to-end (red) vs decomposition (blue).

Log scale: the median over initializations with the range as error bars, and every
initialization as a faint dot. Two reference lines: float32 machine epsilon (the paper's
caption), and the estimator's floor 1/n (with no signal at all, the plug-in SNR of n samples
averages 1/n: points near it say only that the SNR is at most about that).
"""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from theorydl.job import log_to
from theorydl.plotting import PAPER_COLORS, SINGLE_COLUMN, save_figure, use_style

sm = snakemake  # noqa: F821 (injected by Snakemake's script directive)
log_to(sm.log[0])
use_style()
table = pd.read_csv(sm.input.snr)
stats = table.groupby("k").agg(["median", "min", "max"])
ks = stats.index.to_numpy()

fig, ax = plt.subplots(figsize=(SINGLE_COLUMN[0] + 0.6, SINGLE_COLUMN[1] + 0.3))
for method, name, color, shift in (
    ("dec", "decomposition", PAPER_COLORS["blue"], -0.04),
    ("e2e", "end-to-end", PAPER_COLORS["red"], 0.04),
):
    column = f"snr_{method}"
    median = stats[column]["median"].to_numpy()
    spread = [median - stats[column]["min"].to_numpy(), stats[column]["max"].to_numpy() - median]
    ax.errorbar(ks + shift, median, yerr=spread, color=color, label=name, linewidth=1.2, capsize=2)
    ax.scatter(table.k + shift, table[column], color=color, s=6, alpha=0.35, linewidths=0)
ax.plot(ks, stats["floor"]["max"], color="0.45", linestyle=":", linewidth=1.0, label="floor 1/n")
eps = float(np.finfo(np.float32).eps)
ax.axhline(eps, color="0.2", linestyle="--", linewidth=0.8, label="float32 ε")
ax.set_yscale("log")
ax.set(xlabel="k", ylabel="SNR at initialization", xticks=ks)
ax.legend(loc="center right", fontsize="x-small")
n = table.init_seed.nunique()
ax.set_title(f"Gradient SNR: median, range over {n} initializations", fontsize="medium")
save_figure(fig, sm.output, sm.params.script, sm.input)
