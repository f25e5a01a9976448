"""Parities: non-informative gradients (Failures of Gradient-Based Deep Learning, §2.1, Fig 1).

The target is the parity of a fixed random subset of the d input bits, x ∈ {±1}^d,
y = ∏_{i∈S} x_i; the learner is the authors' d → 10d ReLU → 1 network trained with SGD on the
hinge loss, on fresh samples every step. For d ≈ 30 the accuracy stays at chance: the gradient
carries almost no information about which parity is the target (Theorem 1; see
``theory``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict

import numpy as np
import tensorflow as tf

from theorydl import engine
from theorydl.families.parity.spec import Config, ParityConfig
from theorydl.runtime import numpy_rng, stream_key

__all__ = ["Config", "ParityConfig", "ParityEnsemble", "run"]


def subset_mask(cfg: ParityConfig, seed: int) -> np.ndarray:
    """The target's subset as a boolean mask over the d coordinates, fixed for a seed.

    As in the authors' script, the subset is the first |S| coordinates (the inputs are i.i.d., so
    which coordinates does not matter) and |S| ~ Binomial(d, 1/2) unless configured.
    """
    rng = numpy_rng(seed, "parity/subset")
    size = cfg.subset_size if cfg.subset_size is not None else int(rng.binomial(cfg.d, 0.5))
    return np.arange(cfg.d) < size


def sample_inputs(key: tf.Tensor, n: int, d: int) -> tf.Tensor:
    """``n`` uniform points of {±1}^d from a stateless key."""
    return tf.sign(tf.random.stateless_uniform([n, d], seed=key) - 0.5)


def parity_labels(x: tf.Tensor, mask: tf.Tensor) -> tf.Tensor:
    """y = ∏_{i∈S} x_i for inputs ``[..., d]`` and a mask broadcastable to them."""
    return tf.reduce_prod(tf.where(mask, x, tf.ones_like(x)), axis=-1)


def hinge(y: tf.Tensor, score: tf.Tensor) -> tf.Tensor:
    """Per-example hinge loss max(0, 1 − y·score)."""
    return tf.nn.relu(1.0 - y * score)


class ParityEnsemble(tf.Module):
    """The d → width ReLU → 1 network for several seeds at once (leading seed axis everywhere)."""

    def __init__(self, cfg: ParityConfig, seeds: Sequence[int]):
        super().__init__(name="parity")
        self.cfg = cfg
        self.seeds = tuple(seeds)
        d, width = cfg.d, cfg.width
        self.mask = tf.constant(np.stack([subset_mask(cfg, s) for s in self.seeds])[:, None, :])
        self.train_keys = [tf.constant(stream_key(s, "parity/train")) for s in self.seeds]
        self.eval_keys = [tf.constant(stream_key(s, "parity/eval")) for s in self.seeds]
        # Dense init of the scripts: truncated normal (±2σ) with σ = 1/sqrt(fan_in), zero bias.
        self.w1 = tf.Variable(self._init(seeds, "w1", [d, width], d**-0.5), name="w1")
        self.b1 = tf.Variable(tf.zeros([len(self.seeds), 1, width]), name="b1")
        self.w2 = tf.Variable(self._init(seeds, "w2", [width, 1], width**-0.5), name="w2")
        self.b2 = tf.Variable(tf.zeros([len(self.seeds), 1, 1]), name="b2")

    @staticmethod
    def _init(seeds: Sequence[int], name: str, shape: list[int], std: float) -> tf.Tensor:
        return tf.stack(
            [
                tf.random.stateless_truncated_normal(
                    shape, seed=stream_key(s, f"parity/init/{name}"), stddev=std
                )
                for s in seeds
            ]
        )

    @property
    def params(self) -> tuple[tf.Variable, ...]:
        """The weights in the order :meth:`scores` takes them."""
        return (self.w1, self.b1, self.w2, self.b2)

    def scores(self, x: tf.Tensor, params: Sequence[tf.Tensor] | None = None) -> tf.Tensor:
        """Network output ``[S, n]`` for inputs ``[S, n, d]`` (with other weights if given)."""
        w1, b1, w2, b2 = self.params if params is None else params
        hidden = tf.nn.relu(tf.matmul(x, w1) + b1)
        return tf.squeeze(tf.matmul(hidden, w2) + b2, axis=-1)

    def _batch(self, keys: list[tf.Tensor], step: tf.Tensor, n: int) -> tuple[tf.Tensor, tf.Tensor]:
        x = tf.stack(
            [
                sample_inputs(tf.random.experimental.stateless_fold_in(k, step), n, self.cfg.d)
                for k in keys
            ]
        )
        return x, parity_labels(x, self.mask)

    def train_loss(self, step: tf.Tensor) -> tf.Tensor:
        x, y = self._batch(self.train_keys, step, self.cfg.batch_size)
        return tf.reduce_mean(hinge(y, self.scores(x)), axis=-1)

    def evaluate(self, step: tf.Tensor) -> dict[str, tf.Tensor]:
        x, y = self._batch(self.eval_keys, step, self.cfg.eval_samples)
        score = self.scores(x)
        return {
            "accuracy": tf.reduce_mean(tf.cast(y * score > 0, tf.float32), axis=-1),
            "loss": tf.reduce_mean(hinge(y, score), axis=-1),
        }

    def final_arrays(self) -> dict[str, np.ndarray]:
        return {
            "subset_mask": self.mask.numpy()[:, 0, :],
            "w1": self.w1.numpy(),
            "b1": self.b1.numpy()[:, 0, :],
            "w2": self.w2.numpy()[:, :, 0],
            "b2": self.b2.numpy()[:, 0, 0],
        }


def run(cfg: ParityConfig, seeds: Sequence[int], ctx: engine.RunContext) -> None:
    """Train every seed of one d as one ensemble and write their run directories."""
    task = ParityEnsemble(cfg, seeds)
    optimizer = engine.SGD(task.trainable_variables, cfg.learning_rate)
    engine.train(task, optimizer, engine.Schedule(cfg.steps, cfg.eval_every), ctx, asdict(cfg))
