"""Curves (Failures §4): W and its inverse (Lemma 1), the two curve distributions, whitening,
and the condition numbers (Theorem 3, App. A.6)."""

import numpy as np
import pytest

from theorydl.families.curves import theory as ct


@pytest.mark.parametrize("n", [9, 20, 100])
def test_inverse_is_the_one_minus_two_one_filter(n):
    w, u = ct.curve_matrix(n), ct.inverse_curve_matrix(n)
    assert np.array_equal(u @ w, np.eye(n))  # exact: integer matrices
    assert np.allclose(np.linalg.inv(w), u, atol=1e-9)
    # Lemma 1: column i of U holds 1, −2, 1 at rows i, i+1, i+2.
    assert np.array_equal(u[5:8, 5], ct.INVERSE_FILTER)
    f = np.random.default_rng(0).normal(size=(4, n))
    assert np.allclose(ct.second_difference(f), f @ u.T)
    padded = np.concatenate([np.zeros((4, 2)), f], axis=1)
    convolved = np.stack([np.convolve(row, ct.INVERSE_FILTER, mode="valid") for row in padded])
    assert np.allclose(ct.second_difference(f), convolved)


def test_w_is_the_double_cumulative_sum_and_its_entries_are_ramps():
    n = 30
    w = ct.curve_matrix(n)
    assert w[10, 10] == 1 and w[10, 3] == 8 and w[3, 10] == 0 and w[9, 10] == 0
    p = np.random.default_rng(1).normal(size=(5, n))
    assert np.allclose(ct.double_cumsum(p), p @ w.T)


def test_script_distribution_kinks_and_slopes():
    rng = np.random.default_rng(2)
    n = 100
    f, p = ct.sample_curves(rng, 4000, n, 3, "code")
    assert np.allclose(f, p @ ct.curve_matrix(n).T)
    kinks = [np.flatnonzero(row) for row in p]
    assert all(len(k) == 3 for k in kinks)  # three distinct kinks, none cancelled
    flat = np.concatenate(kinks)
    assert flat.min() == 3 and flat.max() == n - 4  # 3..96, and the whole range is used
    assert np.all(p[:, :3] == 0) and np.all(p[:, -3:] == 0)  # p_0 = p_1 = 0 for the padding
    slopes = np.cumsum(p[np.nonzero(p)].reshape(-1, 3), axis=1)
    patterns, counts = np.unique(slopes, axis=0, return_counts=True)
    assert {tuple(row) for row in patterns} == {tuple(row) for row in ct.SLOPE_PATTERNS}
    assert counts.min() > 850  # each of the 4 patterns ~1000 times
    first = np.array([k[0] for k in kinks])
    # f is 0 up to x = θ₁ − 1 (W_ij = [i − j + 1]_+ is 0 at i = j − 1), then it rises or falls.
    assert all(np.all(row[:k] == 0) and row[k] != 0 for row, k in zip(f, first, strict=True))
    # The slope of f after its last kink is the pattern's last slope.
    assert np.allclose(f[:, -1] - f[:, -2], slopes[:, -1])


def test_paper_distribution_kinks_and_slope_changes():
    rng = np.random.default_rng(3)
    _, p = ct.sample_curves(rng, 4000, 50, 3, "paper")
    thetas, changes = np.nonzero(p)[1].reshape(-1, 3), p[np.nonzero(p)].reshape(-1, 3)
    assert thetas.min() == 0 and thetas.max() == 49
    assert np.all(np.diff(thetas, axis=1) > 0)
    assert np.all(np.abs(changes) <= 1) and abs(changes.mean()) < 0.03
    assert np.std(changes) == pytest.approx(1 / np.sqrt(3), rel=0.05)  # U[−1, 1]
    counts = np.bincount(thetas.ravel(), minlength=50)
    assert counts.min() > 160 and counts.max() < 330  # 240 per position on average


def test_pools_are_fixed_per_seed_and_stream():
    a = ct.curve_pool(0, "train", 50, 100, 3, "code")
    assert np.array_equal(a[0], ct.curve_pool(0, "train", 50, 100, 3, "code")[0])
    assert not np.array_equal(a[0], ct.curve_pool(1, "train", 50, 100, 3, "code")[0])
    assert not np.array_equal(a[0], ct.curve_pool(0, "validation", 50, 100, 3, "code")[0])
    assert a[0].dtype == np.float32


def test_code_distribution_needs_three_kinks():
    with pytest.raises(ValueError, match="3 kinks"):
        ct.sample_curves(np.random.default_rng(0), 5, 100, 4, "code")


def test_whitened_rows_have_identity_covariance():
    f, _ = ct.sample_curves(np.random.default_rng(4), 2000, 100, 3, "code")
    covariance = ct.conv_covariance(f)
    rows = ct.conv_rows(f).reshape(-1, 3)
    assert np.allclose(covariance, rows.T @ rows / len(rows))
    whiten = ct.whitening_matrix(covariance)
    assert np.allclose(whiten, whiten.T)
    white = rows @ whiten
    assert np.allclose(white.T @ white / len(white), np.eye(3), atol=1e-9)
    assert ct.condition_number(covariance) > 1e4  # 0.14·n³ at n = 100


def test_relative_errors():
    f = np.array([[0.0, 1.0, 2.0, 4.0]])
    rms, largest = ct.relative_errors(f, f + np.array([[0.0, 0.0, 0.0, 0.4]]))
    assert rms[0] == pytest.approx(0.2 / 4) and largest[0] == pytest.approx(0.1)


def test_theorem3_numbers():
    # cond(W) ≈ 11 600 and cond(WᵀW) ≈ 1.35e8 at n = 100; S_nn tends to 1/4.
    result = ct.theorem3(100)
    assert result["cond_w"] == pytest.approx(11_601.7, rel=1e-4)
    assert result["cond_gram"] == pytest.approx(1.346e8, rel=1e-3)
    assert result["s_min"] == pytest.approx(0.25, abs=1e-3)
    assert result["steps_bound"] == pytest.approx(result["cond_gram"] / 2 - 1)
    assert ct.theorem3(10)["cond_gram"] == pytest.approx(1.79e4, rel=1e-2)


def test_condition_numbers_grow_like_n4_n3_and_1():
    table = ct.conditioning_rows([20, 40, 80, 160], ["paper"], [0], curves=1000, k=3)
    slopes = {
        q: ct.loglog_slope(g.n.to_numpy(), g.condition_number.to_numpy())[0]
        for q, g in table.groupby("quantity")
    }
    assert slopes["fc_gram"] == pytest.approx(4, abs=0.15)
    assert slopes["conv_covariance"] == pytest.approx(3, abs=0.3)
    assert abs(slopes["conv_whitened"]) < 0.1
    whitened = table[table.quantity == "conv_whitened"].condition_number
    assert whitened.between(1, 1.3).all()  # held-out curves, so not exactly 1


def test_loglog_slope_of_a_power_law():
    n = np.array([10, 20, 40, 80])
    assert ct.loglog_slope(n, 3 * n**2.5) == pytest.approx((2.5, np.log10(3)))
