"""Lemma 3 (parities are realizable) and Theorem 1 (gradient variance across targets)."""

import numpy as np
import pytest


@pytest.fixture(scope="module")
def theory(tf):
    from theorydl.families.parity import theory as parity_theory

    return parity_theory


@pytest.mark.parametrize("d", [1, 2, 5, 8, 11])
def test_lemma3_network_computes_every_parity_exactly(theory, d):
    x = theory.all_inputs(d).astype(np.float64)
    masks, labels = theory.characters(d)
    for mask, y in zip(masks, labels, strict=True):
        w1, b1, w2, b2 = theory.lemma3_weights(mask)
        out = np.maximum(x @ w1 + b1, 0.0) @ w2 + b2
        assert np.array_equal(np.sign(out), y)  # 100% accuracy
        assert np.allclose(out, y)  # and in fact exactly ±1
        assert w1.shape[1] <= 3 * d / 2 + 3


def test_lemma3_network_fits_in_the_trained_architecture(theory, tf):
    """Loaded into the d → 10d → 1 ensemble the parity runs train, the construction is exact."""
    from theorydl.families.parity.model import ParityConfig, ParityEnsemble

    d = 9
    net = ParityEnsemble(ParityConfig(d=d), seeds=[0])
    mask = np.array([1, 1, 0, 1, 0, 1, 1, 0, 1], dtype=bool)
    w1, b1, w2, b2 = theory.lemma3_weights(mask)
    width = w1.shape[1]
    net.w1.assign(np.pad(w1, ((0, 0), (0, 10 * d - width)))[None].astype(np.float32))
    net.b1.assign(np.pad(b1, (0, 10 * d - width))[None, None].astype(np.float32))
    net.w2.assign(np.pad(w2, (0, 10 * d - width))[None, :, None].astype(np.float32))
    net.b2.assign(np.full((1, 1, 1), b2, np.float32))
    x = theory.all_inputs(d)
    scores = net.scores(tf.constant(x[None]))[0].numpy()
    y = np.prod(np.where(mask, x, 1.0), axis=1)
    assert np.mean(np.sign(scores) == y) == 1.0


def test_characters_are_orthonormal(theory):
    _, h = theory.characters(6)
    gram = h @ h.T / h.shape[1]
    assert np.allclose(gram, np.eye(64))


@pytest.mark.parametrize(("d", "seed"), [(3, 0), (5, 1), (8, 2)])
def test_closed_form_variance_equals_brute_force(theory, d, seed):
    closed = theory.gradient_variance(d, seed).variance
    brute = theory.gradient_variance_by_enumeration(d, seed)
    assert closed == pytest.approx(brute, rel=1e-9)


def test_variance_obeys_the_bound_and_halves_per_bit(theory):
    results = [theory.gradient_variance(d, seed=0) for d in range(4, 12)]
    assert all(r.variance <= r.bound for r in results)
    relative = np.log2([r.variance / r.g_squared for r in results])
    slope = np.polyfit(np.arange(4, 12), relative, 1)[0]
    assert slope == pytest.approx(-1.0, abs=0.1)


def test_per_example_gradients_match_autodiff(theory, tf):
    from theorydl.families.parity.model import ParityConfig, ParityEnsemble

    net = ParityEnsemble(ParityConfig(d=4), seeds=[3])
    x = theory.all_inputs(4)
    _, g = theory.per_example_gradients(net, x)
    with tf.GradientTape() as tape:
        out = net.scores(tf.constant(x[None, 5:6]))[0, 0]
    grads = tape.gradient(out, list(net.params))
    flat = np.concatenate([gr.numpy().ravel() for gr in grads])
    assert np.allclose(g[5], flat, atol=1e-6)
