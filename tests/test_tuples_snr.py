"""The gradient-SNR estimator: known answers, the closed-form per-tuple gradients, the floor."""

import numpy as np
import pytest


@pytest.fixture(scope="module")
def snr(tf):
    from theorydl.families.tuples import theory

    return theory


def moments_of(snr, grads, batch_size=1):
    moments = snr.GradientMoments(grads.shape[1])
    moments.add(grads, batch_size)
    return moments.statistics(batch_size)


def test_statistics_on_a_hand_computed_case(snr):
    # mean (0.2, 0): signal 0.04; second moment 0.05, so noise 0.01 and SNR 4. The script's
    # formula with batches of one: M = 0.05, noise M − S² = 0.0484.
    stats = moments_of(snr, np.array([[0.1, 0.0], [0.3, 0.0]]))
    assert stats["signal"] == pytest.approx(0.04)
    assert stats["noise"] == pytest.approx(0.01)
    assert stats["snr"] == pytest.approx(4.0)
    assert stats["snr_script"] == pytest.approx(0.04 / 0.0484)


def test_script_formula_uses_batch_means(snr):
    grads = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 2.0], [1.0, 1.0]])
    stats = moments_of(snr, grads, batch_size=2)
    batch_means = np.array([[0.5, 0.5], [1.5, 1.5]])
    second = 2 * np.mean(np.sum(batch_means**2, axis=1))  # M = B·mean_b‖g_b‖²
    signal = 1.0**2 + 1.0**2
    assert stats["signal"] == pytest.approx(signal)
    assert stats["snr_script"] == pytest.approx(signal / (second - signal**2))


def test_adding_in_pieces_equals_adding_at_once(snr):
    grads = np.random.default_rng(0).normal(size=(600, 4))
    whole = moments_of(snr, grads, 100)
    pieces = snr.GradientMoments(4)
    for part in np.split(grads, [250, 400]):  # 250 = 2 whole batches + 50 for the sums only
        pieces.add(part, 100)
    assert pieces.count == 600
    assert pieces.statistics(100)["snr"] == pytest.approx(whole["snr"])


def test_gaussian_gradients_give_their_snr(snr):
    # g ~ N(μ, I) in 10 dimensions, ‖μ‖² = 0.025: SNR 0.0025 (plus the floor 1/n = 5e-6).
    rng = np.random.default_rng(1)
    mu = np.full(10, 0.05)
    grads = mu + rng.normal(size=(200_000, 10))
    stats = moments_of(snr, grads, 100)
    assert stats["noise"] == pytest.approx(10.0, rel=0.01)
    assert stats["snr"] == pytest.approx(0.0025 + 1 / 200_000, rel=0.1)


def test_without_signal_the_estimate_averages_one_over_n(snr):
    # The floor the report draws: with E g = 0 the plug-in SNR of n samples averages 1/n.
    rng = np.random.default_rng(2)
    values = [moments_of(snr, rng.normal(size=(1000, 5)))["snr"] for _ in range(400)]
    assert np.mean(values) == pytest.approx(1e-3, rel=0.1)


@pytest.mark.parametrize("dec_loss", ["first", "all"])
def test_per_tuple_gradients_equal_autodiff(snr, tf, dec_loss):
    from theorydl.families.tuples.model import (
        ImageScorer,
        ParityHead,
        hinge,
        sample_tuples,
        tuple_labels,
    )

    k, n = 3, 5
    scorer, head = ImageScorer([4]), ParityHead(k, [4])
    images, per_image, labels = sample_tuples(tf.constant([1, 1], tf.int64), n, k)
    features = tf.reshape(scorer.features(tf.reshape(images, [1, n * k, 28, 28]))[0], [n, k, -1])
    grads = snr.tuple_gradients(features, per_image, scorer, head, "authors", dec_loss)
    assert np.array_equal(labels.numpy(), tuple_labels(per_image, "authors").numpy())
    for i in range(n):
        with tf.GradientTape(persistent=True) as tape:
            scores = scorer.scores(features[i][None])  # [1, k]
            e2e = hinge(labels[i], head(scores[None])[0, 0])
            if dec_loss == "first":
                dec = hinge(per_image[i, 0], scores[0, 0])
            else:
                dec = tf.reduce_mean(hinge(per_image[i], scores[0]))
        for name, loss in (("e2e", e2e), ("dec", dec)):
            expected = tape.gradient(loss, scorer.score).numpy().ravel()
            assert np.allclose(grads[name].numpy()[i], expected, atol=1e-6), (name, i)


def test_measure_reports_every_k_and_method(snr):
    cfg = snr.SnrConfig(images=2 * snr.CHUNK_IMAGES, batch_size=100)
    rows = snr.measure(cfg, 0, [1, 2, 4], log=lambda line: None)
    assert [(r["k"], r["method"]) for r in rows] == [
        (k, m) for k in (1, 2, 4) for m in ("e2e", "dec")
    ]
    counts = {r["k"]: r["tuples"] for r in rows}
    assert counts == {1: 4800, 2: 2400, 4: 1200}
    for row in rows:
        assert row["init_seed"] == 0
        assert 0 < row["snr"] < 1 and row["noise"] > 0
    dec = [r for r in rows if r["method"] == "dec"]
    for row in dec:  # the script's formula differs from the definition by little for Dec
        assert row["snr_script"] == pytest.approx(row["snr"], rel=0.3)
