"""One figure style for the whole artifact, and saving figures with their provenance.

Every figure is written as PDF (for the report) and PNG (for ``snakemake --report`` and
reviewers), and both files record the script that drew them and the tables it read.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # figures are files; no display is ever needed

import matplotlib.pyplot as plt
import seaborn as sns

from theorydl import __version__
from theorydl.runs import atomic_write_bytes
from theorydl.runtime import git_commit

# The paper's colours (Fig 1: blue, green (0, 0.5, 0), red; Figs 3-5: red E2E, blue Dec).
PAPER_COLORS = {"blue": "#0000ff", "green": "#008000", "red": "#ff0000", "magenta": "#ff00ff"}
SINGLE_COLUMN = (3.4, 2.5)
DOUBLE_COLUMN = (7.0, 2.8)


def use_style() -> None:
    """Seaborn's ticks style at paper size, with fonts that survive being scaled into LaTeX."""
    sns.set_theme(
        context="paper",
        style="ticks",
        font="DejaVu Sans",
        rc={
            "figure.dpi": 150,
            "savefig.dpi": 200,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "legend.frameon": True,
            "pdf.fonttype": 42,  # TrueType: text stays text in the PDF
            "svg.fonttype": "none",
        },
    )


def save_figure(
    fig: plt.Figure, outputs: Sequence[str | Path], made_by: str, inputs: Sequence
) -> None:
    """Save ``fig`` to every path in ``outputs`` (by suffix), stamped with ``made_by`` (the code
    that drew it) and the ``inputs`` it read."""
    source = f"theorydl-artifact {__version__} ({git_commit()}): {made_by}"
    sources = ", ".join(str(p) for p in inputs)
    for path in map(Path, outputs):
        if path.suffix == ".pdf":
            # No creation date: the same inputs give the same bytes.
            metadata = {"Creator": source, "Subject": f"from {sources}", "CreationDate": None}
        elif path.suffix == ".png":
            metadata = {"Software": source, "Source": sources}
        else:
            raise ValueError(f"figures are written as .pdf or .png, not {path}")
        buffer = io.BytesIO()
        fig.savefig(buffer, format=path.suffix[1:], bbox_inches="tight", metadata=metadata)
        atomic_write_bytes(path, buffer.getvalue())
    plt.close(fig)
