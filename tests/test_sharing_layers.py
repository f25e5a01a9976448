"""The weight-sharing family's hidden layers: shared = a 1-D convolution, local = a loop over
patches, dense = a matrix product over the flattened input; and the filters' alignment."""

import numpy as np
import pytest


@pytest.fixture(scope="module")
def sharing(tf):
    from theorydl.families.sharing import model as sharing

    return sharing


@pytest.fixture(scope="module")
def batch():
    rng = np.random.default_rng(0)
    return rng.normal(size=(3, 7, 5, 4)).astype(np.float32)  # [S, n, k, d]


def test_local_layer_matches_an_explicit_loop(sharing, tf, batch):
    s, n, k, d = batch.shape
    w = np.random.default_rng(1).normal(size=(s, k, d)).astype(np.float32)
    expected = np.zeros((s, n, k), np.float32)
    for seed in range(s):
        for example in range(n):
            for patch in range(k):
                expected[seed, example, patch] = batch[seed, example, patch] @ w[seed, patch]
    got = sharing.local_layer(tf.constant(batch), tf.constant(w)).numpy()
    assert got.shape == (s, n, k)
    assert np.allclose(got, expected, atol=1e-5)
    assert np.allclose(got, np.einsum("snkd,skd->snk", batch, w), atol=1e-5)


def test_shared_layer_is_a_stride_d_convolution(sharing, tf, batch):
    s, n, k, d = batch.shape
    w = np.random.default_rng(2).normal(size=(s, d)).astype(np.float32)
    got = sharing.shared_layer(tf.constant(batch), tf.constant(w)).numpy()
    for seed in range(s):
        signal = tf.constant(batch[seed].reshape(n, k * d, 1))  # one channel, length k·d
        kernel = tf.constant(w[seed].reshape(d, 1, 1))  # width d, one filter
        conv = tf.nn.conv1d(signal, kernel, stride=d, padding="VALID").numpy()[..., 0]
        assert conv.shape == (n, k)
        assert np.allclose(got[seed], conv, atol=1e-5)


def test_shared_layer_is_a_local_layer_with_equal_filters(sharing, tf, batch):
    s, _, k, d = batch.shape
    w = np.random.default_rng(3).normal(size=(s, d)).astype(np.float32)
    tiled = np.repeat(w[:, None, :], k, axis=1)
    shared = sharing.shared_layer(tf.constant(batch), tf.constant(w)).numpy()
    local = sharing.local_layer(tf.constant(batch), tf.constant(tiled)).numpy()
    assert np.allclose(shared, local, atol=1e-5)


def test_dense_layer_is_a_matrix_product_over_the_flat_input(sharing, tf, batch):
    s, n, k, d = batch.shape
    w = np.random.default_rng(4).normal(size=(s, k, k * d)).astype(np.float32)
    got = sharing.dense_layer(tf.constant(batch), tf.constant(w)).numpy()
    for seed in range(s):
        assert np.allclose(got[seed], batch[seed].reshape(n, -1) @ w[seed].T, atol=1e-4)


@pytest.mark.parametrize("architecture", ["shared", "local", "dense"])
def test_alignment_is_one_for_the_teachers_weights_and_small_at_init(sharing, tf, architecture):
    cfg = sharing.SharingConfig(
        architecture=architecture, target="low", train_examples=100, eval_examples=10
    )
    net = sharing.SharingEnsemble(cfg, seeds=[0, 1])
    u0 = net.u0.numpy()
    k, d = cfg.k, cfg.d
    at_init = net.alignment().numpy()
    assert at_init.shape == (2, k)
    assert np.all(at_init < 0.9)
    if architecture == "shared":
        net.w.assign(-3.0 * u0)  # the sign is a symmetry, the length irrelevant
    elif architecture == "local":
        net.w.assign(np.repeat(u0[:, None, :], k, axis=1))
    else:
        ideal = np.zeros((2, k, k, d), np.float32)
        for i in range(k):
            ideal[:, i, i, :] = u0
        net.w.assign(ideal.reshape(2, k, k * d))
    assert np.allclose(net.alignment().numpy(), 1.0, atol=1e-5)
