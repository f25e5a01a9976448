"""Both gradient estimators of the stocks task are unbiased for ∇L, and their second moments.

Checked exactly on a small task: every input x and every return vector z (z_y = 1, the other
k − 1 signs enumerated), with the network away from its near-uniform initialization.
"""

import itertools

import numpy as np
import pytest

D, K, SEED = 4, 5, 0


@pytest.fixture(scope="module")
def stocks(tf):
    from theorydl.families.stocks import model as stocks

    return stocks


@pytest.fixture(scope="module")
def net(stocks, tf):
    """A small network with weights large enough that p is far from uniform."""
    net = stocks.StocksEnsemble(stocks.StocksConfig(d=D, k=K), seeds=[SEED])
    rng = np.random.default_rng(1)
    net.w.assign(rng.normal(0.0, 1.5, net.w.shape).astype(np.float32))
    net.b.assign(rng.normal(0.0, 0.5, net.b.shape).astype(np.float32))
    return net


@pytest.fixture(scope="module")
def every_sample(net):
    """All (x, y, z) with their probability: x uniform, z uniform given y(x)."""
    targets = net.targets.numpy()[0]
    xs, zs = [], []
    for x in range(D):
        for signs in itertools.product([-1.0, 1.0], repeat=K - 1):
            z = np.insert(np.array(signs, np.float32), targets[x], 1.0)
            xs.append(x)
            zs.append(z)
    x = np.array(xs, np.int32)
    return x, targets[x], np.stack(zs)


def flatten(tf, grads):
    return np.concatenate([tf.convert_to_tensor(g).numpy().ravel() for g in grads]).astype(float)


def flat_gradient(tf, net, loss_fn):
    with tf.GradientTape() as tape:
        loss = loss_fn()
    return flatten(tf, tape.gradient(loss, [net.w, net.b]))


def exact_objective_gradient(tf, net):
    """∇L for L(w) = E_x[−p_{y(x)}(x)], the objective as the task evaluates it."""
    return flat_gradient(tf, net, lambda: net.evaluate(tf.constant(0, tf.int64))["expected_loss"])


def per_example_gradients(tf, stocks, net, x, y, z):
    """Full autodiff gradients (w.r.t. W and b) of each example's two losses."""
    e2e, dec = [], []
    for xi, yi, zi in zip(x, y, z, strict=True):
        with tf.GradientTape(persistent=True) as tape:
            p = net.probabilities(tf.constant([[xi]]))[0, 0]
            e2e_loss = stocks.e2e_loss(tf.constant(zi), p)
            dec_loss = stocks.dec_loss(tf.constant(yi), p)
        e2e.append(flatten(tf, tape.gradient(e2e_loss, [net.w, net.b])))
        dec.append(flatten(tf, tape.gradient(dec_loss, [net.w, net.b])))
    return np.stack(e2e), np.stack(dec)


@pytest.fixture(scope="module")
def gradients(stocks, net, every_sample, tf):
    """Every example's gradients of both losses, computed once for the module."""
    return per_example_gradients(tf, stocks, net, *every_sample)


def test_both_estimators_average_to_the_objectives_gradient(net, gradients, tf):
    e2e, dec = gradients
    grad = exact_objective_gradient(tf, net)
    assert np.linalg.norm(grad) > 0.05  # a point where the gradient is not trivially small
    np.testing.assert_allclose(e2e.mean(axis=0), grad, atol=1e-6)
    np.testing.assert_allclose(dec.mean(axis=0), grad, atol=1e-6)
    # Unbiased, but not the same estimator: E2E's single-sample gradients scatter far more.
    assert np.mean(np.sum(e2e**2, axis=1)) > 2 * np.mean(np.sum(dec**2, axis=1))


def test_closed_form_second_moments_match_enumeration(stocks, net, gradients, tf):
    e2e, dec = gradients
    moments = stocks.second_moments(net.all_probabilities(tf.float64), net.targets)
    np.testing.assert_allclose(
        moments["second_moment_e2e"][0], np.mean(np.sum(e2e**2, axis=1)), rtol=1e-5
    )
    np.testing.assert_allclose(
        moments["second_moment_dec"][0], np.mean(np.sum(dec**2, axis=1)), rtol=1e-5
    )
    grad = exact_objective_gradient(tf, net)
    np.testing.assert_allclose(moments["mean_gradient_sq"][0], np.sum(grad**2), rtol=1e-5)


def test_per_example_norms_from_the_logits_equal_full_gradients(net, every_sample, gradients, tf):
    from theorydl.families.stocks.theory import per_example_gradient_norms

    x, y, z = every_sample
    e2e, dec = gradients
    norms = per_example_gradient_norms(
        net, tf.constant(x[None]), tf.constant(y[None]), tf.constant(z[None])
    )
    np.testing.assert_allclose(norms["e2e"].numpy()[0], np.sum(e2e**2, axis=1), rtol=1e-5)
    np.testing.assert_allclose(norms["dec"].numpy()[0], np.sum(dec**2, axis=1), rtol=1e-5)


@pytest.mark.parametrize("method", ["e2e", "dec"])
def test_training_batches_give_unbiased_gradients(stocks, net, tf, method):
    """The training loss on the sampler's own batches: a large batch's gradient is ∇L."""
    cfg = stocks.StocksConfig(method=method, d=D, k=K, batch_size=400_000)
    trained = stocks.StocksEnsemble(cfg, seeds=[SEED])
    trained.w.assign(net.w)
    trained.b.assign(net.b)
    estimate = flat_gradient(tf, trained, lambda: trained.train_loss(tf.constant(3, tf.int64)))
    grad = exact_objective_gradient(tf, net)
    # Single-sample gradient coordinates have sd ≤ 1; over 400 000 samples, ≤ 0.0016.
    np.testing.assert_allclose(estimate, grad, atol=0.008)


def test_second_moment_ratio_is_about_k_at_initialization(tf):
    from theorydl.families.stocks.theory import initial_moments

    for k in (2, 50):
        result = initial_moments(d=200, k=k, seed=0, samples=4000)
        assert result.exact_ratio == pytest.approx(k, rel=0.02)
        assert result.measured_ratio == pytest.approx(k, rel=0.1)
        assert result.mean_gradient_sq < 0.01 * result.exact_dec  # second moment ≈ variance


def test_evaluation_seed_by_seed_equals_the_whole_ensemble_at_once(stocks, tf):
    """The evaluation walks the seeds one at a time (to bound memory); every exact metric must
    equal the same formula applied to all seeds' [S, d, k] portfolios together."""
    net = stocks.StocksEnsemble(stocks.StocksConfig(d=30, k=7), seeds=[0, 4, 9])
    rng = np.random.default_rng(2)
    net.w.assign(rng.normal(0.0, 2.0, net.w.shape).astype(np.float32))
    net.b.assign(rng.normal(0.0, 0.5, net.b.shape).astype(np.float32))
    found = tf.function(net.evaluate)(tf.constant(3, tf.int64))
    p = net.all_probabilities().numpy()
    targets = net.targets.numpy()
    expected = {
        "expected_loss": -np.take_along_axis(p, targets[..., None], axis=-1)[..., 0].mean(-1),
        "right_stock_accuracy": (p.argmax(-1) == targets).mean(-1),
        "top_stock_mass": p.max(-1).mean(-1),
        **stocks.second_moments(net.all_probabilities(tf.float64), net.targets),
    }
    assert set(found) == {"loss", *expected}
    for name, value in expected.items():
        assert found[name].shape == (3,), name
        np.testing.assert_allclose(found[name], np.asarray(value), rtol=1e-6, err_msg=name)
    # The seeds differ, so a mix-up of seed slices would show.
    assert len(set(np.round(found["second_moment_e2e"].numpy(), 6))) == 3
