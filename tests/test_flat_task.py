"""The step-function task of Failures §5: step sets, u, ũ, the straight-through estimator, the
target and its data streams, and the config's per-method defaults."""

import itertools

import numpy as np
import pytest


@pytest.fixture(scope="module")
def flat(tf):
    from theorydl.families.flat import model as flat

    return flat


def steps_of(flat, tf, offsets, b_star=0.0):
    """Steps ``[1, K]`` (one seed) as the learners hold them."""
    return tf.constant((b_star + offsets)[None, :], tf.float32)


# ---- the step sets ------------------------------------------------------------------------


def test_authors_step_set_has_52_unique_increasing_steps(flat):
    offsets = flat.step_offsets("authors")
    assert len(offsets) == 52
    assert np.all(np.diff(offsets) > 0)
    assert offsets[0] == -100 and offsets[-1] == 95
    # The fine steps near b*, where nearly all of r lies.
    for fine in (-1.0, -0.2, 0.0, 0.1, 0.15, 0.175, 1.0):
        assert fine in offsets


def test_paper_step_set_keeps_all_55_listed_values(flat):
    offsets = flat.step_offsets("paper")
    assert len(offsets) == 55
    assert np.all(np.diff(offsets) >= 0)
    values, counts = np.unique(offsets, return_counts=True)
    # -5, 0 and 5 are in both the coarse and the fine list.
    assert sorted(values[counts > 1]) == [-5.0, 0.0, 5.0]
    assert np.array_equal(values, flat.step_offsets("authors"))


def test_unknown_step_set_is_rejected(flat):
    with pytest.raises(ValueError, match="step_set must be one of"):
        flat.step_offsets("mine")


# ---- u: rounding down to a step -----------------------------------------------------------


def test_step_function_at_and_between_steps(flat, tf):
    offsets = flat.step_offsets("authors")
    b_star = 0.7
    z = steps_of(flat, tf, offsets, b_star)
    r = b_star + np.array([0.0, 0.05, 0.1, 0.12, 0.15, 0.16, 0.175, 0.5, -0.1, -0.2, -0.9, 3.5])
    expected = b_star + np.array([0, 0, 0.1, 0.1, 0.15, 0.15, 0.175, 0.175, -0.2, -0.2, -1, 3])
    got = flat.step_function(tf.constant(r[None, :], tf.float32), z).numpy()[0]
    np.testing.assert_allclose(got, expected, atol=1e-6)
    index = flat.step_index(tf.constant(r[None, :], tf.float32), z).numpy()[0]
    np.testing.assert_allclose(offsets[index] + b_star, expected, atol=1e-6)


def test_step_function_is_the_largest_step_below_on_random_points(flat, tf):
    offsets = flat.step_offsets("authors")
    z = steps_of(flat, tf, offsets)
    r = np.random.default_rng(0).uniform(-99, 99, 5000).astype(np.float32)
    got = flat.step_function(tf.constant(r[None, :]), z).numpy()[0]
    z32 = offsets.astype(np.float32)
    expected = np.array([z32[z32 <= v].max() for v in r])
    assert np.array_equal(got, expected)


def test_step_function_handles_each_seed_with_its_own_steps(flat, tf):
    offsets = flat.step_offsets("authors")
    z = tf.constant(np.stack([offsets, 10 + offsets]), tf.float32)
    r = tf.constant([[0.12], [10.12]], tf.float32)
    np.testing.assert_allclose(flat.step_function(r, z).numpy()[:, 0], [0.1, 10.1], atol=1e-5)


# ---- ũ: the smooth approximation ----------------------------------------------------------


def test_smooth_step_uses_the_authors_per_step_steepness_and_centres(flat):
    offsets = flat.step_offsets("authors")
    smooth = flat.SmoothStep.build(offsets, sharpness=10.0)
    gaps = np.diff(offsets)
    np.testing.assert_allclose(smooth.steepness, 50.0 / gaps)
    np.testing.assert_allclose(smooth.centres, offsets[1:] - gaps / 20.0)
    assert smooth.first == -100.0


def test_smooth_step_ignores_repeated_steps(flat):
    paper = flat.SmoothStep.build(flat.step_offsets("paper"))
    authors = flat.SmoothStep.build(flat.step_offsets("authors"))
    assert len(paper.gaps) == 51 and np.all(np.isfinite(paper.steepness))
    np.testing.assert_allclose(paper.steepness, authors.steepness)


def test_smooth_step_is_near_the_step_between_steps(flat, tf):
    offsets = flat.step_offsets("authors")
    b_star = tf.constant([0.3], tf.float32)
    smooth = flat.SmoothStep.build(offsets)
    # Midway between two steps, far from both sigmoids: ũ is within a few % of the gap of u.
    r = 0.3 + np.array([-0.6, -0.1, 0.05, 0.125, 0.5, 2.5])
    got = smooth(tf.constant(r[None, :], tf.float32), b_star).numpy()[0]
    exact = flat.step_function(
        tf.constant(r[None, :], tf.float32), steps_of(flat, tf, offsets, 0.3)
    )
    np.testing.assert_allclose(got, exact.numpy()[0], atol=0.01)


@pytest.mark.parametrize("form", ["authors", "paper"])
def test_smooth_step_tends_to_the_step_function_as_steepness_grows(flat, tf, form):
    offsets = flat.step_offsets("authors")
    b_star = tf.constant([0.0], tf.float32)
    z = steps_of(flat, tf, offsets)
    # Points at least 0.002 away from every step, over the fine steps and a few coarse ones.
    r = np.linspace(-7, 7, 20001)
    r = r[np.min(np.abs(r[:, None] - offsets[None, :]), axis=1) > 0.002]
    r_tf = tf.constant(r[None, :], tf.float32)
    exact = flat.step_function(r_tf, z).numpy()[0]
    errors = []
    for steepness in (10.0, 100.0, 1000.0, 10000.0):
        if form == "authors":
            smooth = flat.SmoothStep.build(offsets, sharpness=steepness)
        else:
            smooth = flat.SmoothStep.build(offsets, constant_steepness=100 * steepness)
        errors.append(np.max(np.abs(smooth(r_tf, b_star).numpy()[0] - exact)))
    # Never grows (up to float32 rounding), and ends far below where it starts.
    assert all(b <= a + 1e-5 for a, b in itertools.pairwise(errors))
    assert errors[0] > 0.1 and errors[-1] < 1e-3


def test_smooth_step_is_monotone_and_has_the_paper_form(flat, tf):
    offsets = flat.step_offsets("authors")
    c = 300.0
    smooth = flat.SmoothStep.build(offsets, constant_steepness=c)
    r = np.linspace(-2, 2, 4001)
    got = smooth(tf.constant(r[None, :], tf.float32), tf.constant([0.0])).numpy()[0]
    assert np.all(np.diff(got) >= -1e-4)  # up to float32 rounding of a sum near 100
    # z_0 + Σ (z_i − z_{i−1}) σ(c (r − z_i)), the paper's formula, in float64.
    sigmoid = 0.5 * (1 + np.tanh(c * (r[:, None] - offsets[None, 1:]) / 2))
    expected = offsets[0] + sigmoid @ np.diff(offsets)
    np.testing.assert_allclose(got, expected, atol=5e-4)


# ---- the straight-through estimator -------------------------------------------------------


def test_straight_through_is_u_forward_and_identity_backward(flat, tf):
    offsets = flat.step_offsets("authors")
    z = steps_of(flat, tf, offsets, -0.4)
    r = tf.Variable(np.random.default_rng(1).normal(-0.4, 0.3, (1, 257)).astype(np.float32))
    weights = tf.constant(np.random.default_rng(2).normal(size=(1, 257)).astype(np.float32))
    with tf.GradientTape(persistent=True) as tape:
        through = flat.straight_through(r, z)
        hard = flat.step_function(r, z)
        objective = tf.reduce_sum(weights * through)
    # r + (u(r) − r) is u(r) up to float32 rounding.
    np.testing.assert_allclose(through.numpy(), hard.numpy(), atol=1e-6)
    np.testing.assert_allclose(tape.gradient(objective, r).numpy(), weights.numpy())
    assert tape.gradient(tf.reduce_sum(hard), r) is None  # u alone gives no gradient at all


def test_forward_only_gradient_is_the_linear_models(flat, tf):
    """Through the estimator, the MSE gradient is that of the linear model r̂ with u(r̂) in place
    of r̂ in the residual: 2/n Σ (u(r̂) − y) x (the Isotron-style rule, with Adam on top)."""
    cfg = flat.FlatConfig(method="forward_only", batch_size=64)
    learner = flat.build(cfg, [3])
    x, _, y = learner.train_batch(tf.constant(0, tf.int64))
    with tf.GradientTape() as tape:
        loss = learner.loss(x, y)
    grad_w = tape.gradient(loss, learner.linear.w).numpy()[0, :, 0]
    r_hat = tf.squeeze(learner.linear(x), -1)
    residual = (flat.step_function(r_hat, learner.steps_z) - y).numpy()[0]
    expected = 2 / 64 * residual @ x.numpy()[0]
    np.testing.assert_allclose(grad_w, expected, rtol=1e-4, atol=1e-7)


# ---- target, data, config -----------------------------------------------------------------


def test_target_is_fixed_per_seed_and_differs_between_seeds(flat):
    cfg = flat.FlatConfig()
    a, b = flat.draw_target(cfg, 5), flat.draw_target(cfg, 5)
    assert np.array_equal(a.w_star, b.w_star) and a.b_star == b.b_star
    np.testing.assert_allclose(a.steps, a.b_star + flat.step_offsets("authors"))
    assert flat.draw_target(cfg, 6).b_star != a.b_star
    assert a.w_star.shape == (100,)


def test_inputs_have_the_scripts_scale_and_labels_lie_on_steps(flat, tf):
    learner = flat.build(flat.FlatConfig(method="end_to_end", batch_size=4096), [0, 1])
    x, r, y = learner.train_batch(tf.constant(7, tf.int64))
    assert x.shape == (2, 4096, 100) and r.shape == y.shape == (2, 4096)
    assert abs(float(tf.math.reduce_std(x)) - 0.01) < 0.0005  # N(0, I)/100
    for s in range(2):
        assert np.isin(y.numpy()[s], learner.steps_z.numpy()[s]).all()
        assert np.all(y.numpy()[s] <= r.numpy()[s])
    # r − b* has sd ‖w*‖/100, about 0.1: only the fine steps near b* are ever labels.
    spread = (r - learner.b_star[:, None]).numpy().std(axis=1)
    norms = np.linalg.norm(learner.w_star.numpy()[:, :, 0], axis=1) / 100
    np.testing.assert_allclose(spread, norms, rtol=0.05)


def test_every_learner_of_a_seed_sees_the_same_batches(flat, tf):
    step = tf.constant(11, tf.int64)
    batches = [flat.build(flat.FlatConfig(method=m), [4]).train_batch(step) for m in flat.METHODS]
    for x, _, y in batches[1:]:
        assert np.array_equal(x.numpy(), batches[0][0].numpy())
        assert np.array_equal(y.numpy(), batches[0][2].numpy())


def test_test_set_is_drawn_once_per_seed_as_a_compiled_evaluation_would(flat, tf):
    """The learner keeps its test points; they are the points the evaluation drew when it
    drew them afresh inside its compiled function, bit for bit, and differ from the
    training stream's."""
    cfg = flat.FlatConfig(method="end_to_end", eval_samples=512)
    learner = flat.build(cfg, [0, 5])
    kept = learner.test_set()
    assert kept[0].shape == (2, 512, cfg.input_dim) and kept[2].shape == (2, 512)
    redrawn = tf.function(learner.batch)(learner.test_keys, cfg.eval_samples)
    for mine, fresh in zip(kept, redrawn, strict=True):
        assert np.array_equal(mine.numpy(), fresh.numpy())
    assert all(part is again for part, again in zip(kept, learner.test_set(), strict=True))
    train_x = learner.train_batch(tf.constant(0, tf.int64))[0].numpy()
    assert not np.allclose(kept[0].numpy()[:, : cfg.batch_size], train_x)


def test_ensemble_members_see_their_own_data_and_weights(flat, tf):
    cfg = flat.FlatConfig(method="multi_class", batch_size=16)
    pair, alone = flat.build(cfg, [0, 1]), flat.build(cfg, [1])
    step = tf.constant(3, tf.int64)
    x2, _, y2 = pair.train_batch(step)
    x1, _, y1 = alone.train_batch(step)
    assert not np.array_equal(x2.numpy()[0], x2.numpy()[1])
    assert np.array_equal(x2.numpy()[1], x1.numpy()[0])
    assert np.array_equal(y2.numpy()[1], y1.numpy()[0])
    for mine, other in zip(pair.layers(), alone.layers(), strict=True):
        assert np.array_equal(mine.w.numpy()[1], other.w.numpy()[0])


def test_models_have_the_authors_shapes_and_init(flat, tf):
    e2e = flat.build(flat.FlatConfig(method="end_to_end"), [0])
    assert [tuple(layer.w.shape) for layer in e2e.layers()] == [
        (1, 100, 100),
        (1, 100, 100),
        (1, 100, 100),
        (1, 100, 1),
    ]
    mc = flat.build(flat.FlatConfig(method="multi_class"), [0])
    assert [tuple(layer.w.shape) for layer in mc.layers()] == [
        (1, 100, 100),
        (1, 100, 100),
        (1, 100, 100),
    ]
    linear = flat.build(flat.FlatConfig(method="non_flat"), [0]).layers()[0].w.numpy()
    assert linear.shape == (1, 100, 1)
    assert np.abs(linear).max() <= 0.2 + 1e-6  # truncated at 2σ, σ = 1/sqrt(100)
    assert 0.07 < linear.std() < 0.1  # truncation shrinks σ by about 12%


@pytest.mark.parametrize("method", ["multi_class", "forward_only"])
def test_step_learners_predict_steps_exactly(flat, tf, method):
    learner = flat.build(flat.FlatConfig(method=method), [2, 3])
    x, _, _ = learner.test_set()
    prediction = learner.predict(x).numpy()
    for s in range(2):
        assert np.isin(prediction[s], learner.steps_z.numpy()[s]).all()


def test_config_resolves_the_authors_rate_and_budget_per_method(flat):
    assert flat.FlatConfig(method="non_flat").learning_rate == 0.01
    assert flat.FlatConfig(method="non_flat").steps == 10_000
    assert flat.FlatConfig(method="end_to_end").learning_rate == 0.001
    assert flat.FlatConfig(method="multi_class").steps == 10_000
    assert flat.FlatConfig(method="forward_only").steps == 5_000
    assert flat.FlatConfig(method="forward_only", steps=300).steps == 300
    cfg = flat.FlatConfig()
    assert (cfg.beta1, cfg.beta2, cfg.epsilon, cfg.batch_size) == (0.9, 0.99, 1e-5, 256)


def test_config_rejects_bad_values(flat):
    with pytest.raises(ValueError, match="method must be one of"):
        flat.FlatConfig(method="isotron")
    with pytest.raises(ValueError, match="multi_class_logits must be at least the number of steps"):
        flat.FlatConfig(method="multi_class", multi_class_logits=52, step_set="paper")
    assert flat.FlatConfig(multi_class_logits=52).multi_class_logits == 52


def test_check_config_names_the_key(flat):
    from theorydl.families.flat import spec

    block = {"seeds": [0, 1], "figure7_seed": 5, "hparams": {}, "variant_hparams": {}}
    resolved = {m: {"step_set": "authors", "input_dim": 100} for m in flat.METHODS}
    problems = spec.check_config(block, resolved)
    assert len(problems) == 1 and "flat.figure7_seed" in problems[0] and "5" in problems[0]
    resolved["e2e"] = {"step_set": "paper", "input_dim": 100}
    problems = spec.check_config({**block, "figure7_seed": None}, resolved)
    assert len(problems) == 1 and "step_set" in problems[0]
