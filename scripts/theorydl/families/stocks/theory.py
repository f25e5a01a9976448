"""Why end-to-end fails on the stocks task (Failures §3.3): the variance of its gradient estimator.

SGD needs about ν̄²/ε² iterations to reach ‖∇L‖² ≤ ε, where ν̄² bounds the second moment of the
stochastic gradient (Ghadimi & Lan). Both estimators of the stocks task are unbiased for the same
∇L, but with G_i = ∇_w p_i(x) their per-example second moments are E_x Σ_i ‖G_i‖² (E2E) and
E_x ‖G_{y(x)}‖² (Dec): at initialization, where the ‖G_i‖ are alike, the E2E one is about k
times larger. This module measures both at initialization, for any k:

- *exactly*, from the closed form of :func:`.model.second_moments` (mean over all d inputs,
  expectation over z done analytically);
- *by Monte Carlo*, as the mean squared norm of per-example gradients of the two training losses,
  taken by automatic differentiation on fresh samples (x, z) of the training distribution.

The two agree up to sampling noise; the second checks the first against the model itself.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import pandas as pd
import tensorflow as tf

from theorydl import runtime
from theorydl.families.stocks.model import (
    StocksConfig,
    StocksEnsemble,
    dec_loss,
    e2e_loss,
    second_moments,
)
from theorydl.runs import write_job_outputs
from theorydl.runtime import stream_key


def per_example_gradient_norms(
    net: StocksEnsemble, x: tf.Tensor, y: tf.Tensor, z: tf.Tensor
) -> dict[str, tf.Tensor]:
    """Squared norms ``[S, n]`` of each example's gradient (w.r.t. W and b) of both losses.

    An example's loss depends on the weights only through its logits, row x of W plus b, and
    both receive the logits' gradient, so ‖∇_{W,b} loss‖² = 2‖∂loss/∂logits‖². The gradient of
    the summed losses with respect to the logits holds every example's own row: one backward
    pass gives all n per-example gradients.
    """
    with tf.GradientTape(persistent=True) as tape:
        logits = net.logits(x)
        p = tf.nn.softmax(logits)
        e2e, dec = tf.reduce_sum(e2e_loss(z, p)), tf.reduce_sum(dec_loss(y, p))
    norms = {}
    for name, loss in (("e2e", e2e), ("dec", dec)):
        norms[name] = 2.0 * tf.reduce_sum(tf.square(tape.gradient(loss, logits)), axis=-1)
    return norms


@dataclass(frozen=True)
class InitialMoments:
    """Both estimators' per-example second moments at one initialization."""

    k: int
    exact_e2e: float
    exact_dec: float
    measured_e2e: float
    measured_dec: float
    mean_gradient_sq: float  # ‖∇L‖², shared by both (each is unbiased)

    @property
    def exact_ratio(self) -> float:
        return self.exact_e2e / self.exact_dec

    @property
    def measured_ratio(self) -> float:
        return self.measured_e2e / self.measured_dec


def initial_moments(d: int, k: int, seed: int, samples: int) -> InitialMoments:
    """Second moments of both estimators for the network that seed ``seed`` initializes.

    The network, its right stocks and its initial weights are those of the training runs of that
    seed; the Monte Carlo samples come from their own stream.
    """
    net = StocksEnsemble(StocksConfig(d=d, k=k), [seed])
    key = tf.constant(stream_key(seed, "stocks/moments"))
    x, y, z = net._batch([key], tf.constant(0, tf.int64), samples)
    measured = per_example_gradient_norms(net, x, y, z)
    exact = second_moments(net.all_probabilities(tf.float64), net.targets)
    return InitialMoments(
        k=k,
        exact_e2e=float(exact["second_moment_e2e"][0]),
        exact_dec=float(exact["second_moment_dec"][0]),
        measured_e2e=float(tf.reduce_mean(measured["e2e"])),
        measured_dec=float(tf.reduce_mean(measured["dec"])),
        mean_gradient_sq=float(exact["mean_gradient_sq"][0]),
    )


def second_moments_job(
    outputs: Any, tf_threads: int, d: int, ks: list[int], init_seeds: list[int], samples: int
) -> None:
    """Rule ``stocks_second_moments``: both estimators' second moments at initialization, exact
    and measured, for every k and initialization, to ``outputs.csv``, with the job's provenance
    in ``outputs.meta``."""
    tf_module = runtime.setup_tensorflow(tf_threads)
    started = time.perf_counter()
    rows = []
    for k in ks:
        for seed in init_seeds:
            result = initial_moments(d, k, seed, samples)
            rows.append(
                {
                    "k": k,
                    "init_seed": seed,
                    "samples": samples,
                    "exact_e2e": result.exact_e2e,
                    "exact_dec": result.exact_dec,
                    "measured_e2e": result.measured_e2e,
                    "measured_dec": result.measured_dec,
                    "mean_gradient_sq": result.mean_gradient_sq,
                }
            )
            print(
                f"k={k} init={seed}: ratio exact {result.exact_ratio:.4g}, "
                f"measured {result.measured_ratio:.4g}",
                flush=True,
            )
    table = pd.DataFrame(rows)
    meta = {
        "d": d,
        "ks": list(ks),
        "init_seeds": list(init_seeds),
        "samples": samples,
        "wall_time_s": round(time.perf_counter() - started, 3),
        **runtime.provenance(tf_module, tf_threads),
    }
    write_job_outputs({outputs.csv: table}, outputs.meta, meta)
