"""Piecewise-linear curves and the conditioning behind their failure (Failures §4, App. A.4-A.6).

A curve with k kinks, sampled at x = 0..n−1, is f = W p: p ∈ R^n holds the change of slope
a_i at the kink's index θ_i and is zero elsewhere, and W_ij = [i − j + 1]_+ (lower triangular,
unit diagonal). Everything here is numpy (no TensorFlow), so the analysis and the conditioning
job (:func:`conditioning_job`) can use it too:

- **Lemma 1**: W⁻¹ = U with U_ii = 1, U_{i+1,i} = −2, U_{i+2,i} = 1: p is f convolved with the
  3-tap filter [1, −2, 1] (zero padded), and f is the double cumulative sum of p;
- the two curve distributions: the authors' script (kinks in {3..n−4}, one of four slope
  patterns) and the paper's text (kinks uniform on {0..n−1}, a ~ U[−1, 1]);
- **Theorem 3**: cond(WᵀW) = S₁₁²/S_nn² grows like n⁴, and GD on the fully connected problem
  needs more than S₁₁²/(2S_nn²) steps before E Û is within 0.5 of U;
- **App. A.6**: the 3×3 covariance C of the convolution's input rows [f_{t+2}, f_{t+1}, f_t]
  has condition number Θ(n³); whitening the rows with C^{−1/2} brings it to 1 (§4.1.3).
"""

from __future__ import annotations

import platform
import time
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from theorydl import runtime
from theorydl.families.curves.spec import DISTRIBUTIONS
from theorydl.runs import write_job_outputs
from theorydl.runtime import numpy_rng

# The authors' script draws each curve's successive segment slopes from one of these patterns.
SLOPE_PATTERNS = np.array([[1, -1, 1], [1, -2, 1], [-2, 1, -1], [1, -1, 2]], dtype=np.float64)
INVERSE_FILTER = np.array([1.0, -2.0, 1.0])  # p_t = f_t − 2 f_{t−1} + f_{t−2}
# The script's kinks avoid 3 indices at each end, so that p_0 = p_1 = 0 where the 3-tap
# convolution's output is zero padded.
CODE_MARGIN = 3


def curve_matrix(n: int) -> np.ndarray:
    """W with W_ij = [i − j + 1]_+, so that a curve is f = W p (float64, ``[n, n]``)."""
    i, j = np.indices((n, n))
    return np.maximum(i - j + 1, 0).astype(np.float64)


def inverse_curve_matrix(n: int) -> np.ndarray:
    """U = W⁻¹ as Lemma 1 writes it: 1 on the diagonal, −2 below it, 1 two below."""
    return np.eye(n) - 2.0 * np.eye(n, k=-1) + np.eye(n, k=-2)


def second_difference(f: np.ndarray) -> np.ndarray:
    """p = W⁻¹ f along the last axis: f convolved with [1, −2, 1], zero padded on the left."""
    padded = np.concatenate([np.zeros((*f.shape[:-1], 2), f.dtype), f], axis=-1)
    return padded[..., 2:] - 2.0 * padded[..., 1:-1] + padded[..., :-2]


def double_cumsum(p: np.ndarray) -> np.ndarray:
    """f = W p along the last axis: Σ_{l≤i} Σ_{j≤l} p_j = Σ_{j≤i} (i − j + 1) p_j."""
    return np.cumsum(np.cumsum(p, axis=-1), axis=-1)


def _distinct_sorted(rng: np.random.Generator, m: int, size: int, k: int) -> np.ndarray:
    """``m`` rows of ``k`` distinct sorted integers drawn uniformly from {0..size−1}."""
    if size < k:
        raise ValueError(f"cannot draw {k} distinct kinks from {size} positions")
    return np.sort(np.argsort(rng.random((m, size)), axis=1)[:, :k], axis=1)


def sample_kinks(
    rng: np.random.Generator, m: int, n: int, k: int, distribution: str
) -> tuple[np.ndarray, np.ndarray]:
    """Kink positions θ ``[m, k]`` (sorted) and slope changes a ``[m, k]`` of ``m`` curves.

    ``code``: the authors' script, θ = 3 + k distinct values of {0..n−7} and a the successive
    differences of one of :data:`SLOPE_PATTERNS` (so slope 0 before the first kink); needs k = 3.
    ``paper``: the paper's text, θ uniform without replacement on {0..n−1}, a i.i.d. U[−1, 1].
    """
    if distribution == "code":
        if k != SLOPE_PATTERNS.shape[1]:
            raise ValueError(f"the script's distribution has 3 kinks, not {k}")
        thetas = CODE_MARGIN + _distinct_sorted(rng, m, n - 2 * CODE_MARGIN, k)
        slopes = SLOPE_PATTERNS[rng.integers(len(SLOPE_PATTERNS), size=m)]
        changes = np.diff(slopes, axis=1, prepend=0.0)
    elif distribution == "paper":
        thetas = _distinct_sorted(rng, m, n, k)
        changes = rng.uniform(-1.0, 1.0, size=(m, k))
    else:
        raise ValueError(f"distribution must be one of {DISTRIBUTIONS}, got {distribution!r}")
    return thetas, changes


def sample_curves(
    rng: np.random.Generator, m: int, n: int, k: int, distribution: str
) -> tuple[np.ndarray, np.ndarray]:
    """``m`` curves: inputs f ``[m, n]`` and targets p ``[m, n]`` (float64), f = W p."""
    thetas, changes = sample_kinks(rng, m, n, k, distribution)
    p = np.zeros((m, n))
    np.put_along_axis(p, thetas, changes, axis=1)
    return double_cumsum(p), p


def curve_pool(
    seed: int, name: str, m: int, n: int, k: int, distribution: str
) -> tuple[np.ndarray, np.ndarray]:
    """The named fixed pool of curves of one seed (``train``, ``validation``): f, p as float32."""
    f, p = sample_curves(numpy_rng(seed, f"curves/{name}"), m, n, k, distribution)
    return f.astype(np.float32), p.astype(np.float32)


def relative_errors(f: np.ndarray, decoded: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """RMS and max of |decoded − f| per curve, as fractions of the curve's range (last axis)."""
    f, decoded = np.asarray(f, np.float64), np.asarray(decoded, np.float64)
    span = f.max(axis=-1) - f.min(axis=-1)
    error = decoded - f
    return np.sqrt(np.mean(error**2, axis=-1)) / span, np.max(np.abs(error), axis=-1) / span


# ---- conditioning --------------------------------------------------------------------------


def conv_rows(f: np.ndarray) -> np.ndarray:
    """The 3-tap convolution's input rows [f_{t+2}, f_{t+1}, f_t], t = 0..n−3: ``[..., n−2, 3]``."""
    return np.stack([f[..., 2:], f[..., 1:-1], f[..., :-2]], axis=-1)


def conv_covariance(f: np.ndarray) -> np.ndarray:
    """C = FᵀF / #rows over every row of every curve (as the script's conditioner uses it)."""
    rows = conv_rows(np.asarray(f, np.float64)).reshape(-1, 3)
    return rows.T @ rows / rows.shape[0]


def whitening_matrix(covariance: np.ndarray) -> np.ndarray:
    """C^{−1/2} by eigendecomposition (symmetric, as in the script)."""
    values, vectors = np.linalg.eigh(covariance)
    return (vectors / np.sqrt(values)) @ vectors.T


def condition_number(symmetric: np.ndarray) -> float:
    """Largest over smallest eigenvalue of a symmetric positive definite matrix."""
    values = np.linalg.eigvalsh(symmetric)
    return float(values[-1] / values[0])


def theorem3(n: int) -> dict[str, float]:
    """Theorem 3's quantities for W of size n, from its singular values S₁₁ ≥ … ≥ S_nn.

    ``steps_bound``: while t + 1 ≤ S₁₁²/(2S_nn²), GD from Û = 0 keeps ‖E Û − W⁻¹‖ ≥ 0.5, so at
    least that many steps are needed (with the largest stable learning rate).
    """
    singular = np.linalg.svd(curve_matrix(n), compute_uv=False)
    s_max, s_min = float(singular[0]), float(singular[-1])
    gram = (s_max / s_min) ** 2
    return {
        "n": n,
        "s_max": s_max,
        "s_min": s_min,
        "cond_w": s_max / s_min,
        "cond_gram": gram,
        "steps_bound": gram / 2.0 - 1.0,
    }


def conditioning_rows(
    dims: Iterable[int], distributions: Iterable[str], seeds: Iterable[int], curves: int, k: int
) -> pd.DataFrame:
    """Condition numbers against n: one row per (quantity, distribution, n, sample seed).

    - ``fc_gram``: cond(WᵀW), the Hessian of the fully connected problem when E[ppᵀ] = λI
      (exact, no sampling: distribution ``exact``, no seed);
    - ``conv_covariance``: cond(C) of the 3-tap rows, C estimated on ``curves`` sampled curves;
    - ``conv_whitened``: cond of the covariance of the rows of ``curves`` fresh curves after
      whitening with C^{−1/2} from the first sample (a held-out check, not 1 by construction).
    """
    rows = []
    dims, seeds, distributions = list(dims), list(seeds), list(distributions)
    for n in dims:
        rows.append(
            {
                "quantity": "fc_gram",
                "distribution": "exact",
                "n": n,
                "sample_seed": None,
                "condition_number": theorem3(n)["cond_gram"],
            }
        )
    for distribution in distributions:
        for n in dims:
            for seed in seeds:
                fit_rng = numpy_rng(seed, f"curves/conditioning/{distribution}/n{n}/fit")
                held_rng = numpy_rng(seed, f"curves/conditioning/{distribution}/n{n}/held-out")
                covariance = conv_covariance(sample_curves(fit_rng, curves, n, k, distribution)[0])
                whiten = whitening_matrix(covariance)
                held = conv_covariance(sample_curves(held_rng, curves, n, k, distribution)[0])
                for quantity, matrix in (
                    ("conv_covariance", covariance),
                    ("conv_whitened", whiten @ held @ whiten),
                ):
                    rows.append(
                        {
                            "quantity": quantity,
                            "distribution": distribution,
                            "n": n,
                            "sample_seed": seed,
                            "condition_number": condition_number(matrix),
                        }
                    )
    return pd.DataFrame(rows)


def loglog_slope(n: np.ndarray, values: np.ndarray) -> tuple[float, float]:
    """Least-squares slope and intercept of log10(values) against log10(n)."""
    slope, intercept = np.polyfit(np.log10(n), np.log10(values), 1)
    return float(slope), float(intercept)


def conditioning_job(
    outputs: Any,
    tf_threads: int,
    dims: list[int],
    distributions: list[str],
    seeds: list[int],
    curves: int,
    n: int,
    kinks: int,
) -> None:
    """Rule ``curves_conditioning``: condition numbers against n (``outputs.conditioning``) and
    Theorem 3 (``outputs.theorem3``) for ``dims`` and the trained ``n``, with the job's
    provenance in ``outputs.meta``.

    Pure numpy, so TensorFlow is never set up (``tf_threads`` goes unused): the exact singular
    values of W, and the 3-tap rows' covariance estimated from ``curves`` sampled curves of
    ``kinks`` kinks (each draw on its own named stream of a sampling seed).
    """
    started = time.perf_counter()
    conditioning = conditioning_rows(dims, distributions, seeds, curves, kinks)
    lengths = sorted({*dims, n})
    theorem = pd.DataFrame([{**theorem3(length), "trained": length == n} for length in lengths])
    print(theorem.to_string(), flush=True)
    meta = {
        "dims": list(dims),
        "distributions": list(distributions),
        "seeds": list(seeds),
        "curves": curves,
        "kinks": kinks,
        "trained_n": n,
        "wall_time_s": round(time.perf_counter() - started, 3),
        "versions": {"python": platform.python_version(), "numpy": np.__version__},
        "cpu": runtime.cpu_model(),
        "git_commit": runtime.git_commit(),
    }
    tables = {outputs.conditioning: conditioning, outputs.theorem3: theorem}
    write_job_outputs(tables, outputs.meta, meta)
