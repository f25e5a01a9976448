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

The curve generator, W, W⁻¹ and the condition numbers are in ``theory``; the hyperparameters
in ``spec``.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import asdict

import numpy as np
import tensorflow as tf

from theorydl import engine
from theorydl.families.curves.spec import Config, CurvesConfig
from theorydl.families.curves.theory import (
    INVERSE_FILTER,
    conv_covariance,
    curve_pool,
    inverse_curve_matrix,
    whitening_matrix,
)
from theorydl.runtime import stream_key

__all__ = [
    "AutoEncoder",
    "Config",
    "Convolution",
    "CurvesConfig",
    "CurvesTask",
    "FullyConnected",
    "make_task",
    "run",
]


def _stack_keys(seeds: Sequence[int], stream: str) -> tf.Tensor:
    return tf.constant(np.stack([stream_key(s, stream) for s in seeds]))


def _pools(cfg: CurvesConfig, seeds: Sequence[int], name: str, size: int) -> tuple[tf.Tensor, ...]:
    """Each seed's fixed pool ``name`` stacked on the seed axis: f, p ``[S, size, n]``, in the
    learner's dtype (the curves have integer values: the same numbers in either)."""
    pools = [curve_pool(s, name, size, cfg.n, cfg.kinks, cfg.distribution) for s in seeds]
    return tuple(tf.constant(np.stack(part).astype(cfg.dtype)) for part in zip(*pools, strict=True))


def relative_errors(f: tf.Tensor, decoded: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """RMS and max of |decoded − f| per curve as fractions of the curve's range (last axis).

    The same quantities as :func:`theory.relative_errors`, inside the graph.
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
        self.weights = tf.Variable(tf.zeros([len(seeds), cfg.n, cfg.n], cfg.dtype), name="weights")
        self.optimum = tf.constant(inverse_curve_matrix(cfg.n).T.astype(cfg.dtype))

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
        self.filter = tf.Variable(tf.zeros([len(seeds), 3], cfg.dtype), name="filter")
        if whiten:
            # float64 on the host; the script computes C^{-1/2} with numpy's eigh as well.
            conditioners = [whitening_matrix(conv_covariance(f)) for f in self.train_f.numpy()]
        else:
            conditioners = [np.eye(3)] * len(seeds)
        self.conditioner = tf.constant(np.stack(conditioners).astype(cfg.dtype))

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
        target = tf.constant(INVERSE_FILTER, self.cfg.dtype)
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
                        dtype=cfg.dtype,
                    )
                    for s in seeds
                ]
            )
            kernel = tf.Variable(init, name=f"kernel{index}")
            bias = tf.Variable(tf.zeros([len(seeds), 1, fan_out], cfg.dtype), name=f"bias{index}")
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
