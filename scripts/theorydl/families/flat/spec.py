"""Flat activations (Failures of Gradient-Based Deep Learning, §5): what the workflow reads when
it parses, with no TensorFlow: the hyperparameters, the step sets, the variants, the config
checks, the tables.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from theorydl.families.common import unshared

FAMILY = "flat"
METHODS = ("non_flat", "end_to_end", "multi_class", "forward_only")  # also the order of Fig 7
# Learning rate and budget per method, as ``step_learn.py`` sets them (get_lr, max_steps).
METHOD_DEFAULTS: dict[str, dict[str, float | int]] = {
    "non_flat": {"learning_rate": 1e-2, "steps": 10_000},
    "end_to_end": {"learning_rate": 1e-3, "steps": 10_000},
    "multi_class": {"learning_rate": 1e-3, "steps": 10_000},
    "forward_only": {"learning_rate": 1e-3, "steps": 5_000},
}
# The steps, as offsets from b*: a coarse grid plus fine steps near b*, where nearly all of r
# lies (r − b* has sd ‖w*‖/100 ≈ 0.1). The authors list 40 + 15 = 55 values (the paper's count);
# −5, 0 and 5 appear in both lists, and their set() leaves 52 unique steps.
COARSE_OFFSETS = tuple(float(v) for v in range(-100, 100, 5))
FINE_OFFSETS = (-5.0, -4.0, -3.0, -2.0, -1.0, -0.2, 0.0, 0.1, 0.15, 0.175, 1.0, 2.0, 3.0, 4.0, 5.0)
STEP_SETS = ("authors", "paper")
# Rule flat_test_cost: interleaved timing rounds per method (each method's fastest call counts).
TEST_COST_ROUNDS = 30


def step_offsets(step_set: str = "authors") -> np.ndarray:
    """The steps z_i − b* in increasing order: 52 unique ones (authors) or all 55 listed (paper).

    In the paper's set three pairs coincide; as a function u is then the same, but the
    multi-class learner has 55 classes (three of which no label ever takes).
    """
    listed = np.array(COARSE_OFFSETS + FINE_OFFSETS, dtype=np.float64)
    if step_set == "authors":
        return np.unique(listed)
    if step_set == "paper":
        return np.sort(listed)
    raise ValueError(f"step_set must be one of {', '.join(STEP_SETS)}, got {step_set!r}")


@dataclass(frozen=True)
class FlatConfig:
    """Hyperparameters; the defaults are those of the authors' ``step_learn.py``.

    ``learning_rate`` and ``steps`` left as None take the method's values in
    :data:`METHOD_DEFAULTS` (the script sets them per method).
    """

    method: str = "forward_only"
    learning_rate: float | None = None
    steps: int | None = None
    step_set: str = "authors"  # "authors": 52 unique steps; "paper": the 55 listed values
    input_dim: int = 100
    hidden_width: int = 100
    multi_class_logits: int = 100  # the script's 100 logits; the paper text has one per step
    smooth_sharpness: float = 10.0  # L of the script: step i's sigmoid has steepness 5L/Δ_i
    smooth_constant_steepness: float | None = None  # the paper's one c for every step instead
    batch_size: int = 256
    beta1: float = 0.9
    beta2: float = 0.99
    epsilon: float = 1e-5
    eval_every: int = 200  # the script prints the loss every 200 steps
    # Fixed test points per seed. The script plots 2 560 fresh points (so does Fig 7 here); the
    # errors are measured on four times as many, because with ~0.5% of points wrong a 2 560-point
    # sample decides close per-seed comparisons (forward-only vs multi-class) by chance.
    eval_samples: int = 10_240

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}, got {self.method!r}")
        if self.step_set not in STEP_SETS:
            raise ValueError(
                f"step_set must be one of {', '.join(STEP_SETS)}, got {self.step_set!r}"
            )
        for name, value in METHOD_DEFAULTS[self.method].items():
            if getattr(self, name) is None:
                object.__setattr__(self, name, value)  # frozen: resolved once, here
        classes = len(step_offsets(self.step_set))
        if self.multi_class_logits < classes:
            raise ValueError(
                f"multi_class_logits must be at least the number of steps ({classes} for "
                f"step_set {self.step_set!r}), got {self.multi_class_logits}"
            )


Config = FlatConfig  # the name the workflow looks up in every family's spec


def variants(block: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """One training job per method: the method's name → its axis value."""
    return {method: {"method": method} for method in METHODS}


def check_config(block: Mapping[str, Any], resolved: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Problems the schema cannot see: the figure's seed must be one of the trained seeds, and
    every method must learn the same target (same steps, same input dimension)."""
    problems = []
    seed = block.get("figure7_seed")
    if seed is not None and seed not in block["seeds"]:
        problems.append(
            f"config key 'flat.figure7_seed': value {seed} is not a trained seed. "
            f"Allowed: null (the median seed of each method) or one of flat.seeds "
            f"({block['seeds']})"
        )
    why = "the methods learn one target"
    return problems + unshared("flat", resolved, ["step_set", "input_dim"], why)


# The group of its tables and figures in snakemake --report.
REPORT_CATEGORY = "Flat activations (Failures §5)"
# Tables (results/<scale>/tables/<name>.csv) with the columns claims may name; see analysis.py.
TABLES: dict[str, list[str]] = {
    "flat_seeds": [
        "method",
        "seed",
        "budget",
        "budget_share",
        "status",
        "relative_rms",
        "off_fraction",
        "relative_rms_hard",
        "off_fraction_hard",
        "output_range",
        "constant",
        "distinct_levels",
        "spurious_levels",
        "boundary_error_share",
        "error_rank",
        "excess_over_forward_only",
        "final_train_loss",
        "b_star",
    ],
    "flat_summary": [
        "method",
        "n",
        "diverged",
        "budget",
        "relative_rms_mean",
        "relative_rms_std",
        "relative_rms_median",
        "off_fraction_mean",
        "off_fraction_std",
        "relative_rms_hard_mean",
        "relative_rms_hard_std",
        "distinct_levels_median",
        "spurious_levels_median",
        "boundary_error_share_median",
        "best_on_seeds",
        "constant_count",
        "constant_share",
        "constant_share_low",
        "constant_share_high",
    ],
    "flat_test_cost": ["method", "time_per_prediction_ns"],
    "flat_curves": ["method", "seed", "step", "split", "metric", "value"],
    "flat_fig7_points": ["method", "seed", "r", "label", "prediction", "smooth_label"],
}
CSV_ONLY = ("flat_curves", "flat_fig7_points")  # figure data: CSV alone, no Markdown or LaTeX
# Tables that hold timings of this machine: no two runs share them, and no claim reads them
# (every other table is byte-identical between two runs of the same commit).
TIMINGS = ("flat_test_cost",)
