"""The theory behind the parity failure (Failures §2 and Appendix B), checked numerically.

- **Theorem 1**: for a set H of orthogonal targets, the variance across targets of the loss
  gradient, Var = E_h‖∇F_h(w) − E_h'∇F_h'(w)‖², is at most G(w)²/|H|, where
  G(w)² bounds E_x‖∂p_w(x)/∂w‖². Parities of d bits are 2^d such targets, so the gradient
  is nearly the same whichever parity is the target: it carries ~2^-d bits about it.
- **Lemma 3**: a ReLU layer of width about 3d/2 realizes any parity exactly, so the failure
  is one of optimization, not of expressiveness.

Everything here is exact: the expectations over x enumerate all 2^d inputs.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import tensorflow as tf

from theorydl import runtime
from theorydl.families.parity.model import ParityConfig, ParityEnsemble
from theorydl.runs import write_job_outputs


def all_inputs(d: int) -> np.ndarray:
    """Every point of {±1}^d as a float32 array ``[2^d, d]``; row 0 is all +1."""
    bits = np.array(list(itertools.product([0, 1], repeat=d)), dtype=np.float32)
    return 1.0 - 2.0 * bits


def characters(d: int) -> tuple[np.ndarray, np.ndarray]:
    """All 2^d parities as masks ``[2^d, d]`` and their values on :func:`all_inputs`."""
    masks = all_inputs(d) < 0  # one subset per row, enumerated like the inputs
    x = all_inputs(d)
    values = np.prod(np.where(masks[:, None, :], x[None, :, :], 1.0), axis=-1)
    return masks, values.astype(np.float32)


def gradient_chunks(
    net: ParityEnsemble, x: np.ndarray, chunk: int = 2048
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Network outputs ``p(x)`` and flattened parameter gradients ``∂p(x)/∂w`` (``[n, P]``),
    ``chunk`` examples at a time so that memory stays small (d = 14: 16 384 examples).

    One copy of the weights per example along the ensemble axis: the gradient of the summed
    outputs with respect to the copies is then every per-example gradient, in one backward pass
    (TF's ``jacobian`` would do the same through pfor, which corrupted memory in our tests).
    """
    for start in range(0, x.shape[0], chunk):
        part = x[start : start + chunk]
        n = part.shape[0]
        copies = [tf.repeat(p, n, axis=0) for p in net.params]  # the net holds a single seed
        with tf.GradientTape() as tape:
            tape.watch(copies)
            out = net.scores(tf.constant(part[:, None, :]), copies)[:, 0]
            total = tf.reduce_sum(out)
        flat = tf.concat([tf.reshape(g, [n, -1]) for g in tape.gradient(total, copies)], axis=1)
        yield out.numpy().astype(np.float64), flat.numpy().astype(np.float64)


def per_example_gradients(net: ParityEnsemble, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All of :func:`gradient_chunks` at once: ``p`` ``[n]`` and ``∂p/∂w`` ``[n, P]``."""
    scores, grads = zip(*gradient_chunks(net, x), strict=True)
    return np.concatenate(scores), np.concatenate(grads)


@dataclass(frozen=True)
class GradientVariance:
    """Theorem 1's quantities for one network at one point w."""

    d: int
    variance: float  # Var over all 2^d parity targets of the hinge-loss gradient
    g_squared: float  # G(w)² = E_x‖∂p/∂w‖²
    bound: float  # G²/2^d

    @property
    def ratio(self) -> float:
        return self.variance / self.bound


def gradient_variance(d: int, seed: int, width_factor: int = 10) -> GradientVariance:
    """Exact variance across parity targets of the hinge-loss gradient at initialization.

    With a(x) = −h(x)·1[h(x)p(x) < 1] the gradient for target h is E_x[a_h(x) g(x)]. Because
    h(x) = ±1, a_h(x) = −c(x)h(x) + s(x) with c = 1, s = 0 where |p| < 1 and c = ½,
    s = sign(p)/2 elsewhere; the s part does not depend on h. The h-dependent part is the Walsh
    transform of f = c·g, so by Parseval Var = E_x‖f‖²/2^d − ‖f(𝟙)‖²/4^d exactly
    (𝟙 = all-ones input, where every parity is +1).
    """
    net = ParityEnsemble(ParityConfig(d=d, width_factor=width_factor), [seed])
    x = all_inputs(d)
    sum_f2 = sum_g2 = 0.0
    f_at_ones = None
    for p, g in gradient_chunks(net, x):
        f = np.where(np.abs(p) < 1.0, 1.0, 0.5)[:, None] * g
        sum_f2 += float(np.sum(f**2))
        sum_g2 += float(np.sum(g**2))
        if f_at_ones is None:
            f_at_ones = f[0]  # all_inputs puts the all-ones input first
    n = 2.0**d
    variance = sum_f2 / n / n - float(np.sum(f_at_ones**2)) / n**2
    g_squared = sum_g2 / n
    return GradientVariance(d, variance, g_squared, g_squared / n)


def gradient_variance_by_enumeration(d: int, seed: int, width_factor: int = 10) -> float:
    """The same variance computed the long way: the hinge gradient of every target, then Var.

    Costs 2^d × 2^d × P; used to test :func:`gradient_variance` for small d.
    """
    net = ParityEnsemble(ParityConfig(d=d, width_factor=width_factor), [seed])
    x = all_inputs(d)
    p, g = per_example_gradients(net, x)
    _, h = characters(d)  # [targets, inputs]
    slope = np.where(h * p[None, :] < 1.0, -1.0, 0.0)  # d/dz relu(1 − z) at z = h·p
    grads = (slope * h) @ g / x.shape[0]  # ∇F_h = E_x[r'(h p) h ∂p/∂w], one row per target
    return float(np.mean(np.sum((grads - grads.mean(axis=0)) ** 2, axis=1)))


def lemma3_weights(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Weights of a one-hidden-layer ReLU net computing the parity of ``mask`` on {±1}^d.

    Appendix B's construction, for bits b_i = (1 − x_i)/2 and z = Σ_{i∈S} b_i: triads of units
    relu(z − 2i + ½), relu(z − 2i), relu(z − 2i − ½) with output weights 1, −2, 1 sum to ½ when
    z = 2i and to 0 at every other integer; over i = 0..⌊|S|/2⌋ the sum is ½·[z even], and
    4·sum − 1 = (−1)^z = ∏_{i∈S} x_i. Width 3(⌊|S|/2⌋ + 1) ≤ 3d/2 + 3.
    Returns (w1 ``[d, width]``, b1 ``[width]``, w2 ``[width]``, b2).
    """
    mask = np.asarray(mask, dtype=bool)
    size = int(mask.sum())
    # z = Σ_{i∈S}(1 − x_i)/2 = |S|/2 − ½ Σ_{i∈S} x_i: input weights −½ on S, offset |S|/2.
    direction = np.where(mask, -0.5, 0.0)
    w1, b1, w2 = [], [], []
    for i in range(size // 2 + 1):
        for shift, out in ((-0.5, 1.0), (0.0, -2.0), (0.5, 1.0)):
            w1.append(direction)
            b1.append(size / 2 - 2 * i - shift)
            w2.append(4.0 * out)
    return np.stack(w1, axis=1), np.array(b1), np.array(w2), -1.0


def gradient_variance_job(
    outputs: Any, tf_threads: int, dims: list[int], init_seeds: list[int], width_factor: int
) -> None:
    """Rule ``parity_gradient_variance``: Theorem 1's exact variance for every d and
    initialization, to ``outputs.csv``, with the job's provenance in ``outputs.meta``."""
    tf_module = runtime.setup_tensorflow(tf_threads)
    started = time.perf_counter()
    rows = []
    for d in dims:
        for seed in init_seeds:
            result = gradient_variance(d, seed, width_factor)
            rows.append(
                {
                    "d": d,
                    "init_seed": seed,
                    "variance": result.variance,
                    "g_squared": result.g_squared,
                    "bound": result.bound,
                }
            )
            print(f"d={d} init={seed}: Var={result.variance:.4e} bound={result.bound:.4e}")
    table = pd.DataFrame(rows)
    meta = {
        "dims": list(dims),
        "init_seeds": list(init_seeds),
        "width_factor": width_factor,
        "wall_time_s": round(time.perf_counter() - started, 3),
        **runtime.provenance(tf_module, tf_threads),
    }
    write_job_outputs({outputs.csv: table}, outputs.meta, meta)
