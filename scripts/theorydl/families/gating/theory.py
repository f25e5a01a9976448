"""GaLU solved exactly, and hill climbing over its gates: computations that train nothing.

With its gates fixed, a one-hidden-layer GaLU network without biases or readout,
f(x) = Σ_i ⟨w_i, x⟩·1[⟨f_i, x⟩ > 0], is linear in its k·d weights: training it is least squares
on the feature matrix Φ = [x ⊙ gate_i(x)]_i (``data.features``). The authors solve it with a
pseudo-inverse (rcond 1e-5); every seed of a cell is solved in one batched call.

Hill climbing (the authors' Fig 2): redraw the gate vector of one random unit, keep it if the
training squared error did not increase. Each proposal is scored by an update, not a new solve:
with G⁻¹ = (ΦᵀΦ)⁻¹ kept, removing unit i's block from the fit costs a Schur complement, and the
best fit with a new block B adds ``qᵀ S⁻¹ q`` of explained energy (q = Bᵀr for the residual r
without the block, S = B̃ᵀB̃ for B̃ the part of B outside the other blocks' span): O(m·p·d + p²·d)
per proposal instead of O(m·p² + p³) for p = k·d. Only an accepted proposal pays for a new G⁻¹.

numpy's BLAS is held to the job's thread count: with its default (every core) on a loaded
machine, the small batched inversions ran 6 times slower.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from theorydl import runtime
from theorydl.families.gating.data import data, features, gate_vectors, gates
from theorydl.families.gating.spec import GatingConfig
from theorydl.runs import write_job_outputs

RCOND = 1e-5  # the authors' pseudo-inverse cut-off (relative to the largest singular value)


def exact_weights(phi: np.ndarray, y: np.ndarray, rcond: float = RCOND) -> np.ndarray:
    """Least-squares weights ``[R, p]`` for feature matrices ``[R, m, p]`` and labels ``[R, m]``,
    by the pseudo-inverse with the authors' cut-off, every replica in one call."""
    return _apply(np.linalg.pinv(phi, rcond=rcond), y)


def mse(phi: np.ndarray, w: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Mean squared error ``[R]`` of the linear fit ``phi @ w`` to ``y``."""
    return np.mean((_apply(phi, w) - y) ** 2, axis=-1)


@dataclass
class Climb:
    """The state of hill climbing for R replicas (float64): gate vectors ``f [R, k, d]``,
    features ``phi [R, m, p]``, weights ``w [R, p]``, inverse Gram ``h [R, p, p]``, residual
    ``r [R, m]``, and the training squared error after every step (``history [steps + 1, R]``)."""

    f: np.ndarray
    phi: np.ndarray
    w: np.ndarray
    h: np.ndarray
    r: np.ndarray
    history: list[np.ndarray]
    accepted: np.ndarray


def start_climb(x: np.ndarray, y: np.ndarray, f: np.ndarray) -> Climb:
    """Hill climbing's starting point: the exact fit with the gates ``f``."""
    phi = features_batched(x, f)
    p = phi.shape[-1]
    state = Climb(
        f,
        phi,
        np.zeros((len(x), p)),
        np.zeros((len(x), p, p)),
        np.zeros_like(y),
        [],
        np.zeros(len(x), int),
    )
    refit(state, y, np.ones(len(x), bool))
    state.history.append(np.sum(state.r**2, axis=-1))
    return state


def features_batched(x: np.ndarray, f: np.ndarray) -> np.ndarray:
    """The feature matrices of every replica: ``x [R, m, d]``, ``f [R, k, d]`` → ``[R, m, k·d]``."""
    return features(x, gates(x, f))


def climb_step(state: Climb, x: np.ndarray, y: np.ndarray, unit: int, proposal: np.ndarray) -> None:
    """One step for every replica: unit ``unit``'s gate vector becomes ``proposal [R, d]`` where
    that does not increase the training squared error; ``state`` is updated in place."""
    d = state.f.shape[2]
    block = slice(unit * d, (unit + 1) * d)
    h, phi, w = state.h, state.phi, state.w
    # The other blocks' inverse Gram is K = H_rr − H_rc H_cc⁻¹ H_cr (a Schur complement), used
    # only through products with vectors that are zero on the block: no [p − d]² copy of H.
    h_c = h[:, :, block]  # [R, p, d]: H_rc, with H_cc in the block's rows
    h_cc_inv = np.linalg.inv(h_c[:, block])
    # Without the block, the other blocks refitted: w − H_·c H_cc⁻¹ w_c (zero on the block).
    w_rest = w - _apply(h_c @ h_cc_inv, w[:, block])
    w_rest[:, block] = 0.0
    r_rest = y - _apply(phi, w_rest)
    # The proposed block B, and g = Φᵀ B with the block's rows zeroed (the other blocks' Aᵀ B).
    b = features_batched(x, proposal[:, None, :])
    b_t = np.swapaxes(b, 1, 2)
    g = np.swapaxes(phi, 1, 2) @ b
    g[:, block] = 0.0
    z = h @ g  # its rows outside the block are H_rr AᵀB, inside H_cr AᵀB
    z_c = z[:, block]
    # S = BᵀB − (AᵀB)ᵀ K (AᵀB): what B adds outside the other blocks' span.
    s = b_t @ b - np.swapaxes(g, 1, 2) @ z + np.swapaxes(z_c, 1, 2) @ h_cc_inv @ z_c
    q = _apply(b_t, r_rest)
    # A block (numerically) inside the others' span, e.g. a gate pattern that repeats another
    # unit's on these points, would make the normal equations singular: such a proposal is
    # rejected (it cannot explain more than the block it replaces).
    independent = np.linalg.eigvalsh(s)[:, 0] > 1e-10 * np.linalg.eigvalsh(b_t @ b)[:, -1]
    s = np.where(independent[:, None, None], s, np.eye(d))
    w_b = np.linalg.solve(s, q[..., None])[..., 0]
    proposed = np.sum(r_rest**2, axis=-1) - np.sum(q * w_b, axis=-1)
    keep = independent & (proposed <= np.sum(state.r**2, axis=-1))
    if keep.any():
        # An accepted proposal refreshes the inverse Gram from scratch: updating it by blocks
        # (Woodbury) is unstable, its error grew about 100-fold per accepted step in a test.
        state.f[keep, unit] = proposal[keep]
        state.phi[np.flatnonzero(keep), :, block] = b[keep]
        refit(state, y, keep)
    state.history.append(np.sum(state.r**2, axis=-1))
    state.accepted += keep


def refit(state: Climb, y: np.ndarray, which: np.ndarray) -> None:
    """The exact fit of the replicas ``which`` from their current features."""
    phi = state.phi[which]
    # By the SVD, with the pseudo-inverse's cut-off: the same fit as exact_weights, and the
    # inverse Gram restricted to the directions it keeps (the normal equations' own inverse
    # loses the fit where two units' gates nearly coincide on the points).
    u, singular, vt = np.linalg.svd(phi, full_matrices=False)
    inverse = np.where(singular > RCOND * singular[:, :1], 1 / singular, 0.0)
    v = np.swapaxes(vt, 1, 2)
    state.h[which] = (v * inverse[:, None, :] ** 2) @ vt
    state.w[which] = _apply(v, inverse * _apply(np.swapaxes(u, 1, 2), y[which]))
    state.r[which] = y[which] - _apply(phi, state.w[which])


def _apply(matrices: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """Each matrix ``[R, a, b]`` times its vector ``[R, b]`` (batched BLAS, unlike einsum)."""
    return (matrices @ vectors[..., None])[..., 0]


def hill_climb(
    x: np.ndarray, y: np.ndarray, f: np.ndarray, steps: int, rng: np.random.Generator
) -> Climb:
    """``steps`` steps of hill climbing from the gates ``f`` for every replica (``x [R, m, d]``,
    ``y [R, m]``); each step redraws one random unit's gate vector (the same unit in every
    replica, a fresh N(0, I_d) vector in each)."""
    state = start_climb(x, y, f.copy())
    k, d = f.shape[1:]
    for _ in range(steps):
        unit = int(rng.integers(k))
        climb_step(state, x, y, unit, rng.standard_normal((len(x), d)))
    return state


# --------------------------------------------------------------------------------------------
# Jobs.


def _cell_arrays(cfg: GatingConfig, seeds: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    draws = [data(s, cfg) for s in seeds]
    x = np.stack([dr.x_train for dr in draws])
    y = np.stack([dr.y_train for dr in draws])
    f = np.stack([gate_vectors(s, cfg) for s in seeds])
    return x, y, f


def memorise_job(
    outputs: Any,
    tf_threads: int,
    cells: list[list[int]],
    seeds: list[int],
    hill_climbing_steps: int,
) -> None:
    """Rule ``gating_exact_memorise``: for every (m, d, k) cell and seed, the training MSE of
    exact GaLU with random gates and after hill climbing, to ``outputs.csv``."""
    tf_module = runtime.setup_tensorflow(tf_threads)
    threadpool_limits(tf_threads)
    started = time.perf_counter()
    rows = []
    for m, d, k in cells:
        # Nothing trains here: only the cell decides the draws (a batch of 1 fits any m).
        cfg = GatingConfig(experiment="memorise", m=m, d=d, k=k, batch_size=1)
        x, y, f = _cell_arrays(cfg, seeds)
        phi = features_batched(x, f)
        exact = mse(phi, exact_weights(phi, y), y)
        if k * d < m:
            rng = runtime.numpy_rng(seeds[0], f"gating/hill-climbing/m{m}-d{d}-k{k}")
            state = hill_climb(x, y, f, hill_climbing_steps, rng)
            # The climbed gates' loss from a fresh solve, not the running update.
            climbed_phi = features_batched(x, state.f)
            climbed = mse(climbed_phi, exact_weights(climbed_phi, y), y)
            accepted = state.accepted
        else:  # k·d = m: the exact fit is already (numerically) perfect; nothing to climb
            climbed, accepted = exact, np.zeros(len(seeds), int)
        for i, seed in enumerate(seeds):
            base = {"m": m, "d": d, "k": k, "seed": seed}
            rows.append({"learner": "exact", **base, "steps": 0, "train_mse": exact[i]})
            rows.append(
                {
                    "learner": "hill_climbing",
                    **base,
                    "steps": hill_climbing_steps,
                    "train_mse": climbed[i],
                    "accepted": int(accepted[i]),
                }
            )
        print(f"m={m} d={d} k={k}: exact {exact.mean():.3f}, hill climbing {climbed.mean():.3f}")
    meta = {
        "cells": [list(c) for c in cells],
        "seeds": list(seeds),
        "hill_climbing_steps": hill_climbing_steps,
        "rcond": RCOND,
        "wall_time_s": round(time.perf_counter() - started, 3),
        **runtime.provenance(tf_module, tf_threads),
    }
    write_job_outputs({outputs.csv: pd.DataFrame(rows)}, outputs.meta, meta)


def noise_job(
    outputs: Any, tf_threads: int, setting: dict[str, Any], noises: list[float], seeds: list[int]
) -> None:
    """Rule ``gating_exact_noise``: exact GaLU on the regression task of the label-noise
    experiment for every σ_y and seed: train and test MSE and the weights' norms (Fig 4), to
    ``outputs.csv``. A seed's points and gates are the same for every σ_y, so its
    pseudo-inverse is computed once."""
    tf_module = runtime.setup_tensorflow(tf_threads)
    threadpool_limits(tf_threads)
    started = time.perf_counter()
    rows = []
    for seed in seeds:
        base = GatingConfig(experiment="noise", task="regression", batch_size=1, **setting)
        f = gate_vectors(seed, base)
        clean = data(seed, base)
        phi_train = features(clean.x_train, gates(clean.x_train, f))
        phi_test = features(clean.x_test, gates(clean.x_test, f))
        pinv = np.linalg.pinv(phi_train, rcond=RCOND)
        for noise in noises:
            cfg = replace(base, noise=noise)
            labelled = data(seed, cfg)
            w = pinv @ labelled.y_train
            rows.append(
                {
                    "task": "regression",
                    "learner": "exact",
                    "noise": noise,
                    "seed": seed,
                    "train_loss": np.mean((phi_train @ w - labelled.y_train) ** 2),
                    "test_loss": np.mean((phi_test @ w - labelled.y_test) ** 2),
                    "sum_w2": np.sum(w**2),
                    "sum_abs_w_squared": np.sum(np.abs(w)) ** 2,
                }
            )
        print(f"seed {seed}: exact GaLU solved for {len(noises)} noise levels")
    meta = {
        "setting": setting,
        "noises": list(noises),
        "seeds": list(seeds),
        "rcond": RCOND,
        "wall_time_s": round(time.perf_counter() - started, 3),
        **runtime.provenance(tf_module, tf_threads),
    }
    write_job_outputs({outputs.csv: pd.DataFrame(rows)}, outputs.meta, meta)
