"""GaLU networks (Fiat, Malach, Shalev-Shwartz 2019): a neuron is a *selector* (its gate) and a
*linear aggregator*; a GaLU neuron gives the gate its own, random, never-trained vector f:

    ReLU:  h_i(x) = ⟨w_i, x⟩ · 1[⟨w_i, x⟩ > 0]
    GaLU:  h_i(x) = ⟨w_i, x⟩ · 1[⟨f_i, x⟩ > 0]

One hidden layer of k units, no biases, a linear readout to a scalar, trained by Adam on
mini-batches drawn without replacement and reshuffled every pass over the m training points, as
in the authors' code. Every seed of a variant trains at once (a leading seed axis); the points,
labels and gates come from ``data.py``, shared with the exact solutions of ``theory.py``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict

import numpy as np
import tensorflow as tf

from theorydl import engine
from theorydl.families.gating.data import data, gate_vectors
from theorydl.families.gating.spec import Config, GatingConfig
from theorydl.runtime import stream_key

__all__ = ["Config", "GatingConfig", "GatingEnsemble", "run"]


def _xavier_normal(seeds: Sequence[int], name: str, shape: list[int], gain: float) -> tf.Tensor:
    std = gain * math.sqrt(2.0 / (shape[0] + shape[1]))
    return tf.stack(
        [tf.random.stateless_normal(shape, seed=stream_key(s, name), stddev=std) for s in seeds]
    )


def step_gate(z: tf.Tensor) -> tf.Tensor:
    """The authors' 0/1 gate (sign z + 1)/2; its gradient is zero, so nothing trains through it."""
    return (tf.sign(z) + 1.0) / 2.0


def pass_order(key: tf.Tensor, e: tf.Tensor, m: int) -> tf.Tensor:
    """The order ``[m]`` in which pass ``e`` over the m training points visits them: a
    stateless permutation drawn from the seed's key and the pass."""
    pass_key = tf.random.experimental.stateless_fold_in(key, e)
    return tf.argsort(tf.random.stateless_uniform([m], seed=pass_key))


def epoch_batch(key: tf.Tensor, step: tf.Tensor, m: int, batch: int) -> tf.Tensor:
    """Indices of the training points of ``step``'s mini-batch ``[batch]`` (the definition that
    :class:`GatingEnsemble` computes with a cache).

    The points are visited in passes, each in a fresh random order (:func:`pass_order`); step t
    takes positions t·batch … t·batch + batch − 1 of that sequence, so a batch that straddles
    two passes ends one and starts the next, as a data loader that reshuffles each pass and
    keeps its last, partial batch would (in sum).
    """
    position = tf.cast(step, tf.int64) * batch + tf.range(batch, dtype=tf.int64)
    epoch, offset = position // m, position % m
    first = tf.reduce_min(epoch)
    this, following = pass_order(key, first, m), pass_order(key, first + 1, m)
    return tf.where(epoch == first, tf.gather(this, offset), tf.gather(following, offset))


class GatingEnsemble(tf.Module):
    """A one-hidden-layer ReLU or GaLU network for several seeds at once."""

    def __init__(self, cfg: GatingConfig, seeds: Sequence[int]):
        super().__init__(name="gating")
        self.cfg = cfg
        self.seeds = tuple(seeds)
        draws = [data(s, cfg) for s in self.seeds]
        as_tensor = lambda name: tf.constant(  # noqa: E731
            np.stack([getattr(d, name) for d in draws]), tf.float32
        )
        self.x_train, self.y_train = as_tensor("x_train"), as_tensor("y_train")
        self.x_test, self.y_test = as_tensor("x_test"), as_tensor("y_test")
        self.batch_keys = [tf.constant(stream_key(s, "gating/batches")) for s in self.seeds]
        # The orders of the pass a step starts in and of the next one, per seed: recomputed when
        # a step enters a new pass, not at every step (argsorts per seed cost more than the
        # network's step). A cache of epoch_batch's pure function of (seed, step).
        self.order = tf.Variable(tf.zeros([len(self.seeds), 2 * cfg.m], tf.int32), trainable=False)
        self.order_pass = tf.Variable(tf.constant(-1, tf.int64), trainable=False)
        # The gates' vectors: a variable so that they are saved and checked, never trained.
        f = np.stack([gate_vectors(s, cfg) for s in self.seeds]).transpose(0, 2, 1)
        self.f = tf.Variable(tf.constant(f, tf.float32), trainable=False, name="f")  # [S, d, k]
        self.w = tf.Variable(
            _xavier_normal(self.seeds, "gating/init/w", [cfg.d, cfg.k], math.sqrt(2.0)), name="w"
        )
        self.u = tf.Variable(_xavier_normal(self.seeds, "gating/init/u", [cfg.k, 1], 1.0), name="u")

    def outputs(self, x: tf.Tensor) -> tf.Tensor:
        """Network output ``[S, n]`` for points ``[S, n, d]``."""
        linear = tf.matmul(x, self.w)
        selector = linear if self.cfg.learner == "relu" else tf.matmul(x, self.f)
        hidden = linear * step_gate(selector)
        return tf.squeeze(tf.matmul(hidden, self.u), axis=-1)

    def losses(self, out: tf.Tensor, y: tf.Tensor) -> tf.Tensor:
        """Per-point loss: squared error, or hinge for classification."""
        if self.cfg.experiment == "noise" and self.cfg.task == "classification":
            return tf.nn.relu(1.0 - y * out)
        return tf.square(out - y)

    def batch_index(self, step: tf.Tensor) -> tf.Tensor:
        """The training points of ``step``'s mini-batch per seed ``[S, batch]``: epoch_batch."""
        m, batch = self.cfg.m, self.cfg.batch_size
        start = tf.cast(step, tf.int64) * batch
        first = start // m

        def refresh() -> tf.Tensor:
            orders = [
                tf.concat([pass_order(k, first, m), pass_order(k, first + 1, m)], axis=0)
                for k in self.batch_keys
            ]
            self.order.assign(tf.stack(orders))
            self.order_pass.assign(first)
            return first

        tf.cond(tf.equal(first, self.order_pass), lambda: first, refresh)
        return tf.gather(self.order, start - first * m + tf.range(batch, dtype=tf.int64), axis=1)

    def train_loss(self, step: tf.Tensor) -> tf.Tensor:
        index = self.batch_index(step)
        x = tf.gather(self.x_train, index, batch_dims=1)
        y = tf.gather(self.y_train, index, batch_dims=1)
        return tf.reduce_mean(self.losses(self.outputs(x), y), axis=-1)

    def _split(self, x: tf.Tensor, y: tf.Tensor, split: str) -> dict[str, tf.Tensor]:
        out = self.outputs(x)
        metrics = {f"{split}_loss": tf.reduce_mean(self.losses(out, y), axis=-1)}
        if self.cfg.task == "classification":
            wrong = tf.cast(out * y <= 0, tf.float32)
            metrics[f"{split}_error"] = tf.reduce_mean(wrong, axis=-1)
        return metrics

    def evaluate(self, step: tf.Tensor) -> dict[str, tf.Tensor]:
        metrics = self._split(self.x_train, self.y_train, "train")
        if self.cfg.experiment == "noise":
            metrics.update(self._split(self.x_test, self.y_test, "test"))
        return metrics

    def final_arrays(self) -> dict[str, np.ndarray]:
        return {"w": self.w.numpy(), "u": self.u.numpy()[..., 0], "f": self.f.numpy()}


def run(cfg: GatingConfig, seeds: Sequence[int], ctx: engine.RunContext) -> None:
    """Train every seed of one variant as one ensemble and write their run directories."""
    task = GatingEnsemble(cfg, seeds)
    optimizer = engine.Adam(task.trainable_variables, cfg.learning_rate)
    engine.train(task, optimizer, engine.Schedule(cfg.steps, cfg.eval_every), ctx, asdict(cfg))
