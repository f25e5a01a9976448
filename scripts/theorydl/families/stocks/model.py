"""The "stocks" task: end-to-end vs decomposition (Failures of Gradient-Based Deep Learning, §3.2,
Fig 4).

A media reference x (one of d one-hot inputs) must be turned into a portfolio p = N_w(x) on the
simplex over k stocks, minimizing L(w) = E_{x,z}[−zᵀp] where z_{y(x)} = 1 for a fixed "right
stock" y(x) and the other k − 1 returns are i.i.d. uniform ±1. Both estimators below are unbiased
for ∇L, since E_z[−zᵀp | x] = −p_{y(x)}:

- end-to-end (E2E): the gradient of −zᵀp on sampled (x, z);
- decomposition (Dec): the gradient of −p_{y(x)}, i.e. learn y(x) and ignore z.

The E2E estimator's second moment is about k times the Dec one (§3.3; see :func:`second_moments`),
so with many stocks E2E stalls far from the optimum while Dec solves the task. As in the authors'
``dec_vs_e2e_stocks.py`` the network is a single linear layer d → k and a softmax (the paper says
"deep network"), trained with Adam on fresh samples every step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict

import numpy as np
import tensorflow as tf

from theorydl import engine
from theorydl.families.stocks.spec import Config, StocksConfig
from theorydl.runtime import numpy_rng, stream_key

__all__ = ["Config", "StocksConfig", "StocksEnsemble", "run"]

# What the evaluation computes exactly, over every input (besides the sampled loss): the
# names of :meth:`StocksEnsemble._exact_metrics`' results, which map_fn needs beforehand.
EXACT_METRICS = (
    "expected_loss",
    "right_stock_accuracy",
    "top_stock_mass",
    "second_moment_e2e",
    "second_moment_dec",
    "mean_gradient_sq",
)


def right_stocks(d: int, k: int, seed: int) -> np.ndarray:
    """y(x) for every input index: uniform on the k stocks, drawn once per seed (int32 ``[d]``)."""
    return numpy_rng(seed, "stocks/targets").integers(0, k, size=d).astype(np.int32)


def sample_inputs(key: tf.Tensor, n: int, d: int) -> tf.Tensor:
    """``n`` input indices uniform on 0..d−1 (the one-hot inputs, by their index)."""
    return tf.random.stateless_uniform([n], seed=key, minval=0, maxval=d, dtype=tf.int32)


def sample_returns(key: tf.Tensor, y: tf.Tensor, k: int) -> tf.Tensor:
    """Returns z ``[n, k]`` for right stocks ``y`` ``[n]``: 1 at y, uniform ±1 elsewhere.

    Each sign is one random bit, 32 to a drawn uint32: drawing one float per sign took most of
    a training step at k = 2000. The right stock's return is selected, not scattered in: under
    op determinism a GPU runs scatters on the host, a round trip inside every step.
    """
    n, words = tf.size(y), -(-k // 32)
    draws = tf.random.stateless_uniform(
        [n, words, 1], seed=key, minval=None, maxval=None, dtype=tf.uint32
    )
    bits = tf.bitwise.bitwise_and(
        tf.bitwise.right_shift(draws, tf.cast(tf.range(32), tf.uint32)), 1
    )
    signs = 2.0 * tf.cast(tf.reshape(bits, [n, 32 * words])[:, :k], tf.float32) - 1.0
    return tf.where(tf.range(k) == y[:, None], 1.0, signs)


def e2e_loss(z: tf.Tensor, p: tf.Tensor) -> tf.Tensor:
    """Per-example end-to-end loss −zᵀp."""
    return -tf.reduce_sum(z * p, axis=-1)


def dec_loss(y: tf.Tensor, p: tf.Tensor) -> tf.Tensor:
    """Per-example decomposition loss −p_y (the probability put on the right stock)."""
    return -tf.gather(p, y, batch_dims=y.shape.rank)


def second_moments(p: tf.Tensor, y: tf.Tensor) -> dict[str, tf.Tensor]:
    """Exact per-example second moments of both estimators for the linear softmax network.

    ``p`` ``[..., d, k]`` holds the network's output for every input and ``y`` ``[..., d]`` the
    right stocks; the expectation over x is the mean over the d inputs, over z it is analytic.
    With G_i = ∇_w p_i(x), E_z‖Σ_i z_i G_i‖² = Σ_i ‖G_i‖² (the z_i, i ≠ y, are independent with
    mean 0), so E2E = E_x Σ_i ‖G_i‖² and Dec = E_x ‖G_y‖² (§3.3). For one-hot x the logits are
    row x of W plus b, so ‖G_i‖² = 2‖∂p_i/∂logits‖² = 2 p_i² (1 − 2p_i + ‖p‖²).
    Also returns ‖∇L‖², the squared norm of the mean gradient that both estimators share, so
    that each variance is its second moment minus it.
    """
    d = tf.cast(tf.shape(p)[-2], p.dtype)
    norm2 = tf.reduce_sum(tf.square(p), axis=-1, keepdims=True)
    g2 = 2.0 * tf.square(p) * (1.0 - 2.0 * p + norm2)  # ‖G_i‖² per input and stock
    rank = y.shape.rank
    # ∇L = −(1/d) Σ_x G_{y(x)}(x): each input owns its row of W, and all share b.
    p_y = tf.gather(p, y, batch_dims=rank)[..., None]
    jac_y = p_y * (tf.one_hot(y, tf.shape(p)[-1], dtype=p.dtype) - p)  # ∂p_y/∂logits per input
    rows = tf.reduce_sum(tf.square(jac_y), axis=[-2, -1])
    shared = tf.reduce_sum(tf.square(tf.reduce_sum(jac_y, axis=-2)), axis=-1)
    return {
        "second_moment_e2e": tf.reduce_mean(tf.reduce_sum(g2, axis=-1), axis=-1),
        "second_moment_dec": tf.reduce_mean(tf.gather(g2, y, batch_dims=rank), axis=-1),
        "mean_gradient_sq": (rows + shared) / tf.square(d),
    }


class StocksEnsemble(tf.Module):
    """The linear softmax network d → k for several seeds at once (leading seed axis).

    A seed fixes the right stocks y(x), the initial weights and the data stream, and none of them
    depends on the method, so E2E and Dec runs of one seed start from the same network and see
    the same (x, z): the comparison is paired.
    """

    def __init__(self, cfg: StocksConfig, seeds: Sequence[int]):
        super().__init__(name="stocks")
        self.cfg = cfg
        self.seeds = tuple(seeds)
        d, k = cfg.d, cfg.k
        self.targets = tf.constant(np.stack([right_stocks(d, k, s) for s in self.seeds]))
        self.train_keys = [tf.constant(stream_key(s, "stocks/train")) for s in self.seeds]
        self.eval_keys = [tf.constant(stream_key(s, "stocks/eval")) for s in self.seeds]
        # The script's Affine layer: truncated normal (±2σ) with σ = 1/sqrt(fan_in), zero bias.
        init = [
            tf.random.stateless_truncated_normal(
                [d, k], seed=stream_key(s, "stocks/init/w"), stddev=d**-0.5
            )
            for s in self.seeds
        ]
        self.w = tf.Variable(tf.stack(init), name="w")  # [S, d, k]
        self.b = tf.Variable(tf.zeros([len(self.seeds), 1, k]), name="b")

    def logits(self, x: tf.Tensor) -> tf.Tensor:
        """Logits ``[S, n, k]`` for input indices ``[S, n]``.

        A one-hot input times W is row x of W, so the layer is a gather (the authors' script
        multiplies by the one-hot matrix; the result and the gradient are the same).
        """
        return tf.gather(self.w, x, batch_dims=1) + self.b

    def probabilities(self, x: tf.Tensor) -> tf.Tensor:
        """Portfolios p ``[S, n, k]`` on the simplex, for input indices ``[S, n]``."""
        return tf.nn.softmax(self.logits(x))

    def _batch(
        self, keys: list[tf.Tensor], step: tf.Tensor, n: int, returns: bool = True
    ) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor | None]:
        """Inputs ``[S, n]``, their right stocks and (if ``returns``) returns ``[S, n, k]``.

        x and z come from separate streams, so a Dec run, which needs no z, sees the same
        inputs as the E2E run of its seed.
        """
        xs, zs = [], []
        for key, targets in zip(keys, tf.unstack(self.targets), strict=True):
            x_key, z_key = tf.unstack(
                tf.random.experimental.stateless_split(
                    tf.random.experimental.stateless_fold_in(key, step), 2
                )
            )
            xs.append(sample_inputs(x_key, n, self.cfg.d))
            if returns:
                zs.append(sample_returns(z_key, tf.gather(targets, xs[-1]), self.cfg.k))
        x = tf.stack(xs)
        return x, tf.gather(self.targets, x, batch_dims=1), tf.stack(zs) if returns else None

    def train_loss(self, step: tf.Tensor) -> tf.Tensor:
        e2e = self.cfg.method == "e2e"
        x, y, z = self._batch(self.train_keys, step, self.cfg.batch_size, returns=e2e)
        p = self.probabilities(x)
        return tf.reduce_mean(e2e_loss(z, p) if e2e else dec_loss(y, p), axis=-1)

    def all_probabilities(self, dtype: tf.DType = tf.float32) -> tf.Tensor:
        """The network's portfolio for every input, ``[S, d, k]``, computed in ``dtype``."""
        return tf.nn.softmax(tf.cast(self.w + self.b, dtype))

    def evaluate(self, step: tf.Tensor) -> dict[str, tf.Tensor]:
        """Per seed: the paper's plotted loss (−zᵀp on fresh samples, for both methods); the
        exact expected loss L(w) = −mean_x p_{y(x)}(x), which that loss estimates; how often
        the top stock is the right one and how much of the portfolio it holds; and both
        estimators' second moments at the current weights."""
        x, _, z = self._batch(self.eval_keys, step, self.cfg.eval_samples)
        # One seed after another: every seed's [d, k] portfolios at once, in float32 and in
        # float64, were the largest allocation of a paper-scale job (1.9 GB at k = 2000).
        # The loop slices the logits, never the variable: gathering from the variable itself
        # would make every later training step copy it (see benchmark_scale.py).
        exact = tf.map_fn(
            lambda args: self._exact_metrics(*args),
            (self.w + self.b, self.targets),
            fn_output_signature={name: tf.float32 for name in EXACT_METRICS},
            parallel_iterations=1,
        )
        return {"loss": tf.reduce_mean(e2e_loss(z, self.probabilities(x)), axis=-1), **exact}

    def _exact_metrics(self, logits: tf.Tensor, targets: tf.Tensor) -> dict[str, tf.Tensor]:
        """The metrics of one seed, from its logits ``[d, k]`` for every input."""
        p = tf.nn.softmax(logits)
        right = tf.argmax(p, axis=-1, output_type=tf.int32) == targets
        # In float64: once p_y is near 1, 1 − 2p + ‖p‖² cancels to 0 in float32.
        moments = second_moments(tf.nn.softmax(tf.cast(logits, tf.float64)), targets)
        return {
            "expected_loss": tf.reduce_mean(dec_loss(targets, p)),
            "right_stock_accuracy": tf.reduce_mean(tf.cast(right, tf.float32)),
            # Near 1: the portfolio has committed to one stock per input, right or not.
            "top_stock_mass": tf.reduce_mean(tf.reduce_max(p, axis=-1)),
            **{name: tf.cast(value, tf.float32) for name, value in moments.items()},
        }

    def final_arrays(self) -> dict[str, np.ndarray]:
        return {
            "right_stocks": self.targets.numpy(),
            "w": self.w.numpy(),
            "b": self.b.numpy()[:, 0],
        }


def run(cfg: StocksConfig, seeds: Sequence[int], ctx: engine.RunContext) -> None:
    """Train every seed of one (method, k) as one ensemble and write their run directories."""
    task = StocksEnsemble(cfg, seeds)
    # The fused kernel: each step updates all d·k weights (Adam moves rows that the batch missed
    # too), and that update is most of a step's time.
    optimizer = engine.FusedAdam(
        task.trainable_variables, cfg.learning_rate, cfg.beta1, cfg.beta2, cfg.epsilon
    )
    engine.train(task, optimizer, engine.Schedule(cfg.steps, cfg.eval_every), ctx, asdict(cfg))
