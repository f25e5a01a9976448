"""Benchmark: the training engine against older and plainer ways to train, for every family.

For the main model of every experiment family, prints seed-steps per second of

- ``engine``: this package's engine (``theorydl.engine._Loop``): one compiled loop per evaluation
  interval, every seed in one ensemble (a leading seed axis), data drawn on the device;
- ``feed_dict``: the papers'-era research code: a ``tf.compat.v1`` graph and session per seed,
  one ``sess.run`` per step, batches made with numpy on the host (or read from a pool, where
  the authors' script read a file) and fed through ``feed_dict``, seeds one after another;
- ``keras_fit``: what a Keras 3 user writes today: the same layers as a Keras model, compiled
  with the defaults (Keras compiles the train step with ``tf.function``, with XLA where every
  layer supports it) and trained by ``model.fit`` on host numpy arrays, seeds one after another.

All three train the same model (same layers, initialization, loss, optimizer and batch size), on
the same number of TensorFlow threads, with an evaluation at the family's interval (the engine's
evaluation computes every metric the family logs; the other two only the loss); the timed part
starts after a few untimed warm-up steps that trace and compile. An ensemble step of S seeds
counts S seed-steps. Each measurement runs in its own process.

Also prints the FLOP rate the engine achieves on the heaviest job, the tuple CNN at the paper's
batch of 200, against the machine's matmul peak measured in the same run.

    python scripts/bench/benchmark_families.py                           # all; 5 seeds; 1 thread
    python scripts/bench/benchmark_families.py --families parity flat --seeds 2 --steps 400
    python scripts/bench/benchmark_families.py --json results/benchmark_families.json
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

BENCH = Path(__file__).resolve().parent  # the benchmarks import each other
SCRIPTS = BENCH.parent  # and the theorydl package
sys.path[:0] = [str(BENCH), str(SCRIPTS)]

from benchmark_engine import (  # noqa: E402 (needs BENCH on the path)
    HostData,
    ParityHostData,
    SessionModel,
    Timing,
    parity_session,
    run_isolated,
    sequential_rate,
    tf1_dense,
    time_engine,
    time_session,
)

from theorydl import engine, runtime  # noqa: E402
from theorydl.families.curves import model as curves  # noqa: E402
from theorydl.families.flat import model as flat  # noqa: E402
from theorydl.families.gating import data as gating_data  # noqa: E402
from theorydl.families.gating import model as gating  # noqa: E402
from theorydl.families.hierarchical import model as hierarchical  # noqa: E402
from theorydl.families.parity.model import ParityConfig, ParityEnsemble  # noqa: E402
from theorydl.families.sharing import model as sharing  # noqa: E402
from theorydl.families.stocks import model as stocks  # noqa: E402
from theorydl.families.tuples import model as tuples  # noqa: E402

tf1 = tf.compat.v1
MODES = ("engine", "feed_dict", "keras_fit")
# Untimed steps before each timed run: enough to trace, compile and allocate; more only costs.
WARMUP = 3
# Distinct batches in the tuples' host pool (the script read a pool of 500 000 tuples in order;
# which tuples a step sees does not change its cost).
TUPLE_POOL_BATCHES = 16
MATMUL_SIZE = 2048


@dataclass(frozen=True)
class Work:
    """What one seed-step must push through the machine, for the roofline: FLOPs of the
    forward and backward pass, and the bytes of weights and optimizer state it must stream
    where that is the bound (Adam's update of a large weight matrix)."""

    flops: int
    streamed_bytes: int = 0


@dataclass(frozen=True)
class Benchmark:
    """The main model of one family, three ways. ``session`` and ``keras`` build one seed's model
    and its host data; the host data's arrays are what the TF1 graph's placeholders take, and
    Keras takes the first as x and the last as y (for an auto-encoder, the same one)."""

    family: str
    variant: str
    description: str
    batch: int
    eval_every: int
    steps: int  # default timed steps per seed
    engine: Callable[[list[int]], tuple[Any, Any]]  # seeds → (task, optimizer)
    session: Callable[[int], SessionModel]
    keras: Callable[[int], tuple[keras.Model, HostData]]
    work: Callable[[], Work]  # per seed-step, from the model's sizes (read when printed)


def dense_step_flops(widths: Sequence[int], batch: int) -> int:
    """FLOPs of one training step of an MLP widths[0] → … → widths[-1] on ``batch`` examples:
    2 per multiply-add of every layer, times 3 for forward and backward (the backward pass
    computes a gradient for the activations and one for the weights, each about a forward
    pass). Bias adds and activations are left out (under 1 % at these widths)."""
    return 3 * 2 * batch * sum(a * b for a, b in itertools.pairwise(widths))


def truncated_normal(std: float, seed: int) -> keras.initializers.Initializer:
    """The scripts' init (truncated at ±2σ, as TF1's) for a Keras layer."""
    return keras.initializers.TruncatedNormal(stddev=std, seed=seed)


def keras_mlp(widths: Sequence[int], seed: int, activation: str = "relu") -> list:
    """Dense layers widths[0] → … → widths[-1], the activation on all but the last, with the
    scripts' init (σ = 1/√fan-in, zero bias)."""
    layers: list = [keras.Input((widths[0],))]
    for index, (fan_in, fan_out) in enumerate(itertools.pairwise(widths)):
        last = index == len(widths) - 2
        layers.append(
            keras.layers.Dense(
                fan_out,
                activation=None if last else activation,
                kernel_initializer=truncated_normal(fan_in**-0.5, seed * 100 + index),
            )
        )
    return layers


def tf1_mlp(x: tf.Tensor, widths: Sequence[int]) -> tf.Tensor:
    """TF1 dense layers widths[0] → … → widths[-1], ReLU on all but the last."""
    for index, (fan_in, fan_out) in enumerate(itertools.pairwise(widths)):
        x = tf1_dense(x, fan_in, fan_out, f"dense{index}")
        if index < len(widths) - 2:
            x = tf.nn.relu(x)
    return x


# --------------------------------------------------------------------------------------------
# parity: d → 10d ReLU → 1, hinge loss, SGD 0.01, batch 128 (the TF1 graph is benchmark_engine's).

PARITY = ParityConfig(d=30)


def parity_engine(seeds: list[int]) -> tuple[Any, Any]:
    """The family's ensemble and optimizer, as ``parity.run`` builds them."""
    task = ParityEnsemble(PARITY, seeds)
    return task, engine.SGD(task.trainable_variables, PARITY.learning_rate)


def parity_keras(seed: int) -> tuple[keras.Model, HostData]:
    """The parity network as a Keras model, with ``parity.py``'s host data."""
    d = PARITY.d
    model = keras.Sequential(keras_mlp([d, PARITY.width, 1], seed))
    model.compile(keras.optimizers.SGD(PARITY.learning_rate), keras.losses.Hinge())
    return model, ParityHostData(d, seed, PARITY.batch_size, PARITY.eval_samples)


# --------------------------------------------------------------------------------------------
# tuples: N(1) shared over the k images, N(2) on their scores, E2E hinge loss, Adam 1e-3.


def tuples_config(batch: int) -> tuples.TuplesConfig:
    """The E2E learner at k = 2 (the largest k that E2E learns) and this batch size."""
    return tuples.TuplesConfig(k=2, method="e2e", batch_size=batch)


class TuplesHostData:
    """A pool of training tuples read in order, as ``tuple_rect.py`` read its file, and the fixed
    test tuples; drawn once, untimed, with the family's own generator."""

    def __init__(self, cfg: tuples.TuplesConfig, seed: int):
        key = tf.constant(runtime.stream_key(seed, f"tuples/train/k{cfg.k}"))
        images, _, labels = tuples.sample_tuples(key, TUPLE_POOL_BATCHES * cfg.batch_size, cfg.k)
        shape = [TUPLE_POOL_BATCHES, cfg.batch_size]
        self.images = images.numpy().reshape(shape + list(images.shape[1:]))
        self.labels = labels.numpy().reshape(shape)
        key = tf.constant(runtime.stream_key(seed, f"tuples/test/k{cfg.k}"))
        test_images, _, test_labels = tuples.sample_tuples(key, cfg.test_tuples, cfg.k)
        self.test = (test_images.numpy(), test_labels.numpy())

    def train_batch(self, step: int) -> tuple[np.ndarray, np.ndarray]:
        index = step % TUPLE_POOL_BATCHES
        return self.images[index], self.labels[index]

    def eval_batch(self) -> tuple[np.ndarray, np.ndarray]:
        return self.test


def tuples_engine(batch: int) -> Callable[[list[int]], tuple[Any, Any]]:
    """The family's task and optimizer at this batch size, as ``tuples.run`` builds them."""

    def build(seeds: list[int]) -> tuple[Any, Any]:
        cfg = tuples_config(batch)
        task = tuples.TuplesTask(cfg, seeds)
        optimizer = engine.Adam(
            task.trainable_variables, cfg.learning_rate, cfg.beta1, cfg.beta2, cfg.epsilon
        )
        return task, optimizer

    return build


def tuples_session(batch: int) -> Callable[[int], SessionModel]:
    """``tuple_rect.py``'s graph: conv 5×5×16 → pool → conv 5×5×16 → pool → 50 ReLU → 100 ReLU
    → 1 per image, then sigmoid → 100 ReLU → 1 per tuple; TF1's Adam."""

    def build(seed: int) -> SessionModel:
        cfg = tuples_config(batch)
        size = tuples.IMAGE_SIZE
        graph = tf1.Graph()
        with graph.as_default():
            tf1.set_random_seed(seed)
            images = tf1.placeholder(tf.float32, [None, cfg.k, size, size])
            labels = tf1.placeholder(tf.float32, [None])
            x = tf.reshape(images, [-1, size, size, 1])
            for name, channels, std in (("conv1", 1, size**-0.5), ("conv2", 16, 16**-0.5)):
                kernel = tf1.Variable(tf1.truncated_normal([5, 5, channels, 16], stddev=std))
                bias = tf1.Variable(tf1.zeros([16]), name=f"{name}_b")
                x = tf.nn.conv2d(x, kernel, 1, "SAME") + bias
                x = tf.nn.max_pool2d(x, 2, 2, "SAME")
            x = tf.reshape(x, [-1, 7 * 7 * 16])
            scores = tf.reshape(tf1_mlp(x, [7 * 7 * 16, 50, tuples.FEATURES, 1]), [-1, cfg.k])
            hidden = tf.nn.relu(tf1_dense(tf.sigmoid(scores), cfg.k, 100, "middle"))
            outputs = tf.squeeze(tf1_dense(hidden, 100, 1, "out"), 1)
            loss = tf.reduce_mean(tuples.hinge(labels, outputs))
            accuracy = tf.reduce_mean(tf.cast(labels * outputs > 0, tf.float32))
            adam = tf1.train.AdamOptimizer(cfg.learning_rate, cfg.beta1, cfg.beta2, cfg.epsilon)
            train = adam.minimize(loss)
        return SessionModel(
            graph, (images, labels), train, (loss, accuracy), TuplesHostData(cfg, seed)
        )

    return build


def tuples_keras(batch: int) -> Callable[[int], tuple[keras.Model, HostData]]:
    """The tuple networks as a Keras model: N(1) a Sequential applied to every image by
    ``TimeDistributed`` (one call on all n·k images), N(2) on top."""

    def build(seed: int) -> tuple[keras.Model, HostData]:
        cfg = tuples_config(batch)
        size = tuples.IMAGE_SIZE
        layers = keras.layers
        scorer = keras.Sequential(
            [
                keras.Input((size, size)),
                layers.Reshape((size, size, 1)),
                layers.Conv2D(
                    16,
                    5,
                    padding="same",
                    kernel_initializer=truncated_normal(size**-0.5, seed * 100 + 50),
                ),
                layers.MaxPooling2D(2, padding="same"),
                layers.Conv2D(
                    16,
                    5,
                    padding="same",
                    kernel_initializer=truncated_normal(16**-0.5, seed * 100 + 51),
                ),
                layers.MaxPooling2D(2, padding="same"),
                layers.Flatten(),
                *keras_mlp([7 * 7 * 16, 50, tuples.FEATURES, 1], seed)[1:],
            ]
        )
        tuple_images = keras.Input((cfg.k, size, size))
        scores = layers.Reshape((cfg.k,))(layers.TimeDistributed(scorer)(tuple_images))
        head = keras.Sequential(keras_mlp([cfg.k, 100, 1], seed + 10_000)[1:])
        model = keras.Model(tuple_images, head(layers.Activation("sigmoid")(scores)))
        adam = keras.optimizers.Adam(cfg.learning_rate, cfg.beta1, cfg.beta2, cfg.epsilon)
        model.compile(adam, keras.losses.Hinge())
        return model, TuplesHostData(cfg, seed)

    return build


# --------------------------------------------------------------------------------------------
# curves: the deep auto-encoder 100 → 500 → 100 → 6 → 100 → 100 → 100, MSE, Adam 1e-3.

CURVES = curves.CurvesConfig(learner="autoencoder")
CURVE_WIDTHS = [
    CURVES.n,
    *CURVES.encoder_widths,
    2 * CURVES.kinks,
    *CURVES.decoder_widths,
    CURVES.n,
]


class CurvesHostData:
    """``PWL_fail1.py``'s data: a fixed pool of training curves sampled with replacement by
    ``np.random.randint`` every step, and the fixed validation curves (the auto-encoder's
    input is its target, so each batch is one array)."""

    def __init__(self, seed: int):
        cfg = CURVES
        self.pool, _ = curves.curve_pool(
            seed, "train", cfg.train_curves, cfg.n, cfg.kinks, cfg.distribution
        )
        valid, _ = curves.curve_pool(
            seed, "validation", cfg.validation_curves, cfg.n, cfg.kinks, cfg.distribution
        )
        self.valid = (valid,)
        self.rng = np.random.default_rng(seed)

    def train_batch(self, step: int) -> tuple[np.ndarray]:
        return (self.pool[self.rng.integers(0, len(self.pool), CURVES.batch_size)],)

    def eval_batch(self) -> tuple[np.ndarray]:
        return self.valid


def curves_engine(seeds: list[int]) -> tuple[Any, Any]:
    """The auto-encoder learner and its optimizer, as ``curves.run`` builds them."""
    cfg = CURVES
    task = curves.make_task(cfg, seeds)
    optimizer = engine.Adam(
        task.trainable_variables, cfg.learning_rate, cfg.beta1, cfg.beta2, cfg.epsilon
    )
    return task, optimizer


def curves_session(seed: int) -> SessionModel:
    """The auto-encoder as a TF1 graph, TF1's Adam with its default β and ε."""
    cfg = CURVES
    graph = tf1.Graph()
    with graph.as_default():
        tf1.set_random_seed(seed)
        f = tf1.placeholder(tf.float32, [None, cfg.n])
        loss = tf.reduce_mean(tf.square(tf1_mlp(f, CURVE_WIDTHS) - f))
        adam = tf1.train.AdamOptimizer(cfg.learning_rate, cfg.beta1, cfg.beta2, cfg.epsilon)
        train = adam.minimize(loss)
    return SessionModel(graph, (f,), train, (loss,), CurvesHostData(seed))


def curves_keras(seed: int) -> tuple[keras.Model, HostData]:
    """The auto-encoder as a Keras model."""
    cfg = CURVES
    model = keras.Sequential(keras_mlp(CURVE_WIDTHS, seed))
    adam = keras.optimizers.Adam(cfg.learning_rate, cfg.beta1, cfg.beta2, cfg.epsilon)
    model.compile(adam, keras.losses.MeanSquaredError())
    return model, CurvesHostData(seed)


# --------------------------------------------------------------------------------------------
# flat: the end-to-end MLP 100 → 3 × 100 ReLU → 1, MSE, Adam 1e-3 (β₂ 0.99, ε 1e-5).

FLAT = flat.FlatConfig(method="end_to_end")
FLAT_WIDTHS = [FLAT.input_dim] + [FLAT.hidden_width] * flat.EndToEnd.HIDDEN_LAYERS + [1]


class FlatHostData:
    """``step_learn.py``'s data: fresh inputs x ~ N(0, I)/100 drawn with numpy every step,
    labelled by the seed's step function u(v*ᵀx + b*); a fixed test set."""

    def __init__(self, seed: int):
        self.target = flat.draw_target(FLAT, seed)
        self.rng = np.random.default_rng(seed)
        self.test = self._draw(FLAT.eval_samples)

    def _draw(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        x = self.rng.standard_normal((n, FLAT.input_dim)).astype(np.float32) / 100.0
        r = x @ self.target.w_star + self.target.b_star
        below = np.searchsorted(self.target.steps, r, side="right") - 1
        return x, self.target.steps[np.maximum(below, 0)].astype(np.float32)

    def train_batch(self, step: int) -> tuple[np.ndarray, np.ndarray]:
        return self._draw(FLAT.batch_size)

    def eval_batch(self) -> tuple[np.ndarray, np.ndarray]:
        return self.test


def flat_engine(seeds: list[int]) -> tuple[Any, Any]:
    """The end-to-end learner and its optimizer, as ``flat.run`` builds them."""
    learner = flat.build(FLAT, seeds)
    optimizer = engine.Adam(
        learner.trainable_variables, FLAT.learning_rate, FLAT.beta1, FLAT.beta2, FLAT.epsilon
    )
    return learner, optimizer


def flat_session(seed: int) -> SessionModel:
    """The end-to-end MLP as a TF1 graph."""
    graph = tf1.Graph()
    with graph.as_default():
        tf1.set_random_seed(seed)
        x = tf1.placeholder(tf.float32, [None, FLAT.input_dim])
        y = tf1.placeholder(tf.float32, [None])
        loss = tf.reduce_mean(tf.square(tf.squeeze(tf1_mlp(x, FLAT_WIDTHS), 1) - y))
        adam = tf1.train.AdamOptimizer(FLAT.learning_rate, FLAT.beta1, FLAT.beta2, FLAT.epsilon)
        train = adam.minimize(loss)
    return SessionModel(graph, (x, y), train, (loss,), FlatHostData(seed))


def flat_keras(seed: int) -> tuple[keras.Model, HostData]:
    """The end-to-end MLP as a Keras model."""
    model = keras.Sequential(keras_mlp(FLAT_WIDTHS, seed))
    adam = keras.optimizers.Adam(FLAT.learning_rate, FLAT.beta1, FLAT.beta2, FLAT.epsilon)
    model.compile(adam, keras.losses.MeanSquaredError())
    return model, FlatHostData(seed)


# --------------------------------------------------------------------------------------------
# sharing: k = 10 patches of d = 10, units tanh(⟨w_i, x_i⟩), the teacher's g* (mixed target)
# known, squared loss, SGD 0.01, batch 100 of a fixed training set reshuffled every epoch.


def sharing_config(architecture: str) -> sharing.SharingConfig:
    """The mixed target with g known, for the shared or the local architecture."""
    return sharing.SharingConfig(architecture=architecture, target="mixed", g="known")


class SharingHostData:
    """The seed's fixed training and held-out sets (made once with the family's generator and
    teacher), batches in a fresh numpy permutation every epoch."""

    def __init__(self, cfg: sharing.SharingConfig, seed: int):
        self.cfg = cfg
        u0 = sharing.teacher_filter(seed, cfg.d)

        def labelled(heldout: bool) -> tuple[np.ndarray, np.ndarray]:
            x = sharing.inputs(seed, cfg, heldout=heldout)
            y = sharing.outer_target(cfg, sharing.teacher_units(cfg, x, u0))
            return x.numpy(), y.numpy()

        self.x, self.y = labelled(heldout=False)
        self.test = labelled(heldout=True)
        self.rng = np.random.default_rng(seed)
        self.epoch, self.order = -1, np.arange(len(self.x))

    def train_batch(self, step: int) -> tuple[np.ndarray, np.ndarray]:
        epoch, position = divmod(step, self.cfg.steps_per_epoch)
        if epoch != self.epoch:
            self.epoch, self.order = epoch, self.rng.permutation(len(self.x))
        index = self.order[position * self.cfg.batch_size : (position + 1) * self.cfg.batch_size]
        return self.x[index], self.y[index]

    def eval_batch(self) -> tuple[np.ndarray, np.ndarray]:
        return self.test


def sharing_units(cfg: sharing.SharingConfig, x: tf.Tensor, w: tf.Tensor) -> tf.Tensor:
    """The student's units tanh(s·⟨w_i, x_i⟩) of one seed, for patches ``[n, k, d]`` and one
    filter ``[d]`` (shared) or one per patch ``[k, d]`` (local)."""
    if cfg.architecture == "shared":
        return tf.tanh(cfg.steepness * tf.linalg.matvec(x, w))
    return tf.tanh(cfg.steepness * tf.reduce_sum(x * w, axis=-1))


def sharing_filter_shape(cfg: sharing.SharingConfig) -> list[int]:
    """One filter, or one per patch."""
    return [cfg.d] if cfg.architecture == "shared" else [cfg.k, cfg.d]


def sharing_engine(architecture: str) -> Callable[[list[int]], tuple[Any, Any]]:
    """The family's ensemble and optimizer, as ``sharing.run`` builds them."""

    def build(seeds: list[int]) -> tuple[Any, Any]:
        cfg = sharing_config(architecture)
        task = sharing.SharingEnsemble(cfg, seeds)
        return task, sharing.make_optimizer(cfg, task.trainable_variables)

    return build


def sharing_session(architecture: str) -> Callable[[int], SessionModel]:
    """The student with g* known as a TF1 graph, plain SGD."""

    def build(seed: int) -> SessionModel:
        cfg = sharing_config(architecture)
        graph = tf1.Graph()
        with graph.as_default():
            tf1.set_random_seed(seed)
            x = tf1.placeholder(tf.float32, [None, cfg.k, cfg.d])
            y = tf1.placeholder(tf.float32, [None])
            w = tf1.Variable(tf1.random_normal(sharing_filter_shape(cfg), stddev=cfg.d**-0.5))
            outputs = sharing.outer_target(cfg, sharing_units(cfg, x, w))
            loss = tf.reduce_mean(tf.square(outputs - y))
            train = tf1.train.GradientDescentOptimizer(cfg.learning_rate).minimize(loss)
        return SessionModel(graph, (x, y), train, (loss,), SharingHostData(cfg, seed))

    return build


class SharingStudent(keras.layers.Layer):
    """The student with g* known as a Keras layer: patches ``[n, k, d]`` → output ``[n, 1]``."""

    def __init__(self, cfg: sharing.SharingConfig, seed: int, **kwargs: Any):
        super().__init__(**kwargs)
        self.cfg = cfg
        init = keras.initializers.RandomNormal(stddev=cfg.d**-0.5, seed=seed)
        self.w = self.add_weight(shape=sharing_filter_shape(cfg), initializer=init, name="w")

    def call(self, x: tf.Tensor) -> tf.Tensor:
        return sharing.outer_target(self.cfg, sharing_units(self.cfg, x, self.w))[:, None]


def sharing_keras(architecture: str) -> Callable[[int], tuple[keras.Model, HostData]]:
    """The student as a Keras model, plain SGD."""

    def build(seed: int) -> tuple[keras.Model, HostData]:
        cfg = sharing_config(architecture)
        model = keras.Sequential([keras.Input((cfg.k, cfg.d)), SharingStudent(cfg, seed)])
        model.compile(keras.optimizers.SGD(cfg.learning_rate), keras.losses.MeanSquaredError())
        return model, SharingHostData(cfg, seed)

    return build


def sharing_work(cfg: sharing.SharingConfig) -> Work:
    """The student's units ⟨w_i, x_i⟩ over k patches of d, forward and backward; g* (known)
    and tanh are a few FLOPs per unit more."""
    return Work(3 * 2 * cfg.batch_size * cfg.k * cfg.d)


# --------------------------------------------------------------------------------------------
# gating: the largest memorisation cell, m = 1024 random points in d = 32, k = 32 hidden units
# without biases and a scalar readout, MSE, Adam 1e-3, batch 128 reshuffled every pass. ReLU
# gates on ⟨w, x⟩; GaLU on ⟨f, x⟩ with f fixed at random (a constant, never trained).


def gating_config(learner: str) -> gating.GatingConfig:
    """The largest cell of the paper's Fig 2 grid, for ReLU or GaLU."""
    return gating.GatingConfig(experiment="memorise", learner=learner, m=1024, d=32, k=32)


class GatingHostData:
    """The seed's fixed points and labels (the family's own draws), batches in a fresh numpy
    permutation every pass; an evaluation fetches the loss on the whole training set."""

    def __init__(self, cfg: gating.GatingConfig, seed: int):
        self.cfg = cfg
        drawn = gating_data.data(seed, cfg)
        self.x, self.y = drawn.x_train.astype(np.float32), drawn.y_train.astype(np.float32)
        self.rng = np.random.default_rng(seed)
        self.epoch, self.order = -1, np.arange(cfg.m)

    def train_batch(self, step: int) -> tuple[np.ndarray, np.ndarray]:
        epoch, position = divmod(step, self.cfg.m // self.cfg.batch_size)
        if epoch != self.epoch:
            self.epoch, self.order = epoch, self.rng.permutation(self.cfg.m)
        index = self.order[position * self.cfg.batch_size : (position + 1) * self.cfg.batch_size]
        return self.x[index], self.y[index]

    def eval_batch(self) -> tuple[np.ndarray, np.ndarray]:
        return self.x, self.y


def gating_gates(cfg: gating.GatingConfig, seed: int) -> np.ndarray:
    """The GaLU layer's fixed gate vectors ``[d, k]`` of one seed."""
    return gating_data.gate_vectors(seed, cfg).T.astype(np.float32)


def gating_outputs(cfg: gating.GatingConfig, x: tf.Tensor, w: Any, u: Any, f: Any) -> tf.Tensor:
    """The network's output ``[n]``: ⟨w_i, x⟩ gated by ⟨w_i, x⟩ (ReLU) or ⟨f_i, x⟩ (GaLU)."""
    linear = tf.matmul(x, w)
    selector = linear if cfg.learner == "relu" else tf.matmul(x, f)
    return tf.squeeze(tf.matmul(linear * gating.step_gate(selector), u), axis=-1)


def gating_engine(learner: str) -> Callable[[list[int]], tuple[Any, Any]]:
    """The family's ensemble and Adam, as ``gating.run`` builds them."""

    def build(seeds: list[int]) -> tuple[Any, Any]:
        cfg = gating_config(learner)
        task = gating.GatingEnsemble(cfg, seeds)
        return task, engine.Adam(task.trainable_variables, cfg.learning_rate)

    return build


def _xavier(shape: list[int], gain: float) -> float:
    return gain * math.sqrt(2.0 / (shape[0] + shape[1]))


def gating_session(learner: str) -> Callable[[int], SessionModel]:
    """The network as a TF1 graph, Adam."""

    def build(seed: int) -> SessionModel:
        cfg = gating_config(learner)
        graph = tf1.Graph()
        with graph.as_default():
            tf1.set_random_seed(seed)
            x = tf1.placeholder(tf.float32, [None, cfg.d])
            y = tf1.placeholder(tf.float32, [None])
            shape_w, shape_u = [cfg.d, cfg.k], [cfg.k, 1]
            w = tf1.Variable(tf1.random_normal(shape_w, stddev=_xavier(shape_w, math.sqrt(2.0))))
            u = tf1.Variable(tf1.random_normal(shape_u, stddev=_xavier(shape_u, 1.0)))
            f = tf.constant(gating_gates(cfg, seed))
            loss = tf.reduce_mean(tf.square(gating_outputs(cfg, x, w, u, f) - y))
            train = tf1.train.AdamOptimizer(cfg.learning_rate).minimize(loss)
        return SessionModel(graph, (x, y), train, (loss,), GatingHostData(cfg, seed))

    return build


class GatingNetwork(keras.layers.Layer):
    """The network as a Keras layer: points ``[n, d]`` → output ``[n, 1]``; GaLU's gate vectors
    are a constant of the layer, not a weight."""

    def __init__(self, cfg: gating.GatingConfig, seed: int, **kwargs: Any):
        super().__init__(**kwargs)
        self.cfg = cfg
        shape_w, shape_u = [cfg.d, cfg.k], [cfg.k, 1]
        self.w = self.add_weight(
            shape=shape_w,
            initializer=keras.initializers.RandomNormal(
                stddev=_xavier(shape_w, math.sqrt(2.0)), seed=seed
            ),
            name="w",
        )
        self.u = self.add_weight(
            shape=shape_u,
            initializer=keras.initializers.RandomNormal(stddev=_xavier(shape_u, 1.0), seed=seed),
            name="u",
        )
        self.f = tf.constant(gating_gates(cfg, seed))

    def call(self, x: tf.Tensor) -> tf.Tensor:
        return gating_outputs(self.cfg, x, self.w, self.u, self.f)[:, None]


def gating_keras(learner: str) -> Callable[[int], tuple[keras.Model, HostData]]:
    """The network as a Keras model, Adam."""

    def build(seed: int) -> tuple[keras.Model, HostData]:
        cfg = gating_config(learner)
        model = keras.Sequential([keras.Input((cfg.d,)), GatingNetwork(cfg, seed)])
        model.compile(
            keras.optimizers.Adam(cfg.learning_rate, epsilon=1e-8),
            keras.losses.MeanSquaredError(),
        )
        return model, GatingHostData(cfg, seed)

    return build


def gating_work(cfg: gating.GatingConfig) -> Work:
    """The hidden layer and readout forward and backward; GaLU's gates add one forward product
    ⟨f, x⟩ with nothing to differentiate."""
    gates = 2 * cfg.batch_size * cfg.d * cfg.k if cfg.learner == "galu" else 0
    return Work(dense_step_flops([cfg.d, cfg.k, 1], cfg.batch_size) + gates)


# gating, Fig 1: two hidden layers of k = 96 on 64 whitened dimensions, a 10-way softmax, Adam,
# batch 128, at Fashion-MNIST's size (54 000 training, 6 000 validation, 10 000 test images).
# The data are Gaussian stand-ins with the whitened images' statistics (zero mean, identity
# covariance): a step's cost does not depend on the pixels, and the benchmark needs no dataset.


def image_config(learner: str) -> gating.GatingConfig:
    """Fig 1's widest network on Fashion-MNIST: GaLU0 (sigmoid gates, α = 0.5) or Linear."""
    return gating.GatingConfig(experiment="images", learner=learner, k=96, alpha=0.5)


def stand_in_images(cfg: gating.GatingConfig) -> gating_data.Whitened:
    """Whitened images' stand-ins of Fashion-MNIST's split sizes (fixed draws)."""
    rng = np.random.default_rng(0)

    def part(n: int) -> tuple[np.ndarray, np.ndarray]:
        return rng.standard_normal((n, cfg.pca_dims)).astype(np.float32), rng.integers(0, 10, n)

    return gating_data.Whitened(*part(54_000), *part(6_000), *part(10_000))


class ImageHostData:
    """Batches in a fresh numpy permutation every pass; an evaluation fetches the loss on all
    70 000 images, as the engine evaluates the training, validation and test splits."""

    def __init__(self, cfg: gating.GatingConfig, seed: int):
        images = stand_in_images(cfg)
        self.x, self.y = images.x_train, images.y_train.astype(np.int32)
        self.every = (
            np.concatenate([images.x_train, images.x_validation, images.x_test]),
            np.concatenate([images.y_train, images.y_validation, images.y_test]).astype(np.int32),
        )
        self.batch, self.rng = cfg.batch_size, np.random.default_rng(seed)
        self.epoch, self.order = -1, np.arange(len(self.y))

    def train_batch(self, step: int) -> tuple[np.ndarray, np.ndarray]:
        epoch, position = divmod(step, len(self.y) // self.batch)
        if epoch != self.epoch:
            self.epoch, self.order = epoch, self.rng.permutation(len(self.y))
        index = self.order[position * self.batch : (position + 1) * self.batch]
        return self.x[index], self.y[index]

    def eval_batch(self) -> tuple[np.ndarray, np.ndarray]:
        return self.every


def image_logits(cfg: gating.GatingConfig, x: tf.Tensor, layers: list, readout: tuple) -> tf.Tensor:
    """Logits ``[n, 10]``: each layer ``(w, b, f)`` gated by sigmoid(x₀f) (GaLU0), or not."""
    hidden = x
    for w, b, f in layers:
        linear = tf.matmul(hidden, w) + b
        hidden = linear * tf.sigmoid(tf.matmul(x, f)) if cfg.learner == "galu0" else linear
    return tf.matmul(hidden, readout[0]) + readout[1]


def image_gates(cfg: gating.GatingConfig, seed: int) -> np.ndarray:
    """GaLU0's gate vectors ``[layers, d, k]`` of one seed, at the authors' scale."""
    return gating_data.image_gate_vectors(seed, cfg).astype(np.float32)


def image_engine(learner: str) -> Callable[[list[int]], tuple[Any, Any]]:
    """The family's image ensemble and Adam, as ``gating.run`` builds them."""

    def build(seeds: list[int]) -> tuple[Any, Any]:
        cfg = image_config(learner)
        task = gating.ImageEnsemble(cfg, seeds, stand_in_images(cfg))
        return task, engine.Adam(task.trainable_variables, cfg.learning_rate)

    return build


def _image_shapes(cfg: gating.GatingConfig) -> list[list[int]]:
    sizes = [cfg.pca_dims] + [cfg.k] * cfg.layers
    return [[a, b] for a, b in itertools.pairwise(sizes)]


def image_session(learner: str) -> Callable[[int], SessionModel]:
    """The network as a TF1 graph, Adam, softmax cross-entropy."""

    def build(seed: int) -> SessionModel:
        cfg = image_config(learner)
        graph = tf1.Graph()
        with graph.as_default():
            tf1.set_random_seed(seed)
            x = tf1.placeholder(tf.float32, [None, cfg.pca_dims])
            y = tf1.placeholder(tf.int32, [None])
            gates = image_gates(cfg, seed)
            layers = [
                (
                    tf1.Variable(tf1.random_normal(shape, stddev=_xavier(shape, math.sqrt(2.0)))),
                    tf1.Variable(tf1.zeros([shape[1]])),
                    tf.constant(gates[i]),
                )
                for i, shape in enumerate(_image_shapes(cfg))
            ]
            shape_u = [cfg.k, 10]
            readout = (
                tf1.Variable(tf1.random_normal(shape_u, stddev=_xavier(shape_u, 1.0))),
                tf1.Variable(tf1.zeros([10])),
            )
            logits = image_logits(cfg, x, layers, readout)
            loss = tf.reduce_mean(
                tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits)
            )
            train = tf1.train.AdamOptimizer(cfg.learning_rate).minimize(loss)
        return SessionModel(graph, (x, y), train, (loss,), ImageHostData(cfg, seed))

    return build


class ImageNetwork(keras.layers.Layer):
    """The network as a Keras layer: images ``[n, d]`` → logits ``[n, 10]``; GaLU0's gate
    vectors are constants of the layer, not weights."""

    def __init__(self, cfg: gating.GatingConfig, seed: int, **kwargs: Any):
        super().__init__(**kwargs)
        self.cfg = cfg
        gates = image_gates(cfg, seed)

        def normal(shape: list[int], gain: float, name: str) -> Any:
            init = keras.initializers.RandomNormal(stddev=_xavier(shape, gain), seed=seed)
            return self.add_weight(shape=shape, initializer=init, name=name)

        self.stack = [
            (
                normal(shape, math.sqrt(2.0), f"w{i}"),
                self.add_weight(shape=[shape[1]], initializer="zeros", name=f"b{i}"),
                tf.constant(gates[i]),
            )
            for i, shape in enumerate(_image_shapes(cfg))
        ]
        self.readout = (
            normal([cfg.k, 10], 1.0, "u"),
            self.add_weight(shape=[10], initializer="zeros", name="c"),
        )

    def call(self, x: tf.Tensor) -> tf.Tensor:
        return image_logits(self.cfg, x, self.stack, self.readout)


def image_keras(learner: str) -> Callable[[int], tuple[keras.Model, HostData]]:
    """The network as a Keras model, Adam, sparse softmax cross-entropy."""

    def build(seed: int) -> tuple[keras.Model, HostData]:
        cfg = image_config(learner)
        model = keras.Sequential([keras.Input((cfg.pca_dims,)), ImageNetwork(cfg, seed)])
        model.compile(
            keras.optimizers.Adam(cfg.learning_rate, epsilon=1e-8),
            keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        )
        return model, ImageHostData(cfg, seed)

    return build


def image_work(cfg: gating.GatingConfig) -> Work:
    """Both hidden layers and the readout forward and backward; GaLU0's gates add one forward
    product x₀F per layer with nothing to differentiate."""
    gates = cfg.layers * 2 * cfg.batch_size * cfg.pca_dims * cfg.k if cfg.learner == "galu0" else 0
    return Work(dense_step_flops([cfg.pca_dims, *[cfg.k] * cfg.layers, 10], cfg.batch_size) + gates)


# --------------------------------------------------------------------------------------------
# hierarchical (reconstructed): the end-to-end CNN on 27 × 27 images of hierarchical digits, two
# 3 × 3 stride-3 convolutions of 32 channels + ReLU and a linear readout, softmax, Adam 1e-3,
# batch 64, at the paper scale's largest training set (3 200 images; 2 000 test images).

HIERARCHICAL = hierarchical.HierarchicalConfig(learner="e2e", train_examples=3200)


class HierarchicalHostData:
    """The seed's training images (the family's own draws), batches drawn with replacement by
    numpy; an evaluation fetches the loss on the test images."""

    def __init__(self, seed: int):
        train, test = hierarchical.draws(HIERARCHICAL, [seed])
        self.x, self.y = train[0].images[..., None], train[0].labels.astype(np.int32)
        self.test = (test[0].images[..., None], test[0].labels.astype(np.int32))
        self.rng = np.random.default_rng(seed)

    def train_batch(self, step: int) -> tuple[np.ndarray, np.ndarray]:
        index = self.rng.integers(0, len(self.y), HIERARCHICAL.batch_size)
        return self.x[index], self.y[index]

    def eval_batch(self) -> tuple[np.ndarray, np.ndarray]:
        return self.test


def hierarchical_engine(seeds: list[int]) -> tuple[Any, Any]:
    """The family's ensemble and Adam, as ``hierarchical.run`` builds them."""
    cfg = HIERARCHICAL
    train, test = hierarchical.draws(cfg, seeds)
    images = [np.stack([s.images for s in part])[..., None] for part in (train, test)]
    labels = [np.stack([s.labels for s in part]) for part in (train, test)]
    task = hierarchical.ConvStack(cfg, seeds, (images[0], labels[0]), (images[1], labels[1]))
    return task, engine.Adam(task.trainable_variables, cfg.learning_rate)


def _glorot_bound(fan_in: int, fan_out: int) -> float:
    return math.sqrt(6.0 / (fan_in + fan_out))


def hierarchical_session(seed: int) -> SessionModel:
    """The CNN as a TF1 graph (``conv2d`` with stride 3), Adam."""
    cfg, side = HIERARCHICAL, HIERARCHICAL.side
    graph = tf1.Graph()
    with graph.as_default():
        tf1.set_random_seed(seed)
        x = tf1.placeholder(tf.float32, [None, side, side, 1])
        y = tf1.placeholder(tf.int32, [None])
        hidden, channels = x, 1
        for _ in cfg.classes:
            bound = _glorot_bound(9 * channels, cfg.width)
            w = tf1.Variable(tf1.random_uniform([3, 3, channels, cfg.width], -bound, bound))
            b = tf1.Variable(tf1.zeros([cfg.width]))
            hidden = tf.nn.relu(tf.nn.conv2d(hidden, w, strides=3, padding="VALID") + b)
            channels = cfg.width
        flat = tf.reshape(hidden, [-1, 9 * cfg.width])
        bound = _glorot_bound(9 * cfg.width, 10)
        u = tf1.Variable(tf1.random_uniform([9 * cfg.width, 10], -bound, bound))
        logits = tf.matmul(flat, u) + tf1.Variable(tf1.zeros([10]))
        loss = tf.reduce_mean(
            tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits)
        )
        train = tf1.train.AdamOptimizer(cfg.learning_rate).minimize(loss)
    return SessionModel(graph, (x, y), train, (loss,), HierarchicalHostData(seed))


def hierarchical_keras(seed: int) -> tuple[keras.Model, HostData]:
    """The CNN as a Keras model: ``Conv2D`` layers with stride 3, a dense readout, Adam."""
    cfg = HIERARCHICAL
    init = keras.initializers.GlorotUniform(seed=seed)
    layers: list[Any] = [keras.Input((cfg.side, cfg.side, 1))]
    layers += [
        keras.layers.Conv2D(cfg.width, 3, strides=3, activation="relu", kernel_initializer=init)
        for _ in cfg.classes
    ]
    layers += [keras.layers.Flatten(), keras.layers.Dense(10, kernel_initializer=init)]
    model = keras.Sequential(layers)
    model.compile(
        keras.optimizers.Adam(cfg.learning_rate, epsilon=1e-8),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    return model, HierarchicalHostData(seed)


def hierarchical_work(cfg: hierarchical.HierarchicalConfig) -> Work:
    """Each convolution is a matrix product of its cells' 3 × 3 patches with the filters, then
    the readout, forward and backward (3 × 2 FLOPs per multiply-add)."""
    macs, channels, cells = 0, 1, cfg.side // 3
    for _ in cfg.classes:
        macs += cells * cells * 9 * channels * cfg.width
        channels, cells = cfg.width, cells // 3
    macs += 9 * cfg.width * 10
    return Work(3 * 2 * cfg.batch_size * macs)


# --------------------------------------------------------------------------------------------
# stocks: the linear softmax network d = 1000 → k = 1000, E2E loss −zᵀp, Adam 0.1, batch 100.

STOCKS = stocks.StocksConfig(method="e2e", k=1000)


class StocksHostData:
    """Fresh inputs and returns drawn with numpy every step (``dec_vs_e2e_stocks.py``): an
    input index, its right stock's return 1 and uniform ±1 returns elsewhere."""

    def __init__(self, seed: int):
        self.targets = stocks.right_stocks(STOCKS.d, STOCKS.k, seed)
        self.rng = np.random.default_rng(seed)

    def _draw(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        x = self.rng.integers(0, STOCKS.d, n).astype(np.int32)
        z = 2.0 * self.rng.integers(0, 2, (n, STOCKS.k)).astype(np.float32) - 1.0
        z[np.arange(n), self.targets[x]] = 1.0
        return x, z

    def train_batch(self, step: int) -> tuple[np.ndarray, np.ndarray]:
        return self._draw(STOCKS.batch_size)

    def eval_batch(self) -> tuple[np.ndarray, np.ndarray]:
        return self._draw(STOCKS.eval_samples)


def stocks_engine(seeds: list[int]) -> tuple[Any, Any]:
    """The family's ensemble and its fused Adam, as ``stocks.run`` builds them."""
    cfg = STOCKS
    task = stocks.StocksEnsemble(cfg, seeds)
    optimizer = engine.FusedAdam(
        task.trainable_variables, cfg.learning_rate, cfg.beta1, cfg.beta2, cfg.epsilon
    )
    return task, optimizer


def stocks_session(seed: int) -> SessionModel:
    """The network as a TF1 graph; the one-hot layer as a gather, as the engine computes it."""
    cfg = STOCKS
    graph = tf1.Graph()
    with graph.as_default():
        tf1.set_random_seed(seed)
        x = tf1.placeholder(tf.int32, [None])
        z = tf1.placeholder(tf.float32, [None, cfg.k])
        w = tf1.Variable(tf1.truncated_normal([cfg.d, cfg.k], stddev=cfg.d**-0.5))
        b = tf1.Variable(tf1.zeros([cfg.k]))
        p = tf.nn.softmax(tf.gather(w, x) + b)
        loss = tf.reduce_mean(stocks.e2e_loss(z, p))
        adam = tf1.train.AdamOptimizer(cfg.learning_rate, cfg.beta1, cfg.beta2, cfg.epsilon)
        train = adam.minimize(loss)
    return SessionModel(graph, (x, z), train, (loss,), StocksHostData(seed))


class Bias(keras.layers.Layer):
    """A trainable bias added to the last axis (the Embedding layer has none)."""

    def build(self, input_shape: tuple) -> None:
        self.b = self.add_weight(shape=(input_shape[-1],), initializer="zeros", name="b")

    def call(self, x: tf.Tensor) -> tf.Tensor:
        return x + self.b


def stocks_keras(seed: int) -> tuple[keras.Model, HostData]:
    """The network as a Keras model: an Embedding (a one-hot input's dense layer) and a bias,
    softmax; the loss −zᵀp."""
    cfg = STOCKS
    model = keras.Sequential(
        [
            keras.Input((), dtype="int32"),
            keras.layers.Embedding(
                cfg.d, cfg.k, embeddings_initializer=truncated_normal(cfg.d**-0.5, seed)
            ),
            Bias(),
            keras.layers.Softmax(),
        ]
    )
    adam = keras.optimizers.Adam(cfg.learning_rate, cfg.beta1, cfg.beta2, cfg.epsilon)
    model.compile(adam, stocks.e2e_loss)
    return model, StocksHostData(seed)


def stocks_work(cfg: stocks.StocksConfig) -> Work:
    """A step reads one row of W per example (a gather: no FLOPs) and takes a softmax over
    k; its cost is Adam's update of the whole d × k matrix (the moments decay everywhere, as in
    TF1's Adam, sparse gradient or not): var, m, v and the gradient read and var, m, v written,
    4 bytes each, at the least."""
    return Work(3 * 2 * cfg.batch_size * cfg.k, streamed_bytes=7 * 4 * cfg.d * cfg.k)


# --------------------------------------------------------------------------------------------

BENCHMARKS: dict[str, Benchmark] = {
    "parity": Benchmark(
        "parity",
        f"d={PARITY.d}",
        "d → 10d ReLU → 1, hinge, SGD 0.01, fresh samples",
        PARITY.batch_size,
        PARITY.eval_every,
        2000,
        parity_engine,
        lambda seed: parity_session(PARITY.d, seed, PARITY.batch_size),
        parity_keras,
        lambda: Work(dense_step_flops([PARITY.d, PARITY.width, 1], PARITY.batch_size)),
    ),
    "tuples": Benchmark(
        "tuples",
        "k=2, batch 64",
        "tuple CNN N(1) shared over k images + N(2), E2E hinge, Adam 1e-3",
        64,
        tuples.TuplesConfig().eval_every,
        200,
        tuples_engine(64),
        tuples_session(64),
        tuples_keras(64),
        lambda: Work(tuple_cnn_step_flops(tuples_config(64).k, 64)),
    ),
    "tuples-paper": Benchmark(
        "tuples",
        "k=2, batch 200",
        "tuple CNN N(1) shared over k images + N(2), E2E hinge, Adam 1e-3",
        200,
        tuples.TuplesConfig().eval_every,
        100,
        tuples_engine(200),
        tuples_session(200),
        tuples_keras(200),
        lambda: Work(tuple_cnn_step_flops(tuples_config(200).k, 200)),
    ),
    "curves": Benchmark(
        "curves",
        "autoencoder",
        "auto-encoder 100-500-100-6-100-100-100 ReLU, MSE, Adam 1e-3",
        CURVES.batch_size,
        CURVES.eval_every,
        1000,
        curves_engine,
        curves_session,
        curves_keras,
        lambda: Work(dense_step_flops(CURVE_WIDTHS, CURVES.batch_size)),
    ),
    "flat": Benchmark(
        "flat",
        "end_to_end",
        "MLP 100 → 3 × 100 ReLU → 1, MSE, Adam 1e-3",
        FLAT.batch_size,
        FLAT.eval_every,
        1000,
        flat_engine,
        flat_session,
        flat_keras,
        lambda: Work(dense_step_flops(FLAT_WIDTHS, FLAT.batch_size)),
    ),
    "sharing-shared": Benchmark(
        "sharing",
        "shared",
        "k=10 patches of d=10, tanh units, g* known (mixed target), SGD 0.01",
        100,
        sharing_config("shared").steps_per_epoch,
        1000,
        sharing_engine("shared"),
        sharing_session("shared"),
        sharing_keras("shared"),
        lambda: sharing_work(sharing_config("shared")),
    ),
    "sharing-local": Benchmark(
        "sharing",
        "local",
        "k=10 patches of d=10, tanh units, g* known (mixed target), SGD 0.01",
        100,
        sharing_config("local").steps_per_epoch,
        1000,
        sharing_engine("local"),
        sharing_session("local"),
        sharing_keras("local"),
        lambda: sharing_work(sharing_config("local")),
    ),
    "gating-relu": Benchmark(
        "gating",
        "relu, m=1024",
        "d=32 → k=32 ReLU → 1, no biases, random labels, MSE, Adam 1e-3",
        128,
        gating_config("relu").eval_every,
        1000,
        gating_engine("relu"),
        gating_session("relu"),
        gating_keras("relu"),
        lambda: gating_work(gating_config("relu")),
    ),
    "gating-galu": Benchmark(
        "gating",
        "galu, m=1024",
        "d=32 → k=32 GaLU (fixed random gates) → 1, no biases, random labels, MSE, Adam 1e-3",
        128,
        gating_config("galu").eval_every,
        1000,
        gating_engine("galu"),
        gating_session("galu"),
        gating_keras("galu"),
        lambda: gating_work(gating_config("galu")),
    ),
    "gating-images-galu0": Benchmark(
        "gating",
        "galu0, images, k=96",
        "whitened 64 → 96 → 96 GaLU0 (sigmoid gates from the input, α = 0.5) → 10, softmax, "
        "Adam 1e-3, Fashion-MNIST's size",
        128,
        image_config("galu0").eval_every,
        1000,
        image_engine("galu0"),
        image_session("galu0"),
        image_keras("galu0"),
        lambda: image_work(image_config("galu0")),
    ),
    "gating-images-linear": Benchmark(
        "gating",
        "linear, images, k=96",
        "whitened 64 → 96 → 96 linear → 10, softmax, Adam 1e-3, Fashion-MNIST's size",
        128,
        image_config("linear").eval_every,
        1000,
        image_engine("linear"),
        image_session("linear"),
        image_keras("linear"),
        lambda: image_work(image_config("linear")),
    ),
    "hierarchical-e2e": Benchmark(
        "hierarchical",
        "e2e, n=3200",
        "27 × 27 hierarchical digits → two 3 × 3 stride-3 convolutions of 32 + ReLU → 10, "
        "softmax, Adam 1e-3 (reconstructed model)",
        HIERARCHICAL.batch_size,
        HIERARCHICAL.eval_every,
        1000,
        hierarchical_engine,
        hierarchical_session,
        hierarchical_keras,
        lambda: hierarchical_work(HIERARCHICAL),
    ),
    "stocks": Benchmark(
        "stocks",
        f"k={STOCKS.k}, e2e",
        f"linear softmax d={STOCKS.d} → k, E2E loss −zᵀp, Adam 0.1",
        STOCKS.batch_size,
        STOCKS.eval_every,
        500,
        stocks_engine,
        stocks_session,
        stocks_keras,
        lambda: stocks_work(STOCKS),
    ),
}
FAMILIES = tuple(dict.fromkeys(b.family for b in BENCHMARKS.values()))
FLOP_BENCHMARK = "tuples-paper"  # the heaviest job: its FLOP rate is compared with the peak


# --------------------------------------------------------------------------------------------
# Timing, one process per measurement.


def stack_batches(data: HostData, steps: range) -> tuple[np.ndarray, np.ndarray]:
    """Keras' (x, y): the host batches of these steps, concatenated."""
    batches = [data.train_batch(step) for step in steps]
    x = np.concatenate([batch[0] for batch in batches])
    y = np.concatenate([batch[-1] for batch in batches])
    return x, y


def time_keras(
    model: keras.Model, data: HostData, batch: int, steps: int, eval_every: int, warmup: int
) -> Timing:
    """Time ``model.fit`` over ``steps`` host batches of one seed, validating every
    ``eval_every`` steps (one Keras epoch). Making the arrays is timed, as it is for
    ``feed_dict``; a first ``fit`` of ``warmup`` steps, untimed, traces and compiles."""
    evaluation = data.eval_batch()
    validation = (evaluation[0], evaluation[-1])
    x, y = stack_batches(data, range(warmup))
    model.fit(x, y, batch_size=batch, validation_data=validation, shuffle=False, verbose=0)
    start = time.perf_counter()
    x, y = stack_batches(data, range(warmup, warmup + steps))
    history = model.fit(
        x,
        y,
        batch_size=batch,
        epochs=steps // eval_every,
        steps_per_epoch=eval_every,
        validation_data=validation,
        shuffle=False,
        verbose=0,
    )
    return Timing(time.perf_counter() - start, steps, float(history.history["loss"][-1]))


def timed_steps(bench: Benchmark, steps: int | None) -> int:
    """Timed steps per seed: ``steps`` (or the benchmark's default) in whole evaluation
    intervals, at least one."""
    wanted = bench.steps if steps is None else steps
    return max(1, wanted // bench.eval_every) * bench.eval_every


def run_mode(name: str, mode: str, seeds: int, steps: int, threads: int) -> str:
    """One measurement in this process: the JSON of its seed-steps per second, last loss and,
    for Keras, whether it compiled with XLA. Called in a fresh process by :func:`measure`."""
    bench = BENCHMARKS[name]
    extra: dict[str, Any] = {}
    if mode == "engine":
        runtime.setup_tensorflow(threads)  # the engine's own setup: threads and determinism
        task, optimizer = bench.engine(list(range(seeds)))
        timing = time_engine(task, optimizer, steps, bench.eval_every, WARMUP)
    else:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
        timings = []
        for seed in range(seeds):
            if mode == "feed_dict":
                model = bench.session(seed)
                timings.append(time_session(model, steps, bench.eval_every, threads, WARMUP))
            else:
                keras.backend.clear_session()
                model, data = bench.keras(seed)
                timings.append(
                    time_keras(model, data, bench.batch, steps, bench.eval_every, WARMUP)
                )
                extra["xla"] = bool(model.jit_compile)
        timing = sequential_rate(timings)
    return json.dumps({"rate": timing.rate, "loss": timing.loss, **extra})


def measure(name: str, mode: str, seeds: int, steps: int, threads: int) -> dict[str, Any]:
    """:func:`run_mode` in a fresh Python process."""
    call = f"run_mode({name!r}, {mode!r}, {seeds}, {steps}, {threads})"
    return json.loads(run_isolated("benchmark_families", call))


# --------------------------------------------------------------------------------------------
# FLOPs of the tuple CNN, and the matmul peak.


def image_scorer_flops() -> int:
    """Forward FLOPs of N(1) on one 28×28 image: 2 per multiply-add of its convolutions (every
    output position of a SAME convolution, padding included, as the kernel computes them) and
    dense layers. Bias adds, activations, pooling and the loss are left out (under 1 %)."""
    size, half, quarter = tuples.IMAGE_SIZE, tuples.IMAGE_SIZE // 2, tuples.IMAGE_SIZE // 4
    conv1 = size * size * 16 * (5 * 5 * 1)  # 28×28 outputs × 16 filters × 5×5×1 taps
    conv2 = half * half * 16 * (5 * 5 * 16)  # after 2×2 pooling: 14×14 × 16 × 5×5×16
    dense = quarter * quarter * 16 * 50 + 50 * tuples.FEATURES + tuples.FEATURES * 1
    return 2 * (conv1 + conv2 + dense)


def tuple_cnn_step_flops(k: int, batch: int, seeds: int = 1) -> int:
    """FLOPs of one training step of the tuple networks on ``batch`` k-tuples for ``seeds``
    seeds: N(1) on every image plus N(2) (k → 100 → 1) on every tuple, forward, times 3 for
    forward and backward (the backward pass computes a gradient for the activations and one for
    the weights, each about a forward pass)."""
    head = 2 * (k * 100 + 100 * 1)
    return 3 * seeds * batch * (k * image_scorer_flops() + head)


def matmul_peak_gflops(
    threads: int, size: int = MATMUL_SIZE, repeats: int = 5, device: str | None = None
) -> float:
    """The machine's measured peak: the best of ``repeats`` timed float32 matmuls of two
    ``size``² matrices (2·size³ FLOPs each) on ``threads`` threads, after two warm-ups; on
    ``device`` (e.g. ``"/CPU:0"``), or where TensorFlow places it (a GPU, if there is one)."""
    runtime.setup_tensorflow(threads)
    with tf.device(device) if device else contextlib.nullcontext():
        a = tf.random.stateless_normal([size, size], seed=[0, 1])
        b = tf.random.stateless_normal([size, size], seed=[0, 2])
        best = float("inf")
        for attempt in range(2 + repeats):
            start = time.perf_counter()
            tf.matmul(a, b).numpy()
            if attempt >= 2:
                best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best / 1e9


# --------------------------------------------------------------------------------------------


def print_family(family: str, rows: list[dict[str, Any]]) -> None:
    """One family's table."""
    print(f"\n{family}: {BENCHMARKS[rows[0]['benchmark']].description}")
    print(
        f"  {'variant':<16} {'batch':>5} {'steps':>6} {'engine':>10} {'feed_dict':>10} "
        f"{'keras_fit':>10} {'eng/feed':>9} {'eng/keras':>10}"
    )
    for row in rows:
        print(
            f"  {row['variant']:<16} {row['batch']:>5} {row['steps']:>6} {row['engine']:>10,.1f} "
            f"{row['feed_dict']:>10,.1f} {row['keras_fit']:>10,.1f} "
            f"{row['engine_over_feed_dict']:>8.1f}x {row['engine_over_keras_fit']:>9.1f}x",
            flush=True,
        )


def stream_bandwidth_gbs(threads: int, elements: int = 2**25, repeats: int = 5) -> float:
    """The machine's measured memory bandwidth: the best of ``repeats`` timed ``a += b`` over
    float32 arrays of ``elements`` (128 MiB each, far beyond any cache), 12 bytes per element
    (a and b read, a written), after two warm-ups. Eager CPU ops return when done."""
    runtime.setup_tensorflow(threads)
    a = tf.Variable(tf.zeros([elements]))
    b = tf.ones([elements])
    best = float("inf")
    for attempt in range(2 + repeats):
        start = time.perf_counter()
        a.assign_add(b, read_value=False)
        if attempt >= 2:
            best = min(best, time.perf_counter() - start)
    return 12 * elements / best / 1e9


def roofline(rows: list[dict[str, Any]], peak_gflops: float, bandwidth_gbs: float) -> list[dict]:
    """Each model's bound on this machine: the seed-steps per second its FLOPs allow at the
    matmul peak, or its streamed bytes at the memory bandwidth, whichever is lower; each way's
    share of that bound; and ``bound / feed_dict``, the most that *any* implementation could
    gain over the ``feed_dict`` loop without doing less work."""
    print(
        f"\nRoofline: matmul peak {peak_gflops:.1f} GFLOP/s, memory bandwidth "
        f"{bandwidth_gbs:.1f} GB/s (measured now); per seed-step: FLOPs forward + backward, "
        f"bytes of weights and Adam state streamed"
    )
    print(
        f"  {'benchmark':<15} {'MFLOP':>8} {'MB':>6} {'bound':>8} {'bound/s':>10} "
        + "".join(f"{mode:>10}" for mode in MODES)
        + f" {'most over feed_dict':>20}"
    )
    found = []
    for row in rows:
        work = BENCHMARKS[row["benchmark"]].work()
        by_flops = peak_gflops * 1e9 / work.flops
        by_bytes = bandwidth_gbs * 1e9 / work.streamed_bytes if work.streamed_bytes else math.inf
        bound, rate = ("memory", by_bytes) if by_bytes < by_flops else ("compute", by_flops)
        share = {mode: row[mode] / rate for mode in MODES}
        found.append(
            {
                "benchmark": row["benchmark"],
                "flops_per_seed_step": work.flops,
                "streamed_bytes_per_seed_step": work.streamed_bytes,
                "bound": bound,
                "bound_seed_steps_per_s": rate,
                "share_of_bound": share,
                "most_over_feed_dict": rate / row["feed_dict"],
            }
        )
        print(
            f"  {row['benchmark']:<15} {work.flops / 1e6:>8.1f} {work.streamed_bytes / 1e6:>6.1f} "
            f"{bound:>8} {rate:>10,.0f} "
            + "".join(f"{100 * share[mode]:>9.1f}%" for mode in MODES)
            + f" {rate / row['feed_dict']:>19.1f}x"
        )
    return found


def flop_report(row: dict[str, Any], seeds: int, peak: float) -> dict[str, Any]:
    """The FLOP rates of the heaviest job against the matmul peak."""
    k = tuples_config(row["batch"]).k
    per_seed_step = BENCHMARKS[row["benchmark"]].work().flops
    achieved = {mode: row[mode] * per_seed_step / 1e9 for mode in MODES}
    ensemble_step = seeds * per_seed_step
    print(
        f"\nFLOP rate, tuple CNN k={k}, batch {row['batch']}: "
        f"{ensemble_step / 1e9:.2f} GFLOP per engine step of {seeds} seeds "
        f"({per_seed_step / 1e9:.3f} per seed-step; conv + dense, 3 × forward)"
    )
    print(f"  matmul peak ({MATMUL_SIZE}² float32): {peak:.1f} GFLOP/s")
    for mode in MODES:
        print(
            f"  {mode:<9} {achieved[mode]:7.1f} GFLOP/s = {100 * achieved[mode] / peak:5.1f}% "
            f"of peak"
        )
    return {
        "benchmark": row["benchmark"],
        "k": k,
        "batch": row["batch"],
        "flops_per_seed_step": per_seed_step,
        "flops_per_engine_step": ensemble_step,
        "matmul_peak_gflops": peak,
        "achieved_gflops": achieved,
        "percent_of_peak": {mode: 100 * value / peak for mode, value in achieved.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--families", nargs="+", choices=FAMILIES, default=list(FAMILIES))
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument(
        "--steps",
        type=int,
        help="timed steps per seed for every model (default: each model's own), rounded down "
        "to whole evaluation intervals",
    )
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()

    print(
        f"seed-steps per second; {args.seeds} seeds, {args.threads} TF thread(s); "
        f"an engine step of {args.seeds} seeds counts {args.seeds} seed-steps"
    )
    results: list[dict[str, Any]] = []
    for family in args.families:
        rows = []
        for name, bench in BENCHMARKS.items():
            if bench.family != family:
                continue
            steps = timed_steps(bench, args.steps)
            found = {mode: measure(name, mode, args.seeds, steps, args.threads) for mode in MODES}
            row = {
                "benchmark": name,
                "family": family,
                "variant": bench.variant,
                "batch": bench.batch,
                "steps": steps,
                **{mode: found[mode]["rate"] for mode in MODES},
                **{f"{mode}_loss": found[mode]["loss"] for mode in MODES},
                "keras_xla": found["keras_fit"].get("xla"),
            }
            row["engine_over_feed_dict"] = row["engine"] / row["feed_dict"]
            row["engine_over_keras_fit"] = row["engine"] / row["keras_fit"]
            rows.append(row)
        print_family(family, rows)
        results += rows
    xla = {row["keras_xla"] for row in results}
    print(f"\nkeras_fit compiled with XLA (Keras' default jit_compile='auto'): {sorted(xla)}")
    peak = float(run_isolated("benchmark_families", f"matmul_peak_gflops({args.threads})"))
    bandwidth = float(run_isolated("benchmark_families", f"stream_bandwidth_gbs({args.threads})"))
    heaviest = [row for row in results if row["benchmark"] == FLOP_BENCHMARK]
    flops = flop_report(heaviest[0], args.seeds, peak) if heaviest else None
    bounds = roofline(results, peak, bandwidth)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        settings = vars(args) | {"json": str(args.json)}
        payload = {"settings": settings, "results": results, "flops": flops, "roofline": bounds}
        args.json.write_text(json.dumps(payload, indent=2) + "\n")


if __name__ == "__main__":
    main()
