"""Piecewise-linear curves (Failures §4.1, Fig 6): what the workflow reads when it parses, with
no TensorFlow: the hyperparameters, the variants (the learners), the config checks, the tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from theorydl.families.common import unshared, untrained

FAMILY = "curves"
DISTRIBUTIONS = ("code", "paper")  # the curve distributions; see theory.sample_kinks
DTYPES = ("float32", "float64")
FLOAT64 = "_float64"  # a learner's name plus this names its float64 twin (curves.float64_learners)


@dataclass(frozen=True)
class LearnerSettings:
    """The settings the authors' script gives one learner."""

    learning_rate: float
    batch_size: int


# PWL_fail1.py's main(): FtoK, FtoKConv, FtoKConvCond (its Appendix C command line) and
# FAutoEncoder. The variants of this family are these learners.
AUTHORS_SETTINGS = {
    "fc": LearnerSettings(learning_rate=1e-4, batch_size=100),
    "conv": LearnerSettings(learning_rate=0.05, batch_size=100),
    "conv_whitened": LearnerSettings(learning_rate=0.99, batch_size=10),
    "autoencoder": LearnerSettings(learning_rate=1e-3, batch_size=100),
}
LEARNERS = tuple(AUTHORS_SETTINGS)


@dataclass(frozen=True)
class CurvesConfig:
    """Hyperparameters of one learner; the defaults are those of the authors' ``PWL_fail1.py``.

    ``learning_rate`` and ``batch_size`` left as None take the learner's value in
    :data:`AUTHORS_SETTINGS`. Every learner runs 50 000 steps, so that each has the three
    snapshot columns of Fig 6 (the script ran the whitened filter for 500 steps and the
    auto-encoder for 10 000).
    """

    learner: str = "fc"
    n: int = 100
    kinks: int = 3
    distribution: str = "code"  # "code": PWL_fail1.py's create_data; "paper": the paper's text
    train_curves: int = 10_000
    validation_curves: int = 1_000
    learning_rate: float | None = None
    batch_size: int | None = None
    beta1: float = 0.9  # tf.train.AdamOptimizer's defaults (TF1)
    beta2: float = 0.999
    epsilon: float = 1e-8
    encoder_widths: list[int] = field(default_factory=lambda: [500, 100])  # then 2k, all ReLU
    decoder_widths: list[int] = field(default_factory=lambda: [100, 100])  # then n, linear
    steps: int = 50_000
    eval_every: int = 500
    # Fig 6's columns; a learner trained for fewer steps keeps those within its run.
    snapshot_steps: list[int] = field(default_factory=lambda: [500, 10_000, 50_000])
    # Data, weights and Adam's arithmetic; float64 only for a learner's twin in
    # curves.float64_learners, which asks whether float precision causes what float32 shows.
    dtype: str = "float32"

    def __post_init__(self) -> None:
        if self.learner not in AUTHORS_SETTINGS:
            raise ValueError(f"learner {self.learner!r}. Allowed: one of {', '.join(LEARNERS)}")
        if self.distribution not in DISTRIBUTIONS:
            raise ValueError(
                f"distribution {self.distribution!r}. Allowed: one of {', '.join(DISTRIBUTIONS)}"
            )
        if self.distribution == "code" and self.kinks != 3:
            raise ValueError(
                f"kinks = {self.kinks} with distribution 'code'. Allowed: kinks = 3 (the "
                f"script's slope patterns have three segments), or distribution 'paper'"
            )
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype {self.dtype!r}. Allowed: one of {', '.join(DTYPES)}")
        if self.n < self.kinks + 6:  # the script keeps 3 kink-free points at each end
            raise ValueError(f"n = {self.n}. Allowed: n ≥ kinks + 6 = {self.kinks + 6}")
        if any(s < 0 for s in self.snapshot_steps):
            raise ValueError(f"snapshot_steps {self.snapshot_steps}. Allowed: integers ≥ 0")
        authors = AUTHORS_SETTINGS[self.learner]
        # Frozen dataclass: fill in the learner's own values so that meta.json records them.
        if self.learning_rate is None:
            object.__setattr__(self, "learning_rate", authors.learning_rate)
        if self.batch_size is None:
            object.__setattr__(self, "batch_size", authors.batch_size)
        object.__setattr__(self, "snapshot_steps", sorted(set(self.snapshot_steps)))

    @property
    def snapshots_taken(self) -> tuple[int, ...]:
        """The snapshot steps within this learner's run."""
        return tuple(s for s in self.snapshot_steps if s <= self.steps)


Config = CurvesConfig  # the name the workflow looks up in every family's spec

# Every learner shares the validation curves (Fig 6 draws the same two for each row) and the
# snapshot steps (Fig 6's columns).
SHARED_ACROSS_LEARNERS = ("n", "kinks", "distribution", "validation_curves", "snapshot_steps")


def variants(block: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """One training job per learner, named after it; and per learner of
    ``float64_learners`` its twin ``<learner>_float64``: the same run (the learner's own
    overrides too) in float64."""
    found: dict[str, dict[str, Any]] = {
        learner: {"learner": learner} for learner in block["learners"]
    }
    for learner in block.get("float64_learners", []):
        own = block.get("variant_hparams", {}).get(learner, {})
        found[learner + FLOAT64] = {"learner": learner, **own, "dtype": "float64"}
    return found


def check_config(block: dict[str, Any], resolved: dict[str, dict[str, Any]]) -> list[str]:
    """Problems the schema cannot see: the figure's seed, float64 twins of learners not
    trained, and settings the learners share."""
    seeds = block["seeds"]
    problems = untrained("curves", "figure_seed", [block["figure_seed"]], "seeds", seeds, "seed")
    # A float64 run is compared with its learner's float32 run.
    twins = block.get("float64_learners", [])
    problems += untrained(
        "curves", "float64_learners", twins, "learners", block["learners"], "learner"
    )
    why = "the learners share the validation curves and Fig 6's columns"
    return problems + unshared("curves", resolved, SHARED_ACROSS_LEARNERS, why)


REPORT_CATEGORY = "Curves (Failures §4)"  # the group of its tables and figures in --report
# Tables (results/<scale>/tables/<name>.csv) with the columns claims may name; see analysis.py.
TABLES: dict[str, list[str]] = {
    "curves_seed_errors": [
        "learner",
        "seed",
        "distribution",
        "n",
        "step",
        "budget",
        "last",
        "status",
        "relative_rms",
        "relative_max",
    ],
    "curves_errors": [
        "learner",
        "step",
        "seeds",
        "curves",
        "relative_rms_mean",
        "relative_rms_std",
        "relative_max_mean",
        "relative_max_std",
    ],
    "curves_fig6": ["learner", "curve", "index", "step", "x", "original", "decoded"],
    "curves_fig6_errors": [
        "learner",
        "curve",
        "index",
        "step",
        "relative_rms",
        "relative_max",
        "paper_relative_rms",
        "paper_relative_max",
    ],
    "curves_progress": [
        "learner",
        "seed",
        "step",
        "relative_rms",
        "relative_max",
        "loss",
        "weight_error",
    ],
    "curves_conditioning": ["quantity", "distribution", "n", "sample_seed", "condition_number"],
    "curves_conditioning_fit": [
        "quantity",
        "distribution",
        "sample_seed",
        "slope",
        "intercept",
        "slope_upper_half",
        "n_min",
        "n_max",
    ],
    "curves_theorem3": ["n", "s_max", "s_min", "cond_w", "cond_gram", "steps_bound", "trained"],
    "curves_precision": [
        "learner",
        "dtype",
        "seed",
        "evaluations",
        "unstable",
        "median_rms",
        "largest_rms",
    ],
}
# Figure data: CSV alone, no Markdown or LaTeX.
CSV_ONLY = ("curves_fig6", "curves_progress", "curves_conditioning")
