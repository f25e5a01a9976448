"""Weight sharing is crucial to successful optimization (Shalev-Shwartz, Shamir, Shammah 2017).

The input is k patches x_1, …, x_k ∈ R^d and the network has one hidden unit per patch,
z_i = tanh(s·⟨w_i, x_i⟩), followed by an outer function g:

- **shared**: one filter for every patch (w_i = w, a convolution with stride d);
- **local**: one filter per patch (a locally connected layer: the same receptive fields, k times
  the parameters): the ablation, the same network with the sharing removed;
- **dense**: k units over the whole input (fully connected), a third arm.

g is either the teacher's g* ("known": only the hidden layer trains) or an MLP k → 50 ReLU → 1
("learned"). The teacher is the shared network with a random unit filter u0. Its targets span
the frequency axis: ``low`` (g* = z_1), ``high`` (cos(ω·(z_1 + … + z_5))) and ``mixed``
((C·z_1 + cos(ω·Σz)) / (C + 1)). With sharing, the low-frequency part teaches the one filter
and the high-frequency part follows; without it, only the low-frequency part is learned.

The **Walsh view** makes "frequency" exact: the teacher's units are Boolean, z*_i = sign(⟨u0, x_i⟩),
and g* is a sum of characters χ_S(z) = ∏_{i∈S} z_i of degrees 1…J on disjoint or nested supports.
The student (steep tanh units, the multilinear g*) learns each character to a measurable
fraction: the projection of its output on χ_S(z*) over the true coefficient.

The paper's own experiment settings are not available. The defaults (``spec.SharingConfig``) are
a reconstruction (reference note ``weight-sharing.md``): squared loss, batch 100, a fixed training
set of 10 000 examples, 500 epochs, SGD 0.01 with g known, Adam 1e-3 with g learned, SGD 0.05 in
the Walsh view.

An *epoch* is one pass over the fixed training set in a fresh random order:
``train_examples / batch_size`` engine steps; step t uses the batch at position ``t mod (steps
per epoch)`` of the permutation of epoch ``⌊t / steps per epoch⌋``, drawn from the seed's stream.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict
from functools import cache
from pathlib import Path

import numpy as np
import tensorflow as tf

from theorydl import engine
from theorydl.families.sharing.spec import IMAGE_SIDE, Config, SharingConfig, supports
from theorydl.runtime import numpy_rng, stream_key

__all__ = ["Config", "SharingConfig", "SharingEnsemble", "make_optimizer", "run"]


# --------------------------------------------------------------------------------------------
# Data: patches, the teacher, the Walsh characters.


def support_masks(sets: Sequence[Sequence[int]], k: int) -> np.ndarray:
    """The supports as a boolean matrix ``[J, k]`` (saved with the runs)."""
    masks = np.zeros((len(sets), k), dtype=bool)
    for row, units in enumerate(sets):
        masks[row, list(units)] = True
    return masks


def characters(z: tf.Tensor, sets: Sequence[Sequence[int]]) -> tf.Tensor:
    """χ_S(z) = ∏_{i∈S} z_i for units ``[..., k]`` and each support S: ``[..., J]``.

    Written as explicit products of unit slices: the supports are fixed, and this is several
    times faster inside the training loop than a masked ``reduce_prod`` (and its gradient).
    """
    products = []
    for units in sets:
        product = z[..., units[0]]
        for i in units[1:]:
            product = product * z[..., i]
        products.append(product)
    return tf.stack(products, axis=-1)


def outer_target(cfg: SharingConfig, z: tf.Tensor) -> tf.Tensor:
    """The teacher's outer function g*(z) for hidden units ``[..., k]``: ``[...]``."""
    if cfg.target == "walsh":
        sets = supports(cfg.layout, cfg.degrees)
        return tf.reduce_sum(characters(z, sets), axis=-1) / math.sqrt(cfg.degrees)
    linear = z[..., 0]
    if cfg.target == "low":
        return linear
    wave = tf.cos(cfg.omega * tf.reduce_sum(z[..., : cfg.cos_units], axis=-1))
    if cfg.target == "high":
        return wave
    return (cfg.mix * linear + wave) / (cfg.mix + 1.0)


def teacher_filter(seed: int, d: int) -> np.ndarray:
    """The teacher's shared filter u0 ~ N(0, I_d), normalised to unit length (per seed)."""
    u = tf.random.stateless_normal([d], seed=stream_key(seed, f"sharing/teacher/d{d}")).numpy()
    return (u / np.linalg.norm(u)).astype(np.float32)


def gaussian_patches(key: np.ndarray, n: int, k: int, d: int) -> tf.Tensor:
    """``n`` inputs of k patches with i.i.d. N(0, 1) values: ``[n, k, d]``."""
    return tf.random.stateless_normal([n, k, d], seed=key)


def source_images(patches: str, data_dir: Path | None) -> np.ndarray:
    """The images natural patches are cut from, ``[n, side, side]`` float64: scikit-learn's
    digits (bundled, no download) or all 10 000 MNIST images of rule ``dataset``."""
    if patches == "digits":
        from sklearn.datasets import load_digits

        return load_digits().images.astype(np.float64)
    if data_dir is None:
        raise ValueError(
            f"{patches} patches read results/<scale>/datasets/{patches}.npz: run this variant "
            f"through the workflow (rule dataset makes the file), or pass its folder as data_dir"
        )
    from theorydl import datasets

    images, _ = datasets.load(patches, "all", data_dir)
    return images.astype(np.float64)


@cache
def window_pool(patches: str, side: int, stride: int, data_dir: Path | None) -> np.ndarray:
    """Every side × side window, at offsets that are multiples of ``stride``, of every image of
    ``patches``: ``[images, windows, side²]``.

    Each patch has its mean removed; all are then divided by one common scale, the values' root
    mean square, so that a patch value has unit variance on average, like a Gaussian patch.
    """
    images = source_images(patches, data_dir)
    offsets = range(0, IMAGE_SIDE[patches] - side + 1, stride)
    windows = np.stack(
        [
            images[:, r : r + side, c : c + side].reshape(len(images), -1)
            for r in offsets
            for c in offsets
        ],
        axis=1,
    )
    windows -= windows.mean(axis=-1, keepdims=True)
    windows /= np.sqrt(np.mean(windows**2))
    return windows.astype(np.float32)


def natural_patches(
    seed: int, cfg: SharingConfig, heldout: bool, data_dir: Path | None
) -> tf.Tensor:
    """Inputs of k patches drawn independently from the images' windows: ``[n, k, d]``.

    The images are split once per seed; training examples take their patches from the training
    images, held-out examples from the held-out images. (Whole digit images give only 1 797
    examples, too few for the 10 000 of the setup, so each patch is drawn on its own.)
    """
    pool = window_pool(cfg.patches, math.isqrt(cfg.d), cfg.patch_stride, data_dir)
    order = numpy_rng(seed, f"sharing/{cfg.patches}/split").permutation(len(pool))
    n_heldout = round(cfg.heldout_image_fraction * len(pool))
    images = order[:n_heldout] if heldout else order[n_heldout:]
    patches = tf.constant(pool[images].reshape(-1, cfg.d))
    n = cfg.eval_examples if heldout else cfg.train_examples
    stream = f"sharing/{cfg.patches}/{'heldout' if heldout else 'train'}"
    index = tf.random.stateless_uniform(
        [n, cfg.k], seed=stream_key(seed, stream), maxval=patches.shape[0], dtype=tf.int32
    )
    return tf.gather(patches, index)


def inputs(seed: int, cfg: SharingConfig, heldout: bool, data_dir: Path | None = None) -> tf.Tensor:
    """The fixed training set or the held-out set of one seed: ``[n, k, d]``.

    The data depend on the seed and the input distribution only, not on the architecture: for a
    seed, shared, local and dense see the same examples and the same teacher.
    """
    if cfg.patches in IMAGE_SIDE:
        return natural_patches(seed, cfg, heldout, data_dir)
    n = cfg.eval_examples if heldout else cfg.train_examples
    stream = f"sharing/inputs/{'heldout' if heldout else 'train'}/k{cfg.k}/d{cfg.d}"
    return gaussian_patches(stream_key(seed, stream), n, cfg.k, cfg.d)


def wave_share(cfg: SharingConfig, z: tf.Tensor, y: tf.Tensor) -> np.ndarray:
    """Share of the target's variance carried by its cos part, per seed (``z``: ``[S, n, k]``).

    What a student that learns the linear part only and predicts the cos part by its mean
    would lose (the plateau of an unshared network whose g can ignore the cos part).
    """
    if cfg.target == "walsh":  # no cos part: the Walsh view measures each character instead
        return np.full(z.shape[0], np.nan, np.float32)
    if cfg.target == "low":
        return np.zeros(z.shape[0], np.float32)
    wave = tf.cos(cfg.omega * tf.reduce_sum(z[..., : cfg.cos_units], axis=-1))
    if cfg.target == "mixed":
        wave /= cfg.mix + 1.0
    return (tf.math.reduce_variance(wave, axis=1) / tf.math.reduce_variance(y, axis=1)).numpy()


def teacher_units(cfg: SharingConfig, x: tf.Tensor, u0: tf.Tensor) -> tf.Tensor:
    """The teacher's hidden units: tanh(⟨u0, x_i⟩), or sign(⟨u0, x_i⟩) in the Walsh view."""
    pre = tf.einsum("...kd,...d->...k", x, u0)
    return tf.sign(pre) if cfg.target == "walsh" else tf.tanh(pre)


# --------------------------------------------------------------------------------------------
# The hidden layers. Every weight has a leading seed axis S; inputs are ``[S, n, k, d]``.


def shared_layer(x: tf.Tensor, w: tf.Tensor) -> tf.Tensor:
    """⟨w, x_i⟩, one filter ``[S, d]`` for all patches (a stride-d convolution): ``[S, n, k]``."""
    return tf.einsum("snkd,sd->snk", x, w)


def local_layer(x: tf.Tensor, w: tf.Tensor) -> tf.Tensor:
    """⟨w_i, x_i⟩ with one filter per patch ``[S, k, d]`` (locally connected): ``[S, n, k]``.

    The einsum ``snkd,skd->snk`` written as a broadcast product and a sum: TensorFlow lowers
    the einsum to S·k tiny matrix products, which made a training step twice as slow.
    """
    return tf.reduce_sum(x * w[:, None, :, :], axis=-1)


def dense_layer(x: tf.Tensor, w: tf.Tensor) -> tf.Tensor:
    """k units over the whole flattened input, weights ``[S, k, k·d]``: ``[S, n, k]``."""
    s, n, k, d = (tf.shape(x)[i] for i in range(4))
    return tf.einsum("snf,suf->snu", tf.reshape(x, [s, n, k * d]), w)


LAYERS = {"shared": shared_layer, "local": local_layer, "dense": dense_layer}


def _normal(seeds: Sequence[int], name: str, shape: list[int], std: float) -> tf.Tensor:
    return tf.stack(
        [tf.random.stateless_normal(shape, seed=stream_key(s, name), stddev=std) for s in seeds]
    )


def _glorot_uniform(seeds: Sequence[int], name: str, shape: list[int]) -> tf.Tensor:
    limit = math.sqrt(6.0 / (shape[0] + shape[1]))
    return tf.stack(
        [
            tf.random.stateless_uniform(
                shape, seed=stream_key(s, name), minval=-limit, maxval=limit
            )
            for s in seeds
        ]
    )


class SharingEnsemble(tf.Module):
    """Student networks of one variant for several seeds at once (leading seed axis)."""

    def __init__(self, cfg: SharingConfig, seeds: Sequence[int], data_dir: Path | None = None):
        super().__init__(name="sharing")
        self.cfg = cfg
        self.seeds = tuple(seeds)
        k, d = cfg.k, cfg.d
        self.u0 = tf.constant(np.stack([teacher_filter(s, d) for s in self.seeds]))
        # Training set and held-out set: fixed per seed, drawn once on the device.
        self.x_train = tf.stack([inputs(s, cfg, False, data_dir) for s in self.seeds])
        self.x_test = tf.stack([inputs(s, cfg, True, data_dir) for s in self.seeds])
        u = self.u0[:, None, :]
        self.y_train = outer_target(cfg, teacher_units(cfg, self.x_train, u))
        z_test = teacher_units(cfg, self.x_test, u)
        self.y_test = outer_target(cfg, z_test)
        if cfg.target == "walsh":  # [S, n, J]: what the learned fractions project on
            self.chi_test = characters(z_test, supports(cfg.layout, cfg.degrees))
        self.y_test_var = tf.math.reduce_variance(self.y_test, axis=1)
        self.wave_share = wave_share(cfg, z_test, self.y_test)
        self.order_keys = tf.constant(
            np.stack([stream_key(s, "sharing/epoch-order") for s in self.seeds])
        )
        # This epoch's order of the training set; redrawn when the step enters a new epoch.
        self.order = tf.Variable(
            tf.zeros([len(self.seeds), cfg.train_examples], tf.int32), trainable=False
        )
        self.order_epoch = tf.Variable(tf.constant(-1, tf.int64), trainable=False)

        # Hidden layer: LeCun normal (σ = 1/√fan-in), so ⟨w, x⟩ starts at unit scale.
        shape = {"shared": [d], "local": [k, d], "dense": [k, k * d]}[cfg.architecture]
        fan_in = d if cfg.architecture != "dense" else k * d
        self.w = tf.Variable(
            _normal(self.seeds, f"sharing/init/{cfg.architecture}", shape, fan_in**-0.5), name="w"
        )
        if cfg.g == "learned":  # Keras's Dense defaults: Glorot uniform, zero bias
            n_seeds, hidden = len(self.seeds), cfg.hidden
            self.g1 = tf.Variable(_glorot_uniform(self.seeds, "sharing/init/g1", [k, hidden]))
            self.b1 = tf.Variable(tf.zeros([n_seeds, 1, hidden]))
            self.g2 = tf.Variable(_glorot_uniform(self.seeds, "sharing/init/g2", [hidden, 1]))
            self.b2 = tf.Variable(tf.zeros([n_seeds, 1, 1]))

    def hidden_units(self, x: tf.Tensor) -> tf.Tensor:
        """The student's hidden units tanh(s·⟨w_i, x_i⟩): ``[S, n, k]``."""
        return tf.tanh(self.cfg.steepness * LAYERS[self.cfg.architecture](x, self.w))

    def outputs(self, x: tf.Tensor) -> tf.Tensor:
        """The student's prediction ``[S, n]`` for inputs ``[S, n, k, d]``."""
        z = self.hidden_units(x)
        if self.cfg.g == "known":
            return outer_target(self.cfg, z)
        hidden = tf.nn.relu(tf.matmul(z, self.g1) + self.b1)
        return tf.squeeze(tf.matmul(hidden, self.g2) + self.b2, axis=-1)

    def alignment(self) -> tf.Tensor:
        """|cos| between each unit's weights and the teacher's for that unit: ``[S, k]``.

        The teacher's weights of unit i are u0 on patch i (for dense: u0 at patch i's place in
        the flattened input, zeros elsewhere). The sign is left out: flipping units is a
        symmetry of the Walsh characters and of a learned g. A random filter scores about
        √(2/(π·d)).
        """
        k, d = self.cfg.k, self.cfg.d
        u0 = tf.math.l2_normalize(self.u0, axis=-1)
        w = tf.math.l2_normalize(self.w, axis=-1)
        if self.cfg.architecture == "shared":
            cosine = tf.repeat(tf.reduce_sum(w * u0, axis=-1, keepdims=True), k, axis=1)
        elif self.cfg.architecture == "local":
            cosine = tf.einsum("skd,sd->sk", w, u0)
        else:  # w holds each unit's whole row [S, k, k·d]; keep unit i's weights on patch i
            per_patch = tf.reshape(w, [len(self.seeds), k, k, d])  # [S, unit, patch, d]
            own_patch = tf.linalg.diag_part(tf.transpose(per_patch, [0, 3, 1, 2]))  # [S, d, k]
            cosine = tf.einsum("sdk,sd->sk", own_patch, u0)
        return tf.abs(cosine)

    def _epoch_order(self, epoch: tf.Tensor) -> tf.Tensor:
        """The order of the training set in ``epoch``, ``[S, train_examples]``: drawn from the
        seed's stream at the epoch's first step, and kept (in a variable) until the next."""

        def redraw() -> tf.Tensor:
            orders = [
                tf.argsort(
                    tf.random.stateless_uniform(
                        [self.cfg.train_examples],
                        seed=tf.random.experimental.stateless_fold_in(self.order_keys[i], epoch),
                    )
                )
                for i in range(len(self.seeds))
            ]
            self.order_epoch.assign(epoch)
            return self.order.assign(tf.stack(orders))

        return tf.cond(tf.equal(epoch, self.order_epoch), lambda: self.order.read_value(), redraw)

    def train_loss(self, step: tf.Tensor) -> tf.Tensor:
        """Squared loss on the step's batch of the fixed training set, per seed: ``[S]``."""
        per_epoch = self.cfg.steps_per_epoch
        order = self._epoch_order(step // per_epoch)
        start = tf.cast(step % per_epoch, tf.int32) * self.cfg.batch_size
        index = order[:, start : start + self.cfg.batch_size]
        x = tf.gather(self.x_train, index, batch_dims=1)
        y = tf.gather(self.y_train, index, batch_dims=1)
        return tf.reduce_mean(tf.square(self.outputs(x) - y), axis=-1)

    def evaluate(self, step: tf.Tensor) -> dict[str, tf.Tensor]:
        """Held-out loss normalised by the target's variance (1 = predicting the mean), the
        alignment of the filters with the teacher's and, in the Walsh view, the learned fraction
        of each degree."""
        out = self.outputs(self.x_test)
        mse = tf.reduce_mean(tf.square(out - self.y_test), axis=-1)
        align = self.alignment()
        metrics = {
            "normalised_loss": mse / self.y_test_var,
            "alignment_first": align[:, 0],
            "alignment_rest": tf.reduce_mean(align[:, 1:], axis=-1),
        }
        if self.cfg.target == "walsh":
            coefficient = 1.0 / math.sqrt(self.cfg.degrees)
            projection = tf.reduce_mean(out[..., None] * self.chi_test, axis=1)  # [S, J]
            for j in range(self.cfg.degrees):
                metrics[f"fraction_{j + 1}"] = projection[:, j] / coefficient
        return metrics

    def final_arrays(self) -> dict[str, np.ndarray]:
        """Saved with each run: teacher filter, final weights, alignment, the cos part's share
        of the target's variance and, in the Walsh view, the supports."""
        arrays = {
            "u0": self.u0.numpy(),
            "w": self.w.numpy(),
            "alignment": self.alignment().numpy(),
            "wave_share": self.wave_share,
        }
        if self.cfg.target == "walsh":
            masks = support_masks(supports(self.cfg.layout, self.cfg.degrees), self.cfg.k)
            arrays["supports"] = np.repeat(masks[None], len(self.seeds), axis=0)
        return arrays


def make_optimizer(cfg: SharingConfig, variables: Sequence[tf.Variable]) -> tf.Module:
    """The variant's optimizer (SGD, or Adam with TF1's update and an explicit ε)."""
    if cfg.optimizer == "adam":
        return engine.Adam(variables, cfg.learning_rate, epsilon=cfg.adam_epsilon)
    return engine.SGD(variables, cfg.learning_rate)


def run(cfg: SharingConfig, seeds: Sequence[int], ctx: engine.RunContext) -> None:
    """Train every seed of one variant as one ensemble and write their run directories."""
    task = SharingEnsemble(cfg, seeds, ctx.data_dir)
    optimizer = make_optimizer(cfg, task.trainable_variables)
    schedule = engine.Schedule(cfg.steps, cfg.eval_every_epochs * cfg.steps_per_epoch)
    engine.train(task, optimizer, schedule, ctx, asdict(cfg))
