"""GaLU networks: decoupling gating from linearity (Fiat, Malach, Shalev-Shwartz 2019): what the
workflow reads when it parses, with no TensorFlow: the hyperparameters, the variants and their
training jobs, the config checks, the tables.

Two experiments so far, both with one hidden layer of width k, no biases and a scalar output:

- ``memorise`` (the authors' Fig 2): m points X ~ N(0, I_d) with labels y ~ N(0, 1), pure noise;
  the training MSE against kd/m;
- ``noise`` (Figs 3 and 4): a mixture of clusters with noisy labels (regression or
  classification), train against test.

Each trains a ReLU and a GaLU network (random gates, never trained) by Adam; the exact GaLU
solution and hill climbing over its gates are computed without training (``theory.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

FAMILY = "gating"
EXPERIMENTS = ("memorise", "noise")
LEARNERS = ("relu", "galu")  # trained by Adam; the exact GaLU solution is theory.py's
TASKS = ("regression", "classification")


def _allowed(name: str, value: Any, options: tuple[str, ...]) -> None:
    if value not in options:
        raise ValueError(f"{name} must be one of {', '.join(options)}, got {value!r}")


@dataclass(frozen=True)
class GatingConfig:
    """Hyperparameters of one variant; the defaults are the authors' (ICLR 2019 code)."""

    experiment: str = "memorise"  # memorise | noise
    learner: str = "relu"  # relu: ReLU(⟨w, x⟩); galu: ⟨w, x⟩·1[⟨f, x⟩ > 0], f fixed at random
    m: int = 256  # training points
    d: int = 8  # input dimension
    k: int = 8  # hidden units
    task: str = "regression"  # noise: regression (MSE) or classification (hinge, ±1 labels)
    noise: float = 0.0  # noise: σ_y; regression adds σ_y·N(0, 1), classification flips w.p. σ_y/2
    clusters: int = 30  # noise: mixture components, centres ~ N(0, I_d)
    spread: float = 0.1  # noise: x = centre + spread·N(0, I_d)
    test_points: int = 9_000  # noise: held-out points (the authors' 10·m − m)
    learning_rate: float = 1e-3  # Adam, PyTorch's defaults otherwise
    batch_size: int = 128  # mini-batches without replacement, reshuffled every pass
    steps: int = 100_000
    eval_every: int = 5_000

    def __post_init__(self) -> None:
        _allowed("experiment", self.experiment, EXPERIMENTS)
        _allowed("learner", self.learner, LEARNERS)
        _allowed("task", self.task, TASKS)
        if min(self.m, self.d, self.k) < 1:
            raise ValueError(f"m, d and k must be positive, got {self.m}, {self.d}, {self.k}")
        if self.batch_size > self.m:
            raise ValueError(f"batch_size ({self.batch_size}) must not exceed m ({self.m})")
        if self.experiment == "noise" and self.task == "classification" and self.noise > 1:
            raise ValueError(
                f"classification flips with p = σ_y/2 ≤ 0.5: σ_y ≤ 1, got {self.noise}"
            )
        if self.noise < 0:
            raise ValueError(f"noise (σ_y) must be ≥ 0, got {self.noise}")

    @property
    def flip_probability(self) -> float:
        """Classification: the chance that a label's sign is flipped, p = σ_y / 2."""
        return self.noise / 2


Config = GatingConfig  # the name the workflow looks up in every family's spec


# --------------------------------------------------------------------------------------------
# Variants: one per (experiment, learner, cell), named once.


def memorise_cells(block: dict[str, Any]) -> list[tuple[int, int, int]]:
    """The (m, d, k) cells of the memorisation grid: every combination with k·d ≤ m."""
    grid = block["memorise"]
    return [
        (m, d, k) for m in grid["ms"] for d in grid["dims"] for k in grid["widths"] if k * d <= m
    ]


def memorise_name(learner: str, m: int, d: int, k: int) -> str:
    """e.g. ``memorise-relu-m256-d8-k16``."""
    return f"memorise-{learner}-m{m}-d{d}-k{k}"


def noise_name(task: str, learner: str, noise: float) -> str:
    """e.g. ``noise-regression-galu-s0.5``."""
    return f"noise-{task}-{learner}-s{noise:g}"


def noise_setting(block: dict[str, Any]) -> dict[str, Any]:
    """The noise experiment's fixed sizes, as hyperparameters."""
    setting = block["noise"]
    keys = ("m", "d", "k", "clusters", "spread", "test_points")
    return {key: setting[key] for key in keys}


def variants(block: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every trained setting: variant name → its axis values."""
    named: dict[str, dict[str, Any]] = {}
    for learner in block["memorise"]["learners"]:
        for m, d, k in memorise_cells(block):
            axis = {"experiment": "memorise", "learner": learner, "m": m, "d": d, "k": k}
            named[memorise_name(learner, m, d, k)] = axis
    for task in block["noise"]["tasks"]:
        for learner in block["noise"]["learners"]:
            for noise in block["noise"]["noises"]:
                named[noise_name(task, learner, noise)] = {
                    "experiment": "noise",
                    "learner": learner,
                    "task": task,
                    "noise": float(noise),
                    **noise_setting(block),
                }
    return named


def jobs(block: dict[str, Any]) -> dict[str, list[str]]:
    """Training jobs: the cells of one learner and one m (memorise), or the noise levels of one
    task and learner (noise), in one process: TensorFlow starts once for many small variants."""
    grouped: dict[str, list[str]] = {}
    for name, axis in variants(block).items():
        if axis["experiment"] == "memorise":
            job = f"memorise_{axis['learner']}_m{axis['m']}"
        else:
            job = f"noise_{axis['task']}_{axis['learner']}"
        grouped.setdefault(job, []).append(name)
    return grouped


def check_config(block: dict[str, Any], resolved: dict[str, dict[str, Any]]) -> list[str]:
    """Problems the schema cannot see: an empty memorisation grid."""
    if not memorise_cells(block):
        grid = block["memorise"]
        return [
            f"config key 'gating.memorise': no cell with k·d ≤ m (ms {grid['ms']}, dims "
            f"{grid['dims']}, widths {grid['widths']}). Allowed: grids with at least one such cell"
        ]
    return []


REPORT_CATEGORY = "GaLU networks (2019)"  # the group of its tables and figures in --report
# Tables (results/<scale>/tables/<name>.csv) with the columns claims may name; see analysis.py.
TABLES: dict[str, list[str]] = {
    "gating_memorise_runs": [
        "learner",
        "m",
        "d",
        "k",
        "ratio",
        "seed",
        "steps",
        "train_mse",
    ],
    "gating_memorise": [
        "learner",
        "ratio",
        "cells",
        "repeats",
        "steps",
        "train_mse_mean",
        "train_mse_std",
        "line",
        "line_2",
        "gap_to_line",
    ],
    "gating_memorise_checks": [
        "learner",
        "repeats",
        "steps",
        "ratios",
        "max_abs_gap_to_line",
        "mse_at_full",
        "max_excess_over_line",
        "min_margin_over_line_2",
        "max_gap_to_exact",
        "crossing_ratio",
    ],
    "gating_noise_runs": [
        "task",
        "learner",
        "noise",
        "seed",
        "steps",
        "train_loss",
        "test_loss",
        "train_error",
        "test_error",
        "sum_w2",
        "sum_abs_w_squared",
    ],
    "gating_noise": [
        "task",
        "learner",
        "noise",
        "flip",
        "repeats",
        "steps",
        "train_loss_mean",
        "train_loss_std",
        "test_loss_mean",
        "test_loss_std",
        "train_error_mean",
        "test_error_mean",
        "test_error_std",
        "optimum",
        "memoriser_error",
        "sum_w2_mean",
        "sum_abs_w_squared_mean",
        "gap_mean",
    ],
    "gating_noise_checks": [
        "task",
        "learner",
        "repeats",
        "steps",
        "max_train_mse_over_var",
        "max_train_error",
        "min_test_over_optimum",
        "max_distance_to_memoriser",
        "max_relu_minus_galu_test",
        "gap_rank_correlation",
        "log2_gap_at_1",
        "log2_sum_w2_at_1",
    ],
}
CSV_ONLY = ("gating_memorise_runs", "gating_noise_runs")
