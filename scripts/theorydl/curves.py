"""Piecewise-linear curves: architecture and conditioning (Failures of Gradient-Based Deep
Learning, §4.1, Fig 6).

A curve f = W p with k = 3 kinks is given; the learner must recover p (where the kinks are and
how much the slope changes), i.e. apply W⁻¹, which is a convolution with [1, −2, 1] (Lemma 1).
Four learners, as in the authors' ``PWL_fail1.py``, each on a fixed pool of 10 000 training
curves resampled with replacement and scored on 1 000 validation curves:

- ``fc``: a fully connected linear map p̂ = Û f, zero init. Its problem has condition number
  cond(WᵀW) ~ n⁴ (Theorem 3), so it is slow and inexact at the kinks;
- ``conv``: a 3-tap convolution, zero init; input covariance conditioned like n³: exact, slowly;
- ``conv_whitened``: the same filter on rows whitened with C^{−1/2}: condition number 1, exact
  within a few hundred steps;
- ``autoencoder``: a deep auto-encoder (500-100-6 / 100-100-100) that sees only f and must
  reconstruct it through a 2k-dimensional code: inexact at the kinks.

The curve generator, W, W⁻¹ and the condition numbers are in :mod:`theorydl.curves_theory`.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import tensorflow as tf

from theorydl import engine
from theorydl.curves_theory import (
    DISTRIBUTIONS,
    INVERSE_FILTER,
    conv_covariance,
    curve_pool,
    inverse_curve_matrix,
    whitening_matrix,
)
from theorydl.runtime import stream_key

FAMILY = "curves"


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


Config = CurvesConfig  # the name the workflow looks up in every family module

# Every learner shares the validation curves (Fig 6 draws the same two for each row) and the
# snapshot steps (Fig 6's columns).
SHARED_ACROSS_LEARNERS = ("n", "kinks", "distribution", "validation_curves", "snapshot_steps")


def variants(block: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """One training job per learner, named after it."""
    return {learner: {"learner": learner} for learner in block["learners"]}


def check_config(block: dict[str, Any], resolved: dict[str, dict[str, Any]]) -> list[str]:
    """Problems the schema cannot see: the figure's seed, and settings the learners share."""
    problems = []
    if block["figure_seed"] not in block["seeds"]:
        problems.append(
            f"config key 'curves.figure_seed': value {block['figure_seed']} is not a trained "
            f"seed. Allowed: one of curves.seeds ({block['seeds']})"
        )
    for key in SHARED_ACROSS_LEARNERS:
        values = {learner: hparams[key] for learner, hparams in resolved.items()}
        if len({str(v) for v in values.values()}) > 1:
            shown = ", ".join(f"{learner}: {value}" for learner, value in values.items())
            problems.append(
                f"config key 'curves.variant_hparams.<learner>.{key}': values differ ({shown}). "
                f"Allowed: one value for every learner (they share the validation curves and "
                f"Fig 6's columns); set it in curves.hparams"
            )
    return problems


def _stack_keys(seeds: Sequence[int], stream: str) -> tf.Tensor:
    return tf.constant(np.stack([stream_key(s, stream) for s in seeds]))


def _pools(cfg: CurvesConfig, seeds: Sequence[int], name: str, size: int) -> tuple[tf.Tensor, ...]:
    """Each seed's fixed pool ``name`` stacked on the seed axis: f, p ``[S, size, n]``."""
    pools = [curve_pool(s, name, size, cfg.n, cfg.kinks, cfg.distribution) for s in seeds]
    return tuple(tf.constant(np.stack(part)) for part in zip(*pools, strict=True))


def relative_errors(f: tf.Tensor, decoded: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """RMS and max of |decoded − f| per curve as fractions of the curve's range (last axis).

    The same quantities as :func:`theorydl.curves_theory.relative_errors`, inside the graph.
    """
    span = tf.reduce_max(f, axis=-1) - tf.reduce_min(f, axis=-1)
    error = decoded - f
    rms = tf.sqrt(tf.reduce_mean(tf.square(error), axis=-1)) / span
    return rms, tf.reduce_max(tf.abs(error), axis=-1) / span


class CurvesTask(tf.Module):
    """What every learner shares: the curve pools, batches, evaluation and snapshots.

    A learner defines :meth:`reconstruct` (the decoded curve f̂ of a batch of curves f), its
    :meth:`loss` and, where it has one, a distance of its weights to the exact solution.
    """

    def __init__(self, cfg: CurvesConfig, seeds: Sequence[int]):
        super().__init__(name=f"curves_{cfg.learner}")
        self.cfg = cfg
        self.seeds = tuple(seeds)
        self.train_f, self.train_p = _pools(cfg, seeds, "train", cfg.train_curves)
        self.valid_f, self.valid_p = _pools(cfg, seeds, "validation", cfg.validation_curves)
        self.batch_keys = _stack_keys(seeds, "curves/batches")

    def loss(self, f: tf.Tensor, p: tf.Tensor) -> tf.Tensor:
        """Per-seed training loss ``[S]`` on curves f with kink vectors p ``[S, B, n]``."""
        raise NotImplementedError

    def reconstruct(self, f: tf.Tensor) -> tf.Tensor:
        """The decoded curves f̂ ``[S, B, n]`` of curves f ``[S, B, n]``."""
        raise NotImplementedError

    def weight_error(self) -> dict[str, tf.Tensor]:
        """Per-seed distance of the weights to the exact solution, where there is one."""
        return {}

    def batch(self, step: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """The step's batch: indices drawn with replacement from each seed's training pool, as
        the script's ``np.random.randint``; a pure function of (seed, step)."""
        indices = tf.stack(
            [
                tf.random.stateless_uniform(
                    [self.cfg.batch_size],
                    seed=tf.random.experimental.stateless_fold_in(self.batch_keys[i], step),
                    minval=0,
                    maxval=self.cfg.train_curves,
                    dtype=tf.int32,
                )
                for i in range(len(self.seeds))
            ]
        )
        return (
            tf.gather(self.train_f, indices, batch_dims=1),
            tf.gather(self.train_p, indices, batch_dims=1),
        )

    def train_loss(self, step: tf.Tensor) -> tf.Tensor:
        return self.loss(*self.batch(step))

    def evaluate(self, step: tf.Tensor) -> dict[str, tf.Tensor]:
        rms, largest = relative_errors(self.valid_f, self.reconstruct(self.valid_f))
        return {
            "loss": self.loss(self.valid_f, self.valid_p),
            "relative_rms": tf.reduce_mean(rms, axis=-1),
            "relative_max": tf.reduce_mean(largest, axis=-1),
            **self.weight_error(),
        }

    def snapshot(self) -> dict[str, np.ndarray]:
        return {"decoded": self.reconstruct(self.valid_f).numpy()}

    def final_arrays(self) -> dict[str, np.ndarray]:
        weights = {v.name.split(":")[0]: v.numpy() for v in self.trainable_variables}
        return {
            "validation_f": self.valid_f.numpy(),
            "validation_p": self.valid_p.numpy(),
            **weights,
        }


def curve_from_kinks(p: tf.Tensor) -> tf.Tensor:
    """f = W p along the last axis: the double cumulative sum."""
    return tf.cumsum(tf.cumsum(p, axis=-1), axis=-1)


class FullyConnected(CurvesTask):
    """p̂ = Û f with Û ∈ R^{n×n}, zero init; the script's loss sums over coordinates."""

    def __init__(self, cfg: CurvesConfig, seeds: Sequence[int]):
        super().__init__(cfg, seeds)
        # Row-vector convention as in the script: p̂ = f @ weights, so the optimum is U^T.
        self.weights = tf.Variable(tf.zeros([len(seeds), cfg.n, cfg.n]), name="weights")
        self.optimum = tf.constant(inverse_curve_matrix(cfg.n).T.astype(np.float32))

    def loss(self, f: tf.Tensor, p: tf.Tensor) -> tf.Tensor:
        return tf.reduce_mean(tf.reduce_sum(tf.square(f @ self.weights - p), axis=-1), axis=-1)

    def reconstruct(self, f: tf.Tensor) -> tf.Tensor:
        return curve_from_kinks(f @ self.weights)

    def weight_error(self) -> dict[str, tf.Tensor]:
        # max|Û − W⁻¹|, which the script prints.
        return {"weight_error": tf.reduce_max(tf.abs(self.weights - self.optimum), axis=[1, 2])}


class Convolution(CurvesTask):
    """A 3-tap filter on the rows [f_{t+2}, f_{t+1}, f_t] gives p̂_{t+2}; p̂_0 = p̂_1 = 0 (the
    script's zero padding). With ``whiten``, each row is multiplied by C^{−1/2} first, C the
    rows' covariance over the seed's whole training pool. Mean squared loss over batch × n."""

    def __init__(self, cfg: CurvesConfig, seeds: Sequence[int], whiten: bool):
        super().__init__(cfg, seeds)
        self.filter = tf.Variable(tf.zeros([len(seeds), 3]), name="filter")
        if whiten:
            # float64 on the host; the script computes C^{-1/2} with numpy's eigh as well.
            conditioners = [whitening_matrix(conv_covariance(f)) for f in self.train_f.numpy()]
        else:
            conditioners = [np.eye(3)] * len(seeds)
        self.conditioner = tf.constant(np.stack(conditioners).astype(np.float32))

    @property
    def effective_filter(self) -> tf.Tensor:
        """The filter acting on unwhitened rows, C^{−1/2} w; exact at [1, −2, 1]."""
        return tf.einsum("sij,sj->si", self.conditioner, self.filter)

    def predict_kinks(self, f: tf.Tensor) -> tf.Tensor:
        """p̂ ``[S, B, n]``: the filter applied to the (whitened) rows of curves f.

        (rows · C^{−1/2}) · w = rows · (C^{−1/2} w): the three taps are applied to shifted
        copies of f rather than materializing the rows, several times faster on a CPU, while
        the trained parameter, its gradient and so Adam's steps are the script's.
        """
        taps = self.effective_filter[:, None, None, :]
        valid = taps[..., 0] * f[..., 2:] + taps[..., 1] * f[..., 1:-1] + taps[..., 2] * f[..., :-2]
        return tf.pad(valid, [[0, 0], [0, 0], [2, 0]])

    def loss(self, f: tf.Tensor, p: tf.Tensor) -> tf.Tensor:
        return tf.reduce_mean(tf.square(self.predict_kinks(f) - p), axis=[1, 2])

    def reconstruct(self, f: tf.Tensor) -> tf.Tensor:
        return curve_from_kinks(self.predict_kinks(f))

    def weight_error(self) -> dict[str, tf.Tensor]:
        target = tf.constant(INVERSE_FILTER, tf.float32)
        return {"weight_error": tf.reduce_max(tf.abs(self.effective_filter - target), axis=-1)}

    def final_arrays(self) -> dict[str, np.ndarray]:
        return {
            **super().final_arrays(),
            "effective_filter": self.effective_filter.numpy(),
            "conditioner": self.conditioner.numpy(),
        }


class AutoEncoder(CurvesTask):
    """Encoder n → 500 → 100 → 2k and decoder 2k → 100 → 100 → n, every layer ReLU but the
    last; the scripts' dense init (truncated normal, σ = 1/sqrt(fan-in), zero bias). It sees
    only f and is trained to reproduce it (mean squared error)."""

    def __init__(self, cfg: CurvesConfig, seeds: Sequence[int]):
        super().__init__(cfg, seeds)
        widths = [cfg.n, *cfg.encoder_widths, 2 * cfg.kinks, *cfg.decoder_widths, cfg.n]
        self.layers = []
        for index, (fan_in, fan_out) in enumerate(itertools.pairwise(widths)):
            init = tf.stack(
                [
                    tf.random.stateless_truncated_normal(
                        [fan_in, fan_out],
                        seed=stream_key(s, f"curves/init/layer{index}"),
                        stddev=fan_in**-0.5,
                    )
                    for s in seeds
                ]
            )
            kernel = tf.Variable(init, name=f"kernel{index}")
            bias = tf.Variable(tf.zeros([len(seeds), 1, fan_out]), name=f"bias{index}")
            self.layers.append((kernel, bias))

    def reconstruct(self, f: tf.Tensor) -> tf.Tensor:
        h = f
        for index, (kernel, bias) in enumerate(self.layers):
            h = h @ kernel + bias
            if index < len(self.layers) - 1:
                h = tf.nn.relu(h)
        return h

    def loss(self, f: tf.Tensor, p: tf.Tensor) -> tf.Tensor:
        return tf.reduce_mean(tf.square(self.reconstruct(f) - f), axis=[1, 2])


def make_task(cfg: CurvesConfig, seeds: Sequence[int]) -> CurvesTask:
    """The learner ``cfg.learner`` for every seed at once (leading seed axis)."""
    if cfg.learner == "fc":
        return FullyConnected(cfg, seeds)
    if cfg.learner in ("conv", "conv_whitened"):
        return Convolution(cfg, seeds, whiten=cfg.learner == "conv_whitened")
    return AutoEncoder(cfg, seeds)


def run(cfg: CurvesConfig, seeds: Sequence[int], ctx: engine.RunContext) -> None:
    """Train every seed of one learner as one ensemble, keeping decoded validation curves at
    the snapshot steps, and write their run directories."""
    task = make_task(cfg, seeds)
    optimizer = engine.Adam(
        task.trainable_variables, cfg.learning_rate, cfg.beta1, cfg.beta2, cfg.epsilon
    )
    schedule = engine.Schedule(cfg.steps, cfg.eval_every, cfg.snapshots_taken)
    engine.train(task, optimizer, schedule, ctx, asdict(cfg))
