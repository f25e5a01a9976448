"""The stocks task (Failures of Gradient-Based Deep Learning, §3.2-3.3): what the workflow reads
when it parses, with no TensorFlow: the hyperparameters, the variants, the config checks, the
tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from theorydl.families.common import unshared, untrained

FAMILY = "stocks"
METHODS = ("e2e", "dec")
METHOD_NAMES = {"e2e": "E2E", "dec": "Decomposition"}  # as tables and figures show them


@dataclass(frozen=True)
class StocksConfig:
    """Hyperparameters; the defaults are those of the authors' ``dec_vs_e2e_stocks.py``."""

    method: str = "e2e"  # e2e: gradient of −zᵀp; dec: gradient of −p_y (the script's --Dec)
    d: int = 1000  # number of distinct inputs (one-hot media references)
    k: int = 100  # number of stocks; Fig 4 runs 10, 1000 and 2000
    learning_rate: float = 0.1
    beta1: float = 0.9
    beta2: float = 0.99
    epsilon: float = 1e-5
    batch_size: int = 100
    steps: int = 2500
    eval_every: int = 100
    eval_samples: int = 500

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}, got {self.method!r}")
        if self.k < 2:
            raise ValueError(f"k must be at least 2 (a choice between stocks), got {self.k}")


Config = StocksConfig  # the name the workflow looks up in every family's spec


def variant_name(method: str, k: int) -> str:
    """The training job of one method at one k, e.g. ``e2e_k1000``."""
    return f"{method}_k{k}"


def variants(block: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """One training job per (method, k): ``<method>_k<k>`` → its axis values."""
    return {
        variant_name(method, k): {"method": method, "k": k}
        for k in block["ks"]
        for method in block["methods"]
    }


def check_config(block: dict[str, Any], resolved: dict[str, dict[str, Any]]) -> list[str]:
    """Problems the schema cannot see: Fig 4's panels must be trained k values, and every
    variant must share one d (the figures and the second-moment check use it)."""
    problems = untrained("stocks", "figure4_ks", block["figure4_ks"], "ks", block["ks"], "k")
    why = "the figures and the second-moment check use one d"
    return problems + unshared("stocks", resolved, ["d"], why)


REPORT_CATEGORY = "Stocks (Failures §3.2)"  # the group of its tables and figures in --report
# Tables (results/<scale>/tables/<name>.csv) with the columns claims may name; see analysis.py.
TABLES: dict[str, list[str]] = {
    "stocks_seeds": [
        "method",
        "k",
        "seed",
        "budget",
        "status",
        "final_loss",
        "final_expected_loss",
        "half_budget_expected_loss",
        "final_right_stock_accuracy",
        "final_top_stock_mass",
        "steps_to_solved",
        "initial_moment_ratio",
    ],
    "stocks_summary": [
        "k",
        "method",
        "n",
        "budget",
        "final_loss_mean",
        "final_loss_std",
        "final_expected_loss_median",
        "final_right_stock_accuracy_median",
        "final_top_stock_mass_median",
        "steps_to_solved_median",
        "reached_solved",
        "published_final_loss",
    ],
    "stocks_curves": [
        "method",
        "k",
        "seed",
        "step",
        "loss",
        "expected_loss",
        "right_stock_accuracy",
        "second_moment_e2e",
        "second_moment_dec",
    ],
    "stocks_moments": [
        "k",
        "init_seed",
        "samples",
        "exact_e2e",
        "exact_dec",
        "exact_ratio",
        "measured_e2e",
        "measured_dec",
        "measured_ratio",
        "mean_gradient_sq",
    ],
    "stocks_moments_fit": [
        "init_seed",
        "slope_exact",
        "slope_measured",
        "max_relative_deviation_from_k",
    ],
}
CSV_ONLY = ("stocks_curves",)  # figure data: CSV alone, no Markdown or LaTeX
