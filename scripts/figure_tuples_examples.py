"""Fig 2 of Failures of Gradient-Based Deep Learning: example line images from the generator.

Top row: label +1 (the line rises, θ < π/2); bottom row: label −1. Drawn with the row index
pointing up, so that a rising line looks like "/" as in the paper.
"""

import matplotlib.pyplot as plt
import numpy as np

from theorydl import runtime
from theorydl.job import log_to
from theorydl.plotting import save_figure, use_style

sm = snakemake  # noqa: F821 (injected by Snakemake's script directive)
log_to(sm.log[0])
runtime.hide_gpus()  # takes no gpu slot: off the GPUs that training jobs claim
tf = runtime.setup_tensorflow(sm.params.tf_threads)

from theorydl import tuples  # noqa: E402 (after TensorFlow's setup)

PER_ROW = 5
theta, length, centre = tuples.line_parameters(
    tf.constant(runtime.stream_key(sm.params.seed, "tuples/examples")), 100
)
images = tuples.draw_lines(theta, length, centre).numpy()
labels = tuples.image_labels(theta).numpy()
rows = {+1: np.flatnonzero(labels > 0)[:PER_ROW], -1: np.flatnonzero(labels < 0)[:PER_ROW]}

use_style()
fig, axes = plt.subplots(2, PER_ROW, figsize=(5.0, 2.2), layout="constrained")
for row, (label, picks) in enumerate(rows.items()):
    for col, index in enumerate(picks):
        ax = axes[row, col]
        ax.imshow(images[index], cmap="gray", vmin=0, vmax=1, origin="lower")
        ax.set(xticks=[], yticks=[])
        ax.grid(False)
    axes[row, 0].set_ylabel(f"y = {label:+d}")
fig.suptitle("Line images: rising (θ < π/2, top) and falling (bottom)", fontsize="medium")
save_figure(fig, sm.output, sm.params.script, [f"generator seed {sm.params.seed}"])
