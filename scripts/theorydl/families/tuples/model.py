"""Tuples of line images: end-to-end vs decomposition (Failures of Gradient-Based Deep Learning,
§3.1, Figs 2 and 3).

An example is a k-tuple of 28×28 binary images, each holding one straight line. An image's label
says whether its line rises (angle θ < π/2) or falls; the tuple's label is the parity of its k
image labels. The learner is the authors' N(1), a small LeNet that scores one image and is shared
over the k images, followed by N(2), an MLP on the k sigmoid scores. *End-to-end* (E2E) trains on
the tuple label alone; *decomposition* (Dec) adds a hinge loss on every image's own label, which
supervises N(1) directly. The paper: E2E learns k ≤ 2 and stays at chance for k ≥ 3, while Dec
learns every k. ``theory`` measures why: the signal-to-noise ratio of the gradient.

Everything follows the authors' ``read_rect_data.py`` and ``tuple_rect.py``; where the paper's text
differs (the label's sign for even k), a switch selects the paper's version.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict

import numpy as np
import tensorflow as tf

from theorydl import engine
from theorydl.families.tuples.spec import Config, TuplesConfig
from theorydl.runtime import stream_key

__all__ = [
    "EVAL_CHUNK",
    "FEATURES",
    "IMAGE_SIZE",
    "Config",
    "ImageScorer",
    "ParityHead",
    "TupleNetworks",
    "TuplesConfig",
    "TuplesTask",
    "draw_lines",
    "hinge",
    "image_labels",
    "line_parameters",
    "run",
    "sample_tuples",
    "tuple_labels",
]

IMAGE_SIZE = 28
MIN_LENGTH, MAX_LENGTH = 5.0, IMAGE_SIZE - 5.0  # line length ~ U(5, 23)
MAX_HALF_LENGTH = int(MAX_LENGTH // 2)  # at most ⌊ℓ/2⌋ = 11 points on each side of the centre
FEATURES = 100  # width of N(1)'s last hidden layer, whose score weights the SNR is taken on
EVAL_CHUNK = 500  # test tuples per forward pass: bounds the conv activations' memory


# --------------------------------------------------------------------------------------------
# Data: read_rect_data.py, vectorized and drawn from a stateless key (on the device).


def line_parameters(key: tf.Tensor, n: int) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """Angle θ ~ U[0, π), length ~ U(5, 23) and centre ~ 28·U[0, 1)² of ``n`` lines (float64)."""
    u = tf.random.stateless_uniform([n, 4], seed=key, dtype=tf.float64)
    theta = np.pi * u[:, 0]
    centre = IMAGE_SIZE * u[:, 1:3]
    length = MIN_LENGTH + (MAX_LENGTH - MIN_LENGTH) * u[:, 3]
    return theta, length, centre


def draw_lines(theta: tf.Tensor, length: tf.Tensor, centre: tf.Tensor) -> tf.Tensor:
    """Binary images ``[n, 28, 28]`` of the lines, pixel for pixel as the authors draw them.

    Points centre ± l·(cos θ, sin θ) for l = 0 … ⌊ℓ/2⌋ − 1; (row, column) = the point's coordinates
    *truncated* toward zero (numpy's ``astype(int32)``; the paper says rounded), so that values in
    (−1, 0) land on row or column 0 and some lines bend along the border; points off the image are
    dropped.
    """
    offsets = tf.range(MAX_HALF_LENGTH, dtype=tf.float64)
    offsets = tf.concat([-offsets, offsets], axis=0)  # sgn·l for sgn = −1, +1
    direction = tf.stack([tf.cos(theta), tf.sin(theta)], axis=-1)  # [n, 2]
    points = centre[:, None, :] + offsets[None, :, None] * direction[:, None, :]
    pixels = tf.cast(points, tf.int32)  # float → int casts truncate toward zero
    half_length = tf.floor(length / 2.0)[:, None]
    inside = tf.reduce_all((pixels >= 0) & (pixels < IMAGE_SIZE), axis=-1)
    drawn = (tf.abs(offsets)[None, :] < half_length) & inside
    # One-hot rows times one-hot columns marks every drawn pixel; −1 one-hots to zeros. A matmul
    # instead of a scatter: scatters are nondeterministic (or host-bound) on GPUs.
    rows = tf.one_hot(tf.where(drawn, pixels[..., 0], -1), IMAGE_SIZE)
    cols = tf.one_hot(tf.where(drawn, pixels[..., 1], -1), IMAGE_SIZE)
    return tf.minimum(tf.einsum("npr,npc->nrc", rows, cols), 1.0)


def image_labels(theta: tf.Tensor) -> tf.Tensor:
    """+1 for a rising line (θ < π/2), −1 otherwise (float32)."""
    return tf.where(theta < np.pi / 2, 1.0, -1.0)


def tuple_labels(labels: tf.Tensor, convention: str = "authors") -> tf.Tensor:
    """The parity label of tuples from their image labels ``[..., k]``.

    "authors" (``read_rect_data.py``): +1 iff an odd number of images are +1. "paper": the
    product ∏_j y_j. The two agree for odd k and are each other's negation for even k.
    """
    if convention == "paper":
        return tf.reduce_prod(labels, axis=-1)
    if convention != "authors":
        raise ValueError(f"unknown label convention {convention!r}")
    positives = tf.reduce_sum(tf.cast(labels > 0, tf.int32), axis=-1)
    return tf.cast(2 * (positives % 2) - 1, tf.float32)


def sample_tuples(
    key: tf.Tensor, n: int, k: int, convention: str = "authors"
) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """``n`` k-tuples: images ``[n, k, 28, 28]``, image labels ``[n, k]``, tuple labels ``[n]``."""
    theta, length, centre = line_parameters(key, n * k)
    images = tf.reshape(draw_lines(theta, length, centre), [n, k, IMAGE_SIZE, IMAGE_SIZE])
    per_image = tf.reshape(image_labels(theta), [n, k])
    return images, per_image, tuple_labels(per_image, convention)


def hinge(y: tf.Tensor, score: tf.Tensor) -> tf.Tensor:
    """Per-example hinge loss max(0, 1 − y·score)."""
    return tf.nn.relu(1.0 - y * score)


# --------------------------------------------------------------------------------------------
# The networks, with a leading seed axis on every variable.


def _weight(seeds: Sequence[int], name: str, shape: list[int], std: float) -> tf.Variable:
    """The scripts' init, truncated normal (±2σ), one draw per seed from its own stream."""
    draws = [
        tf.random.stateless_truncated_normal(
            shape, seed=stream_key(s, f"tuples/init/{name}"), stddev=std
        )
        for s in seeds
    ]
    return tf.Variable(tf.stack(draws), name=name)


def _bias(seeds: Sequence[int], name: str, shape: list[int]) -> tf.Variable:
    return tf.Variable(tf.zeros([len(seeds), *shape]), name=f"{name}_b")


class ImageScorer(tf.Module):
    """N(1): one image → one score, for several seeds (leading seed axis on every variable).

    conv 5×5×16 (no ReLU) → maxpool 2 → conv 5×5×16 (no ReLU) → maxpool 2 → dense 50 ReLU →
    dense 100 ReLU → dense 1. Initialized as the script does: truncated normal with
    σ = 1/sqrt(fan-in) and zero biases, except that a conv's σ uses the last axis of its input
    *before* the reshape to NHWC: 1/√28 for the first conv (the image's width), 1/√16 for the
    second.
    """

    def __init__(self, seeds: Sequence[int]):
        super().__init__(name="image_scorer")
        self.seeds = tuple(seeds)
        flat = 7 * 7 * 16
        self.conv1 = _weight(seeds, "conv1", [5, 5, 1, 16], IMAGE_SIZE**-0.5)
        self.conv1_b = _bias(seeds, "conv1", [16])
        self.conv2 = _weight(seeds, "conv2", [5, 5, 16, 16], 16**-0.5)
        self.conv2_b = _bias(seeds, "conv2", [16])
        self.dense3 = _weight(seeds, "dense3", [flat, 50], flat**-0.5)
        self.dense3_b = _bias(seeds, "dense3", [1, 50])
        self.dense4 = _weight(seeds, "dense4", [50, FEATURES], 50**-0.5)
        self.dense4_b = _bias(seeds, "dense4", [1, FEATURES])
        self.score = _weight(seeds, "score", [FEATURES, 1], FEATURES**-0.5)
        self.score_b = _bias(seeds, "score", [1, 1])

    def features(self, images: tf.Tensor) -> tf.Tensor:
        """The last hidden layer ``[S, m, 100]`` for images ``[S, m, 28, 28]``."""
        flat = []
        # Each seed's convolutions run on its own images with its own filters. Folding the seed
        # axis into the channels (grouped convolutions) was measured no faster on CPU.
        for s in range(len(self.seeds)):
            x = images[s][..., None]
            x = tf.nn.conv2d(x, self.conv1[s], 1, "SAME") + self.conv1_b[s]
            x = tf.nn.max_pool2d(x, 2, 2, "SAME")
            x = tf.nn.conv2d(x, self.conv2[s], 1, "SAME") + self.conv2_b[s]
            x = tf.nn.max_pool2d(x, 2, 2, "SAME")
            flat.append(tf.reshape(x, [-1, 7 * 7 * 16]))
        x = tf.nn.relu(tf.matmul(tf.stack(flat), self.dense3) + self.dense3_b)
        return tf.nn.relu(tf.matmul(x, self.dense4) + self.dense4_b)

    def scores(self, features: tf.Tensor) -> tf.Tensor:
        """The output ``[S, m]`` from the last hidden layer ``[S, m, 100]``."""
        return tf.squeeze(tf.matmul(features, self.score) + self.score_b, axis=-1)

    def __call__(self, images: tf.Tensor) -> tf.Tensor:
        """Scores ``[S, m]`` of images ``[S, m, 28, 28]``."""
        return self.scores(self.features(images))


class ParityHead(tf.Module):
    """N(2): the k image scores of a tuple → one output: sigmoid → dense 100 ReLU → dense 1."""

    def __init__(self, k: int, seeds: Sequence[int]):
        super().__init__(name="parity_head")
        self.middle = _weight(seeds, "middle", [k, 100], k**-0.5)
        self.middle_b = _bias(seeds, "middle", [1, 100])
        self.out = _weight(seeds, "out", [100, 1], 100**-0.5)
        self.out_b = _bias(seeds, "out", [1, 1])

    def __call__(self, scores: tf.Tensor) -> tf.Tensor:
        """Outputs ``[S, n]`` from the image scores of n tuples ``[S, n, k]``."""
        x = tf.nn.relu(tf.matmul(tf.sigmoid(scores), self.middle) + self.middle_b)
        return tf.squeeze(tf.matmul(x, self.out) + self.out_b, axis=-1)


class TupleNetworks(tf.Module):
    """N(1) shared over the k images of a tuple, then N(2): the model of ``tuple_rect.py``."""

    def __init__(self, k: int, seeds: Sequence[int]):
        super().__init__(name="tuple_networks")
        self.k = k
        self.image_scorer = ImageScorer(seeds)
        self.parity_head = ParityHead(k, seeds)

    def __call__(self, images: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """Image scores ``[S, n, k]`` and tuple outputs ``[S, n]`` for tuples
        ``[S, n, k, 28, 28]``."""
        seeds, n = images.shape[0], tf.shape(images)[1]
        flat = tf.reshape(images, [seeds, n * self.k, IMAGE_SIZE, IMAGE_SIZE])
        scores = tf.reshape(self.image_scorer(flat), [seeds, n, self.k])
        return scores, self.parity_head(scores)

    def weights(self) -> dict[str, np.ndarray]:
        """Every weight by name, each ``[S, ...]``."""
        return {
            v.name.split(":")[0]: v.numpy()
            for module in (self.image_scorer, self.parity_head)
            for v in module.trainable_variables
        }


class TuplesTask(tf.Module):
    """One (method, k) for several seeds: the engine's task. Each seed has its own training
    stream, its own fixed test set and its own initialization."""

    def __init__(self, cfg: TuplesConfig, seeds: Sequence[int]):
        super().__init__(name="tuples")
        self.cfg = cfg
        self.seeds = tuple(seeds)
        self.nets = TupleNetworks(cfg.k, seeds)
        self.train_keys = [tf.constant(stream_key(s, f"tuples/train/k{cfg.k}")) for s in seeds]
        test = [
            sample_tuples(
                tf.constant(stream_key(s, f"tuples/test/k{cfg.k}")),
                cfg.test_tuples,
                cfg.k,
                cfg.label,
            )
            for s in seeds
        ]
        # Drawn once: the script's test file is the same 2 000 tuples at every evaluation.
        self.test_images, self.test_image_labels, self.test_labels = (
            tf.stack(parts) for parts in zip(*test, strict=True)
        )

    @property
    def trainable_variables(self) -> Sequence[tf.Variable]:
        return self.nets.trainable_variables

    def _train_batch(self, step: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        index = step if self.cfg.pool_batches is None else step % self.cfg.pool_batches
        batches = [
            sample_tuples(
                tf.random.experimental.stateless_fold_in(key, index),
                self.cfg.batch_size,
                self.cfg.k,
                self.cfg.label,
            )
            for key in self.train_keys
        ]
        return tuple(tf.stack(parts) for parts in zip(*batches, strict=True))

    def train_loss(self, step: tf.Tensor) -> tf.Tensor:
        """Per-seed objective: tuple hinge loss, plus the per-image hinge loss for ``dec``."""
        images, per_image, labels = self._train_batch(step)
        scores, outputs = self.nets(images)
        loss = tf.reduce_mean(hinge(labels, outputs), axis=-1)
        if self.cfg.method == "dec":
            loss += tf.reduce_mean(hinge(per_image, scores), axis=[1, 2])
        return loss

    def evaluate(self, step: tf.Tensor) -> dict[str, tf.Tensor]:
        """Test metrics on the fixed test tuples: tuple accuracy (Fig 3) and loss, and the same
        per image, as the script logs them."""
        sums = {"accuracy": 0.0, "loss": 0.0, "image_accuracy": 0.0, "image_loss": 0.0}
        for start in range(0, self.cfg.test_tuples, EVAL_CHUNK):
            part = slice(start, start + EVAL_CHUNK)
            scores, outputs = self.nets(self.test_images[:, part])
            labels, per_image = self.test_labels[:, part], self.test_image_labels[:, part]
            sums["accuracy"] += _count(labels * outputs > 0, axis=[1])
            sums["loss"] += tf.reduce_sum(hinge(labels, outputs), axis=1)
            sums["image_accuracy"] += _count(per_image * scores > 0, axis=[1, 2])
            sums["image_loss"] += tf.reduce_sum(hinge(per_image, scores), axis=[1, 2])
        tuples, images = self.cfg.test_tuples, self.cfg.test_tuples * self.cfg.k
        return {
            name: total / (images if name.startswith("image") else tuples)
            for name, total in sums.items()
        }

    def final_arrays(self) -> dict[str, np.ndarray]:
        return self.nets.weights()


def _count(condition: tf.Tensor, axis: list[int]) -> tf.Tensor:
    return tf.reduce_sum(tf.cast(condition, tf.float32), axis=axis)


def run(cfg: TuplesConfig, seeds: Sequence[int], ctx: engine.RunContext) -> None:
    """Train every seed of one (method, k) and write their run directories."""
    task = TuplesTask(cfg, seeds)
    optimizer = engine.Adam(
        task.trainable_variables, cfg.learning_rate, cfg.beta1, cfg.beta2, cfg.epsilon
    )
    engine.train(task, optimizer, engine.Schedule(cfg.steps, cfg.eval_every), ctx, asdict(cfg))
