"""Curves (Failures §4): the four learners, their batches, ensembles and a short training run."""

import json

import numpy as np
import pandas as pd
import pytest

SMALL = {"train_curves": 500, "validation_curves": 40, "eval_every": 25}


@pytest.fixture(scope="module")
def curves(tf):
    from theorydl.families.curves import model as curves

    return curves


def config(curves, learner, **overrides):
    settings = {**SMALL, "steps": 50, "snapshot_steps": [20, 50], **overrides}
    return curves.CurvesConfig(learner=learner, **settings)


def train(curves, tmp_path, learner, seeds, **overrides):
    from theorydl import engine

    cfg = config(curves, learner, **overrides)
    dirs = {s: tmp_path / f"seed{s}" for s in seeds}
    ctx = engine.RunContext("curves", learner, dirs, tmp_path / "ckpt", 3600.0, 1)
    curves.run(cfg, seeds, ctx)
    return dirs


def test_each_learner_gets_the_authors_rate_and_batch(curves):
    expected = {
        "fc": (1e-4, 100),
        "conv": (0.05, 100),
        "conv_whitened": (0.99, 10),
        "autoencoder": (1e-3, 100),
    }
    for learner, (rate, batch) in expected.items():
        cfg = curves.CurvesConfig(learner=learner)
        assert (cfg.learning_rate, cfg.batch_size, cfg.steps) == (rate, batch, 50_000)
    assert curves.CurvesConfig(learner="conv", learning_rate=0.1).learning_rate == 0.1
    assert curves.CurvesConfig(steps=20_000).snapshots_taken == (500, 10_000)
    with pytest.raises(ValueError, match="Allowed: one of fc, conv"):
        curves.CurvesConfig(learner="mlp")
    with pytest.raises(ValueError, match="Allowed: kinks = 3"):
        curves.CurvesConfig(kinks=4)


def test_batches_are_pool_rows_drawn_by_seed_and_step(curves, tf):
    task = curves.make_task(config(curves, "conv"), [0, 1])
    f, p = (t.numpy() for t in task.batch(tf.constant(7, tf.int64)))
    again, _ = task.batch(tf.constant(7, tf.int64))
    other, _ = task.batch(tf.constant(8, tf.int64))
    assert f.shape == (2, 100, 100)
    assert np.array_equal(f, again.numpy()) and not np.array_equal(f, other.numpy())
    pool = task.train_f.numpy()
    for seed in range(2):
        rows = {row.tobytes() for row in pool[seed]}
        assert all(row.tobytes() in rows for row in f[seed])  # drawn from that seed's pool
    assert len({row.tobytes() for row in f[0]}) > 90  # with replacement, from 500 curves
    from theorydl.families.curves.theory import second_difference

    assert np.allclose(second_difference(f), p, atol=1e-4)  # each target belongs to its curve


def test_exact_weights_have_zero_loss_and_decode_exactly(curves, tf):
    from theorydl.families.curves.theory import INVERSE_FILTER

    fc = curves.make_task(config(curves, "fc"), [0])
    fc.weights.assign(fc.optimum[None])
    conv = curves.make_task(config(curves, "conv"), [0])
    conv.filter.assign(INVERSE_FILTER[None].astype(np.float32))
    white = curves.make_task(config(curves, "conv_whitened"), [0])
    # In whitened coordinates the optimum is C^{1/2}[1, −2, 1].
    root = np.linalg.inv(white.conditioner.numpy()[0].astype(np.float64))
    white.filter.assign((root @ INVERSE_FILTER)[None].astype(np.float32))
    for task in (fc, conv, white):
        metrics = task.evaluate(tf.constant(0, tf.int64))
        assert float(metrics["loss"][0]) < 1e-6
        assert float(metrics["relative_rms"][0]) < 1e-5
        assert float(metrics["weight_error"][0]) < 1e-4
        assert np.allclose(task.reconstruct(task.valid_f).numpy(), task.valid_f.numpy(), atol=1e-3)


def test_tf_and_numpy_relative_errors_agree(curves, tf):
    from theorydl.families.curves.theory import relative_errors

    rng = np.random.default_rng(0)
    f = rng.normal(size=(2, 5, 30)).astype(np.float32)
    decoded = f + 0.1 * rng.normal(size=f.shape).astype(np.float32)
    ours = curves.relative_errors(tf.constant(f), tf.constant(decoded))
    for tf_value, np_value in zip(ours, relative_errors(f, decoded), strict=True):
        assert np.allclose(tf_value.numpy(), np_value, rtol=1e-5)


def test_autoencoder_layers_and_initialization(curves, tf):
    task = curves.make_task(config(curves, "autoencoder"), [0, 1])
    shapes = [tuple(kernel.shape) for kernel, _ in task.layers]
    assert shapes == [
        (2, 100, 500),
        (2, 500, 100),
        (2, 100, 6),
        (2, 6, 100),
        (2, 100, 100),
        (2, 100, 100),
    ]
    first = task.layers[0][0].numpy()
    assert np.abs(first).max() <= 2 * 0.1 + 1e-6  # truncated at 2σ, σ = 1/sqrt(100)
    assert first[0].std() == pytest.approx(0.088, rel=0.05)  # truncation shrinks σ by 0.88
    assert not np.array_equal(first[0], first[1])
    assert all(np.all(bias.numpy() == 0) for _, bias in task.layers)


@pytest.mark.parametrize("learner", ["fc", "conv", "conv_whitened", "autoencoder"])
def test_seed_in_an_ensemble_equals_seed_alone(curves, tf, tmp_path, learner):
    together = train(curves, tmp_path / "ensemble", learner, [0, 1, 2])
    alone = train(curves, tmp_path / "alone", learner, [1])
    a = pd.read_csv(together[1] / "metrics.csv")
    b = pd.read_csv(alone[1] / "metrics.csv")
    assert a[["step", "split", "metric"]].equals(b[["step", "split", "metric"]])
    assert np.allclose(a.value, b.value, rtol=1e-4, atol=1e-6)
    with np.load(together[1] / "arrays.npz") as x, np.load(alone[1] / "arrays.npz") as y:
        assert set(x.files) == set(y.files)
        assert {"decoded@20", "decoded@50", "validation_f", "validation_p"} <= set(x.files)
        assert np.array_equal(x["validation_f"], y["validation_f"])
        assert np.allclose(x["decoded@50"], y["decoded@50"], rtol=1e-4, atol=1e-4)


def test_whitened_filter_converges_in_a_short_run(curves, tf, tmp_path):
    run = train(
        curves, tmp_path, "conv_whitened", [0], steps=500, eval_every=100, snapshot_steps=[500]
    )[0]
    metrics = pd.read_csv(run / "metrics.csv")
    test = metrics[metrics.split == "test"].pivot(index="step", columns="metric", values="value")
    assert test.relative_rms[0] > 0.3  # zero filter: decodes to a flat line
    assert test.relative_rms[500] < 1e-2
    assert test.weight_error[500] < 1e-2  # C^{-1/2} w ≈ [1, −2, 1]
    with np.load(run / "arrays.npz") as arrays:
        assert np.allclose(arrays["effective_filter"], [1, -2, 1], atol=1e-2)
    meta = json.loads((run / "meta.json").read_text())
    assert meta["hparams"]["learning_rate"] == 0.99 and meta["hparams"]["batch_size"] == 10


def test_plain_filter_is_still_far_off_after_the_same_steps(curves, tf, tmp_path):
    run = train(curves, tmp_path, "conv", [0], steps=500, eval_every=100, snapshot_steps=[500])[0]
    metrics = pd.read_csv(run / "metrics.csv")
    rms = metrics[(metrics.split == "test") & (metrics.metric == "relative_rms")]
    assert rms.value.iloc[-1] > 0.1
