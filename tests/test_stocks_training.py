"""Training the stocks task through the engine: determinism, ensembles, the fused Adam, learning."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

SMALL = {"d": 50, "k": 20, "steps": 200, "eval_every": 50}


def train(tmp: Path, seeds, hparams=SMALL, method="e2e"):
    """Train through the function the Snakemake job calls; return {seed: run dir}."""
    from theorydl.job import train_variant

    hparams = {**hparams, "method": method}
    dirs = [tmp / f"seed{s}" for s in seeds]
    variant = f"{method}_k{hparams['k']}"
    train_variant("stocks", variant, hparams, seeds, dirs, tmp / "ckpt", 3600.0, 1)
    return dict(zip(seeds, dirs, strict=True))


def test_same_seed_gives_identical_metrics(tf, tmp_path):
    a = train(tmp_path / "a", [0, 1])
    b = train(tmp_path / "b", [0, 1])
    for seed in (0, 1):
        assert (a[seed] / "metrics.csv").read_bytes() == (b[seed] / "metrics.csv").read_bytes()


@pytest.mark.parametrize("method", ["e2e", "dec"])
def test_seed_in_an_ensemble_equals_seed_alone(tf, tmp_path, method):
    ensemble = train(tmp_path / "ens", [0, 1, 2], method=method)
    alone = train(tmp_path / "one", [1], method=method)
    together = pd.read_csv(ensemble[1] / "metrics.csv")
    single = pd.read_csv(alone[1] / "metrics.csv")
    assert together[["step", "split", "metric"]].equals(single[["step", "split", "metric"]])
    assert np.allclose(together.value, single.value, rtol=1e-5, atol=1e-7)
    with np.load(ensemble[1] / "arrays.npz") as e, np.load(alone[1] / "arrays.npz") as s:
        assert np.allclose(e["w"], s["w"], atol=1e-5)
        assert np.array_equal(e["right_stocks"], s["right_stocks"])


def test_runs_log_both_losses_and_moments_at_every_evaluation(tf, tmp_path):
    run = train(tmp_path, [3], method="dec")[3]
    metrics = pd.read_csv(run / "metrics.csv")
    test = metrics[metrics.split == "test"]
    assert sorted(test.step.unique()) == [0, 50, 100, 150, 200]
    assert set(test.metric) == {
        "loss",
        "expected_loss",
        "right_stock_accuracy",
        "top_stock_mass",
        "second_moment_e2e",
        "second_moment_dec",
        "mean_gradient_sq",
    }
    at = test.pivot(index="step", columns="metric", values="value")
    assert at.loc[0, "expected_loss"] == pytest.approx(-1 / 20, abs=0.01)  # p ≈ uniform
    assert at.loc[0, "second_moment_e2e"] / at.loc[0, "second_moment_dec"] == pytest.approx(
        20, 0.05
    )
    assert (at.top_stock_mass >= 1 / 20).all() and (at.top_stock_mass <= 1).all()
    meta = json.loads((run / "meta.json").read_text())
    assert meta["hparams"]["method"] == "dec" and meta["hparams"]["learning_rate"] == 0.1
    assert meta["hparams"]["beta2"] == 0.99 and meta["hparams"]["epsilon"] == 1e-5


@pytest.mark.parametrize("method", ["e2e", "dec"])
def test_both_methods_solve_a_task_with_few_stocks(tf, tmp_path, method):
    hparams = {"d": 50, "k": 4, "steps": 600, "eval_every": 300}
    run = train(tmp_path, [0], hparams, method=method)[0]
    metrics = pd.read_csv(run / "metrics.csv")
    expected = metrics[(metrics.split == "test") & (metrics.metric == "expected_loss")]
    assert expected.value.iloc[0] > -0.35  # chance: −1/k = −0.25
    assert expected.value.iloc[-1] < -0.95


def test_fused_adam_equals_adam(tf):
    from theorydl import engine

    rng = np.random.default_rng(0)
    start = rng.normal(size=(3, 40, 7)).astype(np.float32)
    plain_var, fused_var = tf.Variable(start), tf.Variable(start)
    plain = engine.Adam([plain_var], 0.1, 0.9, 0.99, 1e-5)
    fused = engine.FusedAdam([fused_var], 0.1, 0.9, 0.99, 1e-5)
    for _ in range(20):
        grad = tf.constant(rng.normal(size=start.shape).astype(np.float32))
        plain.apply([grad], [plain_var])
        fused.apply([grad], [fused_var])
    assert not np.allclose(plain_var.numpy(), start, atol=0.1)
    np.testing.assert_allclose(fused_var.numpy(), plain_var.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(fused.v[0].numpy(), plain.v[0].numpy(), rtol=1e-5)
