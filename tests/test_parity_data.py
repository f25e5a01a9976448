"""The parity task: inputs, labels, subsets, and their streams."""

import numpy as np
import pytest


@pytest.fixture(scope="module")
def parity(tf):
    from theorydl.families.parity import model as parity

    return parity


def test_labels_are_the_parity_of_the_subset(parity, tf):
    rng = np.random.default_rng(0)
    x = rng.choice([-1.0, 1.0], size=(256, 12)).astype(np.float32)
    mask = rng.random(12) < 0.5
    expected = np.where(np.sum((x < 0) & mask, axis=1) % 2 == 0, 1.0, -1.0)
    assert np.array_equal(parity.parity_labels(tf.constant(x), tf.constant(mask)).numpy(), expected)


def test_empty_subset_is_the_constant_target(parity, tf):
    x = tf.constant(np.random.default_rng(1).choice([-1.0, 1.0], size=(10, 5)).astype(np.float32))
    assert np.all(parity.parity_labels(x, tf.zeros(5, tf.bool)).numpy() == 1.0)


def test_inputs_are_uniform_signs_and_depend_only_on_the_key(parity, tf):
    key = tf.constant([3, 4], tf.int64)
    x = parity.sample_inputs(key, 4000, 10).numpy()
    assert set(np.unique(x)) == {-1.0, 1.0}
    assert abs(x.mean()) < 0.02  # 40 000 fair signs: sd of the mean 0.005
    assert np.array_equal(x, parity.sample_inputs(key, 4000, 10).numpy())
    assert not np.array_equal(
        x, parity.sample_inputs(tf.constant([3, 5], tf.int64), 4000, 10).numpy()
    )


def test_subset_is_a_prefix_with_binomial_size_fixed_per_seed(parity):
    cfg = parity.ParityConfig(d=20)
    sizes = []
    for seed in range(400):
        mask = parity.subset_mask(cfg, seed)
        size = int(mask.sum())
        assert np.array_equal(mask, np.arange(20) < size)  # the first |S| coordinates
        assert np.array_equal(mask, parity.subset_mask(cfg, seed))
        sizes.append(size)
    # Binomial(20, 1/2): mean 10, sd 2.24; 400 draws put the sample mean within ±0.5 easily.
    assert abs(np.mean(sizes) - 10) < 0.5
    assert 1.5 < np.std(sizes) < 3.0


def test_configured_subset_size_is_used(parity):
    cfg = parity.ParityConfig(d=8, subset_size=3)
    assert all(parity.subset_mask(cfg, seed).sum() == 3 for seed in range(10))


def test_subset_larger_than_d_is_rejected(parity):
    with pytest.raises(ValueError, match="subset_size must lie in"):
        parity.ParityConfig(d=4, subset_size=5)


def test_ensemble_members_see_their_own_data(parity, tf):
    net = parity.ParityEnsemble(parity.ParityConfig(d=6, batch_size=16), seeds=[0, 1])
    x, y = net._batch(net.train_keys, tf.constant(5, tf.int64), 16)
    assert x.shape == (2, 16, 6) and y.shape == (2, 16)
    assert not np.array_equal(x[0].numpy(), x[1].numpy())
    alone = parity.ParityEnsemble(parity.ParityConfig(d=6, batch_size=16), seeds=[1])
    x1, _ = alone._batch(alone.train_keys, tf.constant(5, tf.int64), 16)
    assert np.array_equal(x[1].numpy(), x1[0].numpy())
    assert np.array_equal(net.w1.numpy()[1], alone.w1.numpy()[0])
