"""Hierarchical digits: the learners (patches, sizes, seed ensembles) and the layer-wise pipeline
on a noise-free model, whose clusters must be exactly the latent classes."""

from __future__ import annotations

import json
from dataclasses import asdict

import numpy as np
import pandas as pd
import pytest
from helpers import fake_real_images

from theorydl import engine
from theorydl.families.hierarchical import model
from theorydl.families.hierarchical.spec import HierarchicalConfig


@pytest.fixture(autouse=True)
def _set_up(tf):
    """TensorFlow set up as the jobs set it up, before any op runs (conftest's ``tf``)."""


def _context(tmp_path, variant, seeds):
    dirs = {s: tmp_path / variant / f"seed{s}" for s in seeds}
    for d in dirs.values():
        d.mkdir(parents=True)
    return engine.RunContext("hierarchical", variant, dirs, tmp_path / "checkpoints" / variant)


def _final(ctx, seed, metric):
    metrics = pd.read_csv(ctx.out_dirs[seed] / "metrics.csv")
    rows = metrics[metrics.metric == metric]
    return float(rows[rows.step == rows.step.max()].value.iloc[0])


def test_patches_are_the_non_overlapping_3x3_blocks(tf):
    x = np.arange(2 * 3 * 9 * 9 * 2, dtype=np.float32).reshape(2, 3, 9, 9, 2)
    patches = model.to_patches(tf.constant(x)).numpy()
    assert patches.shape == (2, 3, 3, 3, 18)
    block = x[1, 2, 3:6, 6:9, :]  # cell (1, 2)
    assert np.array_equal(patches[1, 2, 1, 2], block.reshape(-1))


def test_the_fully_connected_network_has_about_the_cnns_weights():
    cfg = HierarchicalConfig()
    hidden = model.dense_width(cfg)
    dense = 27 * 27 * hidden + hidden + hidden * 10 + 10
    assert abs(dense - model.conv_weights(cfg)) <= 27 * 27 + 11  # within one hidden unit


@pytest.mark.parametrize("learner", ["e2e", "fc"])
def test_a_seed_in_an_ensemble_trains_as_it_does_alone(tmp_path, learner):
    cfg = HierarchicalConfig(
        learner=learner, train_examples=60, test_examples=50, steps=30, eval_every=15, width=8
    )
    together = _context(tmp_path / "together", learner, [0, 1])
    model.run(cfg, [0, 1], together)
    alone = _context(tmp_path / "alone", learner, [1])
    model.run(cfg, [1], alone)
    a, b = _final(together, 1, "test_loss"), _final(alone, 1, "test_loss")
    assert a == pytest.approx(b, rel=1e-4)
    assert _final(together, 0, "test_loss") != pytest.approx(a, rel=1e-3)


def test_layerwise_recovers_the_latent_classes_of_a_noise_free_model(tmp_path):
    cfg = HierarchicalConfig(
        learner="layerwise",
        noise=0.0,
        distractors=0.0,
        train_examples=400,
        test_examples=200,
        steps=400,
        eval_every=200,
    )
    ctx = _context(tmp_path, "samples-layerwise-n400", [0])
    model.run(cfg, [0], ctx)
    for level in range(len(cfg.classes)):
        assert _final(ctx, 0, f"homogeneity@level{level}") == pytest.approx(1.0)
        assert _final(ctx, 0, f"purity@level{level}") == pytest.approx(1.0)
    assert _final(ctx, 0, "test_accuracy") == pytest.approx(1.0)
    meta = json.loads((ctx.out_dirs[0] / "meta.json").read_text())
    assert meta["hparams"] == asdict(cfg) and set(meta["stages"]) == {"level0", "level1", "top"}
    # The stages stay until the family's aggregate job removes them, so that a kill before
    # Snakemake records the job done costs no training when the job runs again.
    assert {p.name for p in (ctx.checkpoint_dir / "stages").iterdir()} == {
        "level0",
        "level1",
        "top",
    }


def test_a_stopped_layerwise_job_resumes_at_its_first_unfinished_stage(tmp_path, monkeypatch):
    cfg = HierarchicalConfig(
        learner="layerwise", train_examples=50, test_examples=50, steps=20, eval_every=10, width=8
    )
    whole = _context(tmp_path / "whole", "v", [0])
    model.run(cfg, [0], whole)
    train, trained = engine.train, []

    def stopping_at(stage):
        def fake(task, optimizer, schedule, ctx, hparams):
            if ctx.variant.endswith(stage):
                raise KeyboardInterrupt  # the job is killed as this stage starts
            trained.append(ctx.variant)
            train(task, optimizer, schedule, ctx, hparams)

        return fake

    stopped = _context(tmp_path / "stopped", "v", [0])
    monkeypatch.setattr(model.engine, "train", stopping_at("level1"))
    with pytest.raises(KeyboardInterrupt):
        model.run(cfg, [0], stopped)
    assert trained == ["v-level0"] and not (stopped.out_dirs[0] / "meta.json").exists()
    trained.clear()
    monkeypatch.setattr(model.engine, "train", stopping_at("never"))
    model.run(cfg, [0], stopped)
    assert trained == ["v-level1", "v-top"]  # level 0 was restored from its finished stage
    pd.testing.assert_frame_equal(
        pd.read_csv(stopped.out_dirs[0] / "metrics.csv"),
        pd.read_csv(whole.out_dirs[0] / "metrics.csv"),
    )


def test_layerwise_on_real_images_measures_no_clusters(tmp_path, monkeypatch):
    fake_real_images(monkeypatch, train=200, test=80, seed=1)
    cfg = HierarchicalConfig(
        experiment="fashion",
        train_examples=100,
        test_examples=80,
        classes=[6, 6],
        cluster_factor=1,
        steps=20,
        eval_every=10,
        width=8,
    )
    ctx = _context(tmp_path, "fashion-layerwise-n100", [0, 1])
    ctx = engine.RunContext(**{**ctx.__dict__, "data_dir": tmp_path / "fake-data"})
    model.run(cfg, [0, 1], ctx)
    metrics = pd.read_csv(ctx.out_dirs[1] / "metrics.csv")
    assert 0 <= _final(ctx, 1, "test_accuracy") <= 1
    assert not metrics.metric.str.contains("nmi|purity|homogeneity").any()
    arrays = np.load(ctx.out_dirs[1] / "arrays.npz")
    assert arrays["u@top"].shape == (9 * 6, 10)  # the top level's 3×3 cells of 6 clusters
