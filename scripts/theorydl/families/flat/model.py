"""Flat activations: learning through a step function (Failures of Gradient-Based Deep Learning,
§5, Fig 7).

The target is y = u(v*ᵀx + b*), where u rounds down to the nearest of a set of steps z_i; its
derivative is zero almost everywhere, so backpropagating through u gives no signal. The paper
compares four ways around that, each here a *learner* trained on the same stream of fresh
batches (one target per seed, shared by the four):

- ``non_flat``: a linear r̂ = vᵀx + b through a smooth approximation ũ of u (a sum of
  sigmoids), MSE. Gradients exist but are tiny wherever ũ is nearly flat, so a run whose r̂
  starts far from the steps near b* may never move (the paper's plotted run did not);
- ``end_to_end``: an improper ReLU MLP 3 × 100 → 1, MSE: learns a smooth curve, not steps;
- ``multi_class``: a ReLU MLP 2 × 100 → one logit per class (the step index), cross-entropy,
  prediction z of the argmax: the right levels, blurred boundaries;
- ``forward_only``: the linear r̂ through u on the forward pass and the identity on the backward
  pass (straight-through, ``r̂ + stop_gradient(u(r̂) − r̂)``), MSE: the exact staircase.

Defaults are those of the authors' ``step_learn.py`` (52 unique steps, a per-step sigmoid
steepness, 100 logits for the multi-class net, Adam with β₂ 0.99 and ε 1e-5); the paper text's
55 steps and single steepness are switches.

The hyperparameters, the step sets and the config checks are in ``spec``; the test-cost
measurement, which trains nothing, is in ``theory``.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import tensorflow as tf

from theorydl import engine
from theorydl.families.flat.spec import (
    METHOD_DEFAULTS,
    METHODS,
    Config,
    FlatConfig,
    step_offsets,
)
from theorydl.runtime import numpy_rng, stream_key

__all__ = [
    "LEARNERS",
    "METHODS",
    "METHOD_DEFAULTS",
    "Config",
    "FlatConfig",
    "SmoothStep",
    "StepLearner",
    "Target",
    "build",
    "draw_target",
    "run",
    "step_function",
    "step_index",
    "step_offsets",
    "straight_through",
]

# A prediction is "off" when it misses the label by more than this share of the label range.
OFF_TOLERANCE = 0.02


# --------------------------------------------------------------------------------------------
# The step function, its smooth approximation, and the straight-through estimator.


def step_index(r: tf.Tensor, z: tf.Tensor) -> tf.Tensor:
    """Index of the step u rounds ``r`` ``[S, n]`` down to, for steps ``z`` ``[S, K]``.

    The last index i with z_i ≤ r, as the authors' class labels; below z_0 (never reached:
    z_0 = b* − 100) it is 0. A binary search: the lookup that makes forward-only cheap to run.
    """
    at_or_below = tf.searchsorted(z, r, side="right", out_type=tf.int32)
    return tf.maximum(at_or_below - 1, 0)


def step_function(r: tf.Tensor, z: tf.Tensor) -> tf.Tensor:
    """u(r) = max{z_i : z_i ≤ r} for ``r`` ``[S, n]`` and steps ``z`` ``[S, K]``."""
    return tf.gather(z, step_index(r, z), batch_dims=1)


def straight_through(r: tf.Tensor, z: tf.Tensor) -> tf.Tensor:
    """u(r) on the forward pass, the identity on the backward pass (the forward-only learner)."""
    return r + tf.stop_gradient(step_function(r, z) - r)


@dataclass(frozen=True)
class SmoothStep:
    """ũ(r) = z_0 + Σ_i Δ_i σ(c_i (r − b* − m_i)), over the gaps Δ_i > 0 between the steps.

    The authors' form: c_i = 5L/Δ_i and centre m_i = o_{i+1} − Δ_i/(2L), just below each
    step o_{i+1} (offsets from b*). The paper's form: one c for all steps, centred on the step.
    Both tend to u as L or c grows. Zero-width gaps (repeated steps) contribute nothing.
    """

    first: float
    gaps: np.ndarray
    centres: np.ndarray
    steepness: np.ndarray

    @classmethod
    def build(
        cls, offsets: np.ndarray, sharpness: float = 10.0, constant_steepness: float | None = None
    ) -> SmoothStep:
        """The approximation of the step function with these offsets."""
        unique = np.unique(offsets)
        gaps = np.diff(unique)
        if constant_steepness is None:
            centres = unique[1:] - gaps / (2 * sharpness)
            steepness = 5.0 * sharpness / gaps
        else:
            centres = unique[1:]
            steepness = np.full_like(gaps, constant_steepness)
        return cls(float(unique[0]), gaps, centres, steepness)

    def __call__(self, r: tf.Tensor, b_star: tf.Tensor) -> tf.Tensor:
        """ũ(r) for ``r`` ``[S, n]`` and each seed's b* ``[S]``."""
        shifted = r - b_star[:, None]
        centres = tf.constant(self.centres, tf.float32)
        steepness = tf.constant(self.steepness, tf.float32)
        rises = tf.sigmoid(steepness * (shifted[..., None] - centres))
        return (
            b_star[:, None]
            + self.first
            + tf.linalg.matvec(rises, tf.constant(self.gaps, tf.float32))
        )


# --------------------------------------------------------------------------------------------
# The target and the data, shared by the four learners.


@dataclass(frozen=True)
class Target:
    """One seed's target: v* ~ N(0, I), b* ~ N(0, 1) and the steps b* + offsets."""

    w_star: np.ndarray
    b_star: float
    steps: np.ndarray


def draw_target(cfg: FlatConfig, seed: int) -> Target:
    """The target of a seed (drawn once on the host, as the script draws W_star and b_star)."""
    rng = numpy_rng(seed, "flat/target")
    w_star = rng.standard_normal(cfg.input_dim)
    b_star = float(rng.standard_normal())
    return Target(w_star, b_star, b_star + step_offsets(cfg.step_set))


def sample_inputs(key: tf.Tensor, n: int, dim: int) -> tf.Tensor:
    """``n`` inputs x ~ N(0, I)/100 of dimension ``dim`` from a stateless key (as the script)."""
    return tf.random.stateless_normal([n, dim], seed=key) / 100.0


def relative_errors(prediction: tf.Tensor, label: tf.Tensor) -> dict[str, tf.Tensor]:
    """Per seed: RMS error and the share of points off by > 2%, both relative to the label range.

    ``prediction`` and ``label`` are ``[S, n]``; the range is that of the labels drawn.
    """
    span = tf.reduce_max(label, axis=-1) - tf.reduce_min(label, axis=-1)
    error = tf.abs(prediction - label)
    rms = tf.sqrt(tf.reduce_mean(tf.square(error), axis=-1))
    off = tf.reduce_mean(tf.cast(error > OFF_TOLERANCE * span[:, None], tf.float32), axis=-1)
    output_span = tf.reduce_max(prediction, axis=-1) - tf.reduce_min(prediction, axis=-1)
    return {"relative_rms": rms / span, "off_fraction": off, "output_range": output_span / span}


def _truncated_normal(seeds: Sequence[int], name: str, shape: list[int]) -> tf.Tensor:
    """The scripts' dense init for every seed: truncated normal, σ = 1/sqrt(fan_in)."""
    return tf.stack(
        [
            tf.random.stateless_truncated_normal(
                shape, seed=stream_key(s, f"flat/init/{name}"), stddev=shape[0] ** -0.5
            )
            for s in seeds
        ]
    )


class Dense(tf.Module):
    """An affine layer with a leading seed axis: ``[S, n, fan_in] → [S, n, fan_out]``.

    ``name`` (e.g. ``end_to_end/hidden0``) names its random stream and its saved arrays.
    """

    def __init__(self, seeds: Sequence[int], name: str, fan_in: int, fan_out: int):
        super().__init__(name=name.replace("/", "_"))
        self.label = name
        self.w = tf.Variable(_truncated_normal(seeds, name, [fan_in, fan_out]), name="w")
        self.b = tf.Variable(tf.zeros([len(seeds), 1, fan_out]), name="b")

    def arrays(self) -> dict[str, np.ndarray]:
        """Weights ``[S, fan_in, fan_out]`` and biases ``[S, fan_out]``, keyed by layer."""
        return {f"{self.label}.w": self.w.numpy(), f"{self.label}.b": self.b.numpy()[:, 0, :]}

    def __call__(self, x: tf.Tensor) -> tf.Tensor:
        return tf.matmul(x, self.w) + self.b


class StepLearner(tf.Module):
    """The task every learner shares: its seeds' targets, their data, and the evaluation.

    Subclasses define the model: ``output`` (what the loss sees), ``loss`` and ``predict``
    (the learned hypothesis), each with a leading seed axis.
    """

    def __init__(self, cfg: FlatConfig, seeds: Sequence[int]):
        super().__init__(name=cfg.method)
        self.cfg = cfg
        self.seeds = tuple(seeds)
        targets = [draw_target(cfg, s) for s in self.seeds]
        self.w_star = tf.constant(np.stack([t.w_star for t in targets])[:, :, None], tf.float32)
        self.b_star = tf.constant([t.b_star for t in targets], tf.float32)
        self.steps_z = tf.constant(np.stack([t.steps for t in targets]), tf.float32)
        # Every learner of a seed sees the same batches: the streams depend on the seed only.
        self.train_keys = [tf.constant(stream_key(s, "flat/train")) for s in self.seeds]
        self.test_keys = [tf.constant(stream_key(s, "flat/test")) for s in self.seeds]
        # Drawn once and kept (41 MB per 10 seeds): drawing the points anew at every evaluation
        # took 40-85% of the evaluation's time. Drawn by a compiled function, as the training
        # batches are: eager sampling differs from compiled sampling in the last bits.
        self._test_set = tf.function(self.batch)(self.test_keys, cfg.eval_samples)

    # -- data --------------------------------------------------------------------------------
    def batch(self, keys: Sequence[tf.Tensor], n: int) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        """Inputs ``[S, n, d]``, pre-activations r = v*ᵀx + b* ``[S, n]`` and labels u(r)."""
        x = tf.stack([sample_inputs(k, n, self.cfg.input_dim) for k in keys])
        r = tf.squeeze(tf.matmul(x, self.w_star), axis=-1) + self.b_star[:, None]
        return x, r, step_function(r, self.steps_z)

    def train_batch(self, step: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        keys = [tf.random.experimental.stateless_fold_in(k, step) for k in self.train_keys]
        return self.batch(keys, self.cfg.batch_size)

    def test_set(self) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        """The same ``eval_samples`` points at every evaluation (fixed per seed)."""
        return self._test_set

    # -- the engine's Task protocol ----------------------------------------------------------
    def train_loss(self, step: tf.Tensor) -> tf.Tensor:
        x, _, y = self.train_batch(step)
        return self.loss(x, y)

    def evaluate(self, step: tf.Tensor) -> dict[str, tf.Tensor]:
        x, _, y = self.test_set()
        return {"loss": self.loss(x, y), **relative_errors(self.predict(x), y)}

    def final_arrays(self) -> dict[str, np.ndarray]:
        x, r, y = self.test_set()
        arrays = {
            "r": r.numpy(),
            "label": y.numpy(),
            "prediction": self.predict(x).numpy(),
            "steps_z": self.steps_z.numpy(),
            "w_star": self.w_star.numpy()[:, :, 0],
            "b_star": self.b_star.numpy(),
        }
        for layer in self.layers():
            arrays.update(layer.arrays())
        return arrays

    # -- the model (per learner) -------------------------------------------------------------
    def layers(self) -> list[Dense]:
        """The learner's layers, input first."""
        raise NotImplementedError

    def loss(self, x: tf.Tensor, y: tf.Tensor) -> tf.Tensor:
        """Per-seed training objective ``[S]`` on inputs ``x`` with labels ``y``."""
        return tf.reduce_mean(tf.square(self.output(x) - y), axis=-1)

    def output(self, x: tf.Tensor) -> tf.Tensor:
        """What the loss compares with the label, ``[S, n]``."""
        raise NotImplementedError

    def predict(self, x: tf.Tensor) -> tf.Tensor:
        """The learned hypothesis at inputs ``x``, ``[S, n]``."""
        return self.output(x)


class NonFlatApproximation(StepLearner):
    """Exp 5.2: a linear r̂ through the smooth ũ, MSE."""

    def __init__(self, cfg: FlatConfig, seeds: Sequence[int]):
        super().__init__(cfg, seeds)
        self.linear = Dense(seeds, "non_flat/linear", cfg.input_dim, 1)
        self.smooth = SmoothStep.build(
            step_offsets(cfg.step_set), cfg.smooth_sharpness, cfg.smooth_constant_steepness
        )

    def layers(self) -> list[Dense]:
        return [self.linear]

    def r_hat(self, x: tf.Tensor) -> tf.Tensor:
        return tf.squeeze(self.linear(x), axis=-1)

    def output(self, x: tf.Tensor) -> tf.Tensor:
        return self.smooth(self.r_hat(x), self.b_star)

    def evaluate(self, step: tf.Tensor) -> dict[str, tf.Tensor]:
        x, _, y = self.test_set()
        hard = relative_errors(step_function(self.r_hat(x), self.steps_z), y)
        return {
            **super().evaluate(step),
            "relative_rms_hard": hard["relative_rms"],
            "off_fraction_hard": hard["off_fraction"],
        }

    def final_arrays(self) -> dict[str, np.ndarray]:
        x, r, _ = self.test_set()
        return {
            **super().final_arrays(),
            # Fig 7a's magenta curve (ũ at the true r) and the script's blue u(r̂).
            "smooth_label": self.smooth(r, self.b_star).numpy(),
            "hard_prediction": step_function(self.r_hat(x), self.steps_z).numpy(),
        }


class EndToEnd(StepLearner):
    """Exp 5.3: an improper ReLU MLP 3 × 100 → 1, MSE."""

    HIDDEN_LAYERS = 3

    def __init__(self, cfg: FlatConfig, seeds: Sequence[int]):
        super().__init__(cfg, seeds)
        widths = [cfg.input_dim] + [cfg.hidden_width] * self.HIDDEN_LAYERS
        self.hidden = [
            Dense(seeds, f"end_to_end/hidden{i}", fan_in, fan_out)
            for i, (fan_in, fan_out) in enumerate(itertools.pairwise(widths))
        ]
        self.out = Dense(seeds, "end_to_end/out", cfg.hidden_width, 1)

    def layers(self) -> list[Dense]:
        return [*self.hidden, self.out]

    def output(self, x: tf.Tensor) -> tf.Tensor:
        for layer in self.hidden:
            x = tf.nn.relu(layer(x))
        return tf.squeeze(self.out(x), axis=-1)


class MultiClass(StepLearner):
    """Exp 5.4: a ReLU MLP 2 × 100 → one logit per class (the step index), cross-entropy;
    the prediction is the step of the most likely class."""

    HIDDEN_LAYERS = 2

    def __init__(self, cfg: FlatConfig, seeds: Sequence[int]):
        super().__init__(cfg, seeds)
        widths = [cfg.input_dim] + [cfg.hidden_width] * self.HIDDEN_LAYERS
        self.hidden = [
            Dense(seeds, f"multi_class/hidden{i}", fan_in, fan_out)
            for i, (fan_in, fan_out) in enumerate(itertools.pairwise(widths))
        ]
        self.out = Dense(seeds, "multi_class/logits", cfg.hidden_width, cfg.multi_class_logits)

    def layers(self) -> list[Dense]:
        return [*self.hidden, self.out]

    def logits(self, x: tf.Tensor) -> tf.Tensor:
        for layer in self.hidden:
            x = tf.nn.relu(layer(x))
        return self.out(x)

    def loss(self, x: tf.Tensor, y: tf.Tensor) -> tf.Tensor:
        # The label's class is its step's index; y lies on a step, so step_index(y) finds it.
        classes = step_index(y, self.steps_z)
        ce = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=classes, logits=self.logits(x))
        return tf.reduce_mean(ce, axis=-1)

    def predict(self, x: tf.Tensor) -> tf.Tensor:
        # Only the first K logits name a step: the script's spare logits (100 > 52) never win
        # after training, but could before it, where Z[argmax] would not exist.
        steps = self.steps_z.shape[-1]
        best = tf.argmax(self.logits(x)[..., :steps], axis=-1, output_type=tf.int32)
        return tf.gather(self.steps_z, best, batch_dims=1)


class ForwardOnly(StepLearner):
    """Exp 5.5: a linear r̂ through u forward and the identity backward (straight-through), MSE."""

    def __init__(self, cfg: FlatConfig, seeds: Sequence[int]):
        super().__init__(cfg, seeds)
        self.linear = Dense(seeds, "forward_only/linear", cfg.input_dim, 1)

    def layers(self) -> list[Dense]:
        return [self.linear]

    def r_hat(self, x: tf.Tensor) -> tf.Tensor:
        return tf.squeeze(self.linear(x), axis=-1)

    def output(self, x: tf.Tensor) -> tf.Tensor:
        return straight_through(self.r_hat(x), self.steps_z)

    def predict(self, x: tf.Tensor) -> tf.Tensor:
        # u(r̂) itself: the estimator's r̂ + (u(r̂) − r̂) is u(r̂) only up to float rounding.
        return step_function(self.r_hat(x), self.steps_z)


LEARNERS: dict[str, type[StepLearner]] = {
    "non_flat": NonFlatApproximation,
    "end_to_end": EndToEnd,
    "multi_class": MultiClass,
    "forward_only": ForwardOnly,
}


def build(cfg: FlatConfig, seeds: Sequence[int]) -> StepLearner:
    """The learner of ``cfg.method`` for these seeds (one ensemble)."""
    return LEARNERS[cfg.method](cfg, seeds)


def run(cfg: FlatConfig, seeds: Sequence[int], ctx: engine.RunContext) -> None:
    """Train every seed of one method as one ensemble and write their run directories."""
    # The authors' budget of the method: claims compare methods only when all ran it.
    about = {"authors_steps": METHOD_DEFAULTS[cfg.method]["steps"]}
    ctx = dataclasses.replace(ctx, extra_meta={**ctx.extra_meta, **about})
    learner = build(cfg, seeds)
    optimizer = engine.Adam(
        learner.trainable_variables, cfg.learning_rate, cfg.beta1, cfg.beta2, cfg.epsilon
    )
    engine.train(learner, optimizer, engine.Schedule(cfg.steps, cfg.eval_every), ctx, asdict(cfg))
