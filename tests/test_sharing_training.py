"""Training the weight-sharing students through the engine: determinism, ensemble = alone,
run files, and a short run that learns what it should."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

SMALL = {"train_examples": 500, "eval_examples": 200, "epochs": 4}


def train(tmp: Path, seeds, variant="mixed-w2-c1-known-local", **hparams):
    """Train through the family's ``run`` as a training job does; return {seed: run dir}."""
    from theorydl import engine
    from theorydl.families.sharing import model as sharing

    dirs = {s: tmp / f"seed{s}" for s in seeds}
    ctx = engine.RunContext("sharing", variant, dirs, tmp / "ckpt", 3600.0, 1)
    sharing.run(sharing.SharingConfig(**{**SMALL, **hparams}), list(seeds), ctx)
    return dirs


@pytest.mark.parametrize(
    "hparams",
    [
        {"architecture": "local"},
        {"architecture": "dense", "g": "learned"},
        {"architecture": "shared", "target": "walsh"},
    ],
)
def test_same_seed_gives_identical_metrics(tf, tmp_path, hparams):
    a = train(tmp_path / "a", [0, 1], **hparams)
    b = train(tmp_path / "b", [0, 1], **hparams)
    for seed in (0, 1):
        assert (a[seed] / "metrics.csv").read_bytes() == (b[seed] / "metrics.csv").read_bytes()


@pytest.mark.parametrize(
    "hparams",
    [
        {"architecture": "local"},
        {"architecture": "shared", "g": "learned"},
        {"architecture": "local", "target": "walsh", "layout": "nested"},
        {"architecture": "dense", "patches": "digits", "d": 16},
    ],
)
def test_seed_in_an_ensemble_equals_seed_alone(tf, tmp_path, hparams):
    ensemble = train(tmp_path / "ens", [0, 1, 2], **hparams)
    alone = train(tmp_path / "one", [1], **hparams)
    together = pd.read_csv(ensemble[1] / "metrics.csv")
    single = pd.read_csv(alone[1] / "metrics.csv")
    assert together[["step", "split", "metric"]].equals(single[["step", "split", "metric"]])
    assert np.allclose(together.value, single.value, atol=1e-4)
    with np.load(ensemble[1] / "arrays.npz") as e, np.load(alone[1] / "arrays.npz") as s:
        assert np.allclose(e["w"], s["w"], atol=1e-4)
        assert np.array_equal(e["u0"], s["u0"])


def test_run_files_hold_epochs_and_the_walsh_fractions(tf, tmp_path):
    run = train(tmp_path, [3], "walsh-disjoint-d10-local", target="walsh", architecture="local")[3]
    metrics = pd.read_csv(run / "metrics.csv")
    test = metrics[metrics.split == "test"]
    assert sorted(test.step.unique()) == [0, 5, 10, 15, 20]  # every epoch of 5 steps
    assert set(test.metric) == {
        "normalised_loss",
        "alignment_first",
        "alignment_rest",
        "fraction_1",
        "fraction_2",
        "fraction_3",
        "fraction_4",
    }
    meta = json.loads((run / "meta.json").read_text())
    assert meta["hparams"]["optimizer"] == "sgd" and meta["hparams"]["learning_rate"] == 0.05
    assert meta["steps_completed"] == 20 and meta["status"] == "ok"
    with np.load(run / "arrays.npz") as arrays:
        assert arrays["supports"].shape == (4, 10)
        assert arrays["w"].shape == (10, 10)  # one filter per patch
        assert np.isnan(arrays["wave_share"])


def test_the_shared_student_learns_the_mixed_target_and_the_local_one_does_not(tf, tmp_path):
    hparams = {"train_examples": 2000, "eval_examples": 1000, "epochs": 40, "eval_every_epochs": 40}
    final = {}
    for arch in ("shared", "local"):
        run = train(tmp_path / arch, [0], f"mixed-w2-c1-known-{arch}", architecture=arch, **hparams)
        metrics = pd.read_csv(run[0] / "metrics.csv")
        loss = metrics[(metrics.split == "test") & (metrics.metric == "normalised_loss")]
        final[arch] = loss.value.iloc[-1]
        assert loss.value.iloc[0] > 1.0  # a random student is worse than the mean
    assert final["shared"] < 0.05
    assert final["local"] > 0.5
