"""Figures of the real-image datasets (not a family: rule ``datasets_figure_<name>``).

Each function takes the rule's inputs (and its params) and returns the figure; scripts/figure.py
saves it, as it does every family's figures.
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from theorydl.datasets import SIDE, dataset, read

GAP = 2  # pixels between the images of a mosaic


def _mosaic(images: np.ndarray, labels: np.ndarray, classes: int, per_class: int) -> np.ndarray:
    """One image: a row per class of its first ``per_class`` images, separated by blank gaps
    (one image instead of hundreds of axes keeps the PDF small)."""
    cell = SIDE + GAP
    mosaic = np.full((classes * cell - GAP, per_class * cell - GAP), np.nan)
    for label in range(classes):
        for column, index in enumerate(np.flatnonzero(labels == label)[:per_class]):
            top, left = label * cell, column * cell
            mosaic[top : top + SIDE, left : left + SIDE] = images[index]
    return mosaic


def examples(inputs: Any, per_class: int = 6) -> plt.Figure:
    """The first ``per_class`` training images of every class of MNIST and Fashion-MNIST, as
    converted by rule ``dataset``, one row per class; the titles give each dataset's source and
    split sizes (from its sidecar)."""
    shown = {"mnist": inputs.mnist, "fashion_mnist": inputs.fashion_mnist}
    fig, axes = plt.subplots(1, len(shown), figsize=(7.0, 5.4), layout="constrained")
    for ax, (name, path) in zip(axes, shown.items(), strict=True):
        spec = dataset(name)
        images, labels, is_test, sidecar = read(path)
        train = ~is_test
        mosaic = _mosaic(images[train], labels[train], len(spec.classes), per_class)
        ax.imshow(mosaic, cmap="gray_r", vmin=0, vmax=255, interpolation="nearest")
        ax.set_yticks(
            np.arange(len(spec.classes)) * (SIDE + GAP) + SIDE / 2,
            [f"{c}: {n}" if n != str(c) else n for c, n in enumerate(spec.classes)],
        )
        ax.set_xticks([])
        ax.tick_params(length=0)
        ax.grid(False)
        for side in ax.spines.values():
            side.set_visible(False)
        origin = sidecar["package"] + "@" + sidecar["version"]
        ax.set_title(
            f"{spec.title} ({sidecar['source']}: {origin})\n"
            f"{sidecar['train']:,} train / {sidecar['test']:,} test".replace(",", " "),
            fontsize="medium",
        )
    return fig
