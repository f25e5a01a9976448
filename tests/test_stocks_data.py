"""The stocks task's data: right stocks y(x), returns z, inputs, and their streams."""

import numpy as np
import pytest


@pytest.fixture(scope="module")
def stocks(tf):
    from theorydl.families.stocks import model as stocks

    return stocks


def test_returns_are_one_at_the_right_stock_and_fair_signs_elsewhere(stocks, tf):
    k, n = 37, 4000  # k not a multiple of 32: the last word of random bits is cut
    y = tf.constant(np.random.default_rng(0).integers(0, k, n), tf.int32)
    z = stocks.sample_returns(tf.constant([5, 6], tf.int64), y, k).numpy()
    assert z.shape == (n, k) and z.dtype == np.float32
    assert set(np.unique(z)) == {-1.0, 1.0}
    assert np.all(z[np.arange(n), y.numpy()] == 1.0)
    others = np.ones_like(z, dtype=bool)
    others[np.arange(n), y.numpy()] = False
    signs = z[others]
    assert abs(signs.mean()) < 0.01  # 144 000 fair signs: sd of the mean 0.0026
    # Every bit position of a random word is fair, and neighbouring stocks are uncorrelated.
    per_stock = np.where(others, z, np.nan)
    assert np.all(np.abs(np.nanmean(per_stock, axis=0)) < 0.08)  # sd 0.016 per stock
    pairs = z[:, :-1] * z[:, 1:]
    assert abs(pairs[others[:, :-1] & others[:, 1:]].mean()) < 0.01


def test_returns_depend_only_on_the_key(stocks, tf):
    y = tf.zeros([50], tf.int32)
    a = stocks.sample_returns(tf.constant([1, 2], tf.int64), y, 64).numpy()
    b = stocks.sample_returns(tf.constant([1, 2], tf.int64), y, 64).numpy()
    c = stocks.sample_returns(tf.constant([1, 3], tf.int64), y, 64).numpy()
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_right_stocks_are_uniform_and_fixed_per_seed(stocks):
    y = stocks.right_stocks(10_000, 10, seed=3)
    assert y.dtype == np.int32 and y.min() == 0 and y.max() == 9
    counts = np.bincount(y, minlength=10)
    assert np.all(np.abs(counts - 1000) < 150)  # binomial sd 30
    assert np.array_equal(y, stocks.right_stocks(10_000, 10, seed=3))
    assert not np.array_equal(y, stocks.right_stocks(10_000, 10, seed=4))


def test_inputs_are_uniform_indices(stocks, tf):
    x = stocks.sample_inputs(tf.constant([7, 7], tf.int64), 20_000, 50).numpy()
    assert x.min() == 0 and x.max() == 49
    assert np.all(np.abs(np.bincount(x, minlength=50) - 400) < 100)  # binomial sd 20


def test_batch_returns_belong_to_the_inputs_right_stocks(stocks, tf):
    net = stocks.StocksEnsemble(stocks.StocksConfig(d=30, k=12), seeds=[0, 1])
    x, y, z = net._batch(net.train_keys, tf.constant(4, tf.int64), 64)
    assert x.shape == (2, 64) and y.shape == (2, 64) and z.shape == (2, 64, 12)
    targets = net.targets.numpy()
    for s in range(2):
        assert np.array_equal(y[s].numpy(), targets[s][x[s].numpy()])
        assert np.all(z[s].numpy()[np.arange(64), y[s].numpy()] == 1.0)
    assert not np.array_equal(x[0].numpy(), x[1].numpy())  # each seed has its own stream


def test_both_methods_of_a_seed_share_targets_weights_and_inputs(stocks, tf):
    e2e = stocks.StocksEnsemble(stocks.StocksConfig(method="e2e", d=40, k=8), seeds=[2])
    dec = stocks.StocksEnsemble(stocks.StocksConfig(method="dec", d=40, k=8), seeds=[2])
    assert np.array_equal(e2e.targets.numpy(), dec.targets.numpy())
    assert np.array_equal(e2e.w.numpy(), dec.w.numpy())
    step = tf.constant(9, tf.int64)
    x_e2e, _, _ = e2e._batch(e2e.train_keys, step, 32)
    x_dec, _, none = dec._batch(dec.train_keys, step, 32, returns=False)
    assert none is None and np.array_equal(x_e2e.numpy(), x_dec.numpy())


def test_ensemble_members_equal_seeds_alone(stocks, tf):
    cfg = stocks.StocksConfig(d=25, k=6)
    together = stocks.StocksEnsemble(cfg, seeds=[0, 1, 2])
    alone = stocks.StocksEnsemble(cfg, seeds=[1])
    step = tf.constant(11, tf.int64)
    x, _, z = together._batch(together.train_keys, step, 16)
    x1, _, z1 = alone._batch(alone.train_keys, step, 16)
    assert np.array_equal(x[1].numpy(), x1[0].numpy()) and np.array_equal(
        z[1].numpy(), z1[0].numpy()
    )
    assert np.array_equal(together.w.numpy()[1], alone.w.numpy()[0])
    assert np.array_equal(together.targets.numpy()[1], alone.targets.numpy()[0])


def test_initial_weights_follow_the_scripts_truncated_normal(stocks):
    net = stocks.StocksEnsemble(stocks.StocksConfig(d=400, k=50), seeds=[0])
    w = net.w.numpy()
    std = 400**-0.5
    assert np.abs(w).max() <= 2 * std + 1e-7  # truncated at ±2σ
    assert 0.85 * std < w.std() < 0.9 * std  # a ±2σ truncated normal has sd 0.88σ
    assert np.all(net.b.numpy() == 0.0)


def test_bad_hyperparameters_are_rejected(stocks):
    with pytest.raises(ValueError, match="method must be one of e2e, dec"):
        stocks.StocksConfig(method="both")
    with pytest.raises(ValueError, match="k must be at least 2"):
        stocks.StocksConfig(k=1)
