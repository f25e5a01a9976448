"""Training the four step-function learners: determinism, ensemble = alone, run files."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

SMALL = {"steps": 60, "eval_every": 20, "eval_samples": 512, "batch_size": 64}
METHODS = ("non_flat", "end_to_end", "multi_class", "forward_only")


def train(tmp: Path, method: str, seeds, **hparams) -> dict[int, Path]:
    """Train through the same function the Snakemake job calls; return {seed: run dir}."""
    from theorydl.job import train_variant

    dirs = [tmp / f"seed{s}" for s in seeds]
    settings = {"method": method, **SMALL, **hparams}
    train_variant("flat", method, settings, seeds, dirs, tmp / "ckpt", 3600.0, 1)
    return dict(zip(seeds, dirs, strict=True))


@pytest.mark.parametrize("method", METHODS)
def test_seed_in_an_ensemble_equals_seed_alone(tf, tmp_path, method):
    ensemble = train(tmp_path / "ens", method, [0, 1, 2])
    alone = train(tmp_path / "one", method, [1])
    together = pd.read_csv(ensemble[1] / "metrics.csv")
    single = pd.read_csv(alone[1] / "metrics.csv")
    assert together[["step", "split", "metric"]].equals(single[["step", "split", "metric"]])
    np.testing.assert_allclose(together.value, single.value, atol=1e-4)
    with np.load(ensemble[1] / "arrays.npz") as e, np.load(alone[1] / "arrays.npz") as s:
        assert set(e.files) == set(s.files)
        for name in e.files:
            np.testing.assert_allclose(e[name], s[name], atol=1e-4, err_msg=name)
    # The seeds of one ensemble learn different targets.
    with np.load(ensemble[0] / "arrays.npz") as a, np.load(ensemble[1] / "arrays.npz") as b:
        assert a["b_star"] != b["b_star"]


@pytest.mark.parametrize("method", ["non_flat", "multi_class"])
def test_same_seed_gives_identical_metrics(tf, tmp_path, method):
    a = train(tmp_path / "a", method, [0, 1])
    b = train(tmp_path / "b", method, [0, 1])
    for seed in (0, 1):
        assert (a[seed] / "metrics.csv").read_bytes() == (b[seed] / "metrics.csv").read_bytes()
        with np.load(a[seed] / "arrays.npz") as x, np.load(b[seed] / "arrays.npz") as y:
            assert all(np.array_equal(x[k], y[k]) for k in x.files)


def test_run_files_hold_the_metrics_arrays_and_test_cost(tf, tmp_path):
    run = train(tmp_path, "non_flat", [3])[3]
    metrics = pd.read_csv(run / "metrics.csv")
    test = metrics[metrics.split == "test"]
    assert sorted(test.step.unique()) == [0, 20, 40, 60]
    assert set(test.metric) == {
        "loss",
        "relative_rms",
        "off_fraction",
        "output_range",
        "relative_rms_hard",
        "off_fraction_hard",
    }
    assert test[test.metric == "off_fraction"].value.between(0, 1).all()
    meta = json.loads((run / "meta.json").read_text())
    assert meta["hparams"]["learning_rate"] == 0.01 and meta["hparams"]["steps"] == 60
    assert meta["authors_steps"] == 10_000
    with np.load(run / "arrays.npz") as arrays:
        for name in ("r", "label", "prediction", "smooth_label", "hard_prediction"):
            assert arrays[name].shape == (512,)
        assert arrays["steps_z"].shape == (52,)
        assert arrays["non_flat/linear.w"].shape == (100, 1)
        np.testing.assert_allclose(
            arrays["steps_z"] - arrays["b_star"], np.unique(arrays["steps_z"] - arrays["b_star"])
        )


def test_forward_only_learns_through_the_flat_step(tf, tmp_path):
    # The straight-through gradient moves r̂ although u is flat: after 3 000 of the authors'
    # 5 000 steps the error has fallen well below its start (r̂ ≈ 0 at initialization).
    run = train(tmp_path, "forward_only", [5], steps=3000, eval_every=1000)[5]
    metrics = pd.read_csv(run / "metrics.csv")
    test = metrics[metrics.split == "test"]
    rms = test[test.metric == "relative_rms"].value.to_numpy()
    off = test[test.metric == "off_fraction"].value.to_numpy()
    assert rms[-1] < 0.4 * rms[0] and off[-1] < 0.25 * off[0]
    with np.load(run / "arrays.npz") as arrays:
        assert np.isin(arrays["prediction"], arrays["steps_z"]).all()


def test_test_costs_are_measured_for_every_method(tf):
    from theorydl.families.flat import model as flat
    from theorydl.families.flat import theory

    configs = {m: flat.FlatConfig(method=m, eval_samples=256) for m in METHODS}
    costs = theory.measure_test_costs(configs, seed=0, rounds=3)
    assert set(costs) == set(METHODS)
    assert all(0 < seconds < 1e-2 for seconds in costs.values())
