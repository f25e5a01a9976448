"""Parities (Failures of Gradient-Based Deep Learning, §2): what the workflow reads when it
parses, with no TensorFlow: the hyperparameters, the variants, the config checks, the tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from theorydl.families.common import unshared, untrained

FAMILY = "parity"


@dataclass(frozen=True)
class ParityConfig:
    """Hyperparameters; the defaults are those of the authors' ``parity.py``."""

    d: int = 10
    width_factor: int = 10  # hidden width = width_factor · d (10d > 3d/2, so every parity fits)
    subset_size: int | None = None  # None: Binomial(d, 1/2), drawn once per seed as parity.py does
    learning_rate: float = 0.01  # parity.py hard-codes 0.01 and ignores --learning_rate
    batch_size: int = 128
    steps: int = 50_000
    eval_every: int = 100
    eval_samples: int = 500

    def __post_init__(self) -> None:
        if self.subset_size is not None and not 0 <= self.subset_size <= self.d:
            raise ValueError(f"subset_size must lie in [0, d={self.d}], got {self.subset_size}")

    @property
    def width(self) -> int:
        return self.width_factor * self.d


Config = ParityConfig  # the name the workflow looks up in every family's spec


def variants(block: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """One training job per input dimension: ``d<d>`` → its axis value."""
    return {f"d{d}": {"d": d} for d in block["dims"]}


def check_config(block: dict[str, Any], resolved: dict[str, dict[str, Any]]) -> list[str]:
    """Problems the schema cannot see: cross-references between keys of the parity block."""
    figure = block["figure1_dims"]
    problems = untrained("parity", "figure1_dims", figure, "dims", block["dims"], "dimension")
    why = "Theorem 1's check uses one network width for every d"
    return problems + unshared("parity", resolved, ["width_factor"], why)


REPORT_CATEGORY = "Parity (Failures §2)"  # the group of its tables and figures in --report
# Tables (results/<scale>/tables/<name>.csv) with the columns claims may name; see analysis.py.
TABLES: dict[str, list[str]] = {
    "parity_seeds": [
        "d",
        "seed",
        "subset_size",
        "budget",
        "status",
        "final_accuracy",
        "max_smoothed_accuracy",
        "steps_to_60",
        "steps_to_90",
        "steps_to_99",
    ],
    "parity_summary": [
        "d",
        "n",
        "budget",
        "final_accuracy_mean",
        "final_accuracy_std",
        "steps_to_60_median",
        "steps_to_90_median",
        "steps_to_99_median",
        "reached_60",
        "reached_90",
        "reached_99",
        "diverged",
    ],
    "parity_by_degree": [
        "d",
        "subset_size",
        "n",
        "steps_to_90_median",
        "steps_to_99_median",
        "reached_99",
    ],
    "parity_curves": ["d", "seed", "step", "accuracy"],
    "parity_gradvar": ["d", "init_seed", "variance", "g_squared", "bound", "ratio"],
    "parity_gradvar_fit": [
        "init_seed",
        "slope_log2_variance",
        "slope_log2_relative_variance",
        "max_ratio",
    ],
}
CSV_ONLY = ("parity_curves",)  # figure data: CSV alone, no Markdown or LaTeX
