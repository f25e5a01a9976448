"""The tuple networks, losses and training: init quirk, decomposition loss, pool, ensembles."""

import json

import numpy as np
import pandas as pd
import pytest

TINY = {"k": 2, "batch_size": 8, "steps": 30, "eval_every": 10, "test_tuples": 40}


@pytest.fixture(scope="module")
def tuples(tf):
    from theorydl.families.tuples import model as tuples

    return tuples


def train(tmp_path, seeds, hparams):
    """Train through the function the Snakemake job calls; return {seed: run dir}."""
    from theorydl.job import train_variant

    variant = f"{hparams.get('method', 'e2e')}-k{hparams['k']}"
    dirs = [tmp_path / f"seed{s}" for s in seeds]
    train_variant("tuples", variant, hparams, seeds, dirs, tmp_path / "ckpt", 3600.0, 1)
    return dict(zip(seeds, dirs, strict=True))


def test_initialization_is_the_scripts_with_its_conv_quirk(tuples):
    nets = tuples.TupleNetworks(3, [0, 1])
    # σ = 1/sqrt(fan-in) except the convs: 1/√28 (the image width) and 1/√16.
    expected = {
        "conv1": 28**-0.5,
        "conv2": 16**-0.5,
        "dense3": 784**-0.5,
        "dense4": 50**-0.5,
        "score": 100**-0.5,
        "middle": 3**-0.5,
        "out": 100**-0.5,
    }
    weights = nets.weights()
    for name, sigma in expected.items():
        w = weights[name]
        assert w.shape[0] == 2
        assert np.abs(w).max() <= 2 * sigma + 1e-6  # truncated at ±2σ
        if w[0].size >= 300:  # a truncated normal's sd is 0.880σ
            assert w[0].std() == pytest.approx(0.880 * sigma, rel=0.12), name
        assert not np.array_equal(w[0], w[1])  # each seed its own draw
        assert not weights[f"{name}_b"].any()
    assert weights["middle"].shape == (2, 3, 100)


def test_decomposition_adds_the_per_image_hinge_loss(tuples, tf):
    e2e = tuples.TuplesTask(tuples.TuplesConfig(k=3, batch_size=16, method="e2e"), [0])
    dec = tuples.TuplesTask(tuples.TuplesConfig(k=3, batch_size=16, method="dec"), [0])
    step = tf.constant(5, tf.int64)
    images, per_image, labels = e2e._train_batch(step)
    scores, outputs = e2e.nets(images)
    tuple_loss = np.mean(np.maximum(0, 1 - labels.numpy() * outputs.numpy()))
    image_loss = np.mean(np.maximum(0, 1 - per_image.numpy() * scores.numpy()))
    assert e2e.train_loss(step).numpy()[0] == pytest.approx(tuple_loss, rel=1e-5)
    assert dec.train_loss(step).numpy()[0] == pytest.approx(tuple_loss + image_loss, rel=1e-5)


def test_training_pool_wraps_around_as_the_script_reads_it(tuples, tf):
    pooled = tuples.TuplesTask(tuples.TuplesConfig(k=1, batch_size=10, train_pool=35), [0])
    assert pooled.cfg.pool_batches == 3  # the incomplete last batch of the pool is never read
    first = pooled._train_batch(tf.constant(1, tf.int64))[0].numpy()
    assert np.array_equal(first, pooled._train_batch(tf.constant(4, tf.int64))[0].numpy())
    assert not np.array_equal(first, pooled._train_batch(tf.constant(2, tf.int64))[0].numpy())
    fresh = tuples.TuplesTask(tuples.TuplesConfig(k=1, batch_size=10, train_pool=None), [0])
    batch = fresh._train_batch(tf.constant(1, tf.int64))[0].numpy()
    assert not np.array_equal(batch, fresh._train_batch(tf.constant(4, tf.int64))[0].numpy())


def test_the_test_set_is_fixed_per_k_and_seed(tuples):
    a = tuples.TuplesTask(tuples.TuplesConfig(k=2, test_tuples=30), [0, 1])
    b = tuples.TuplesTask(tuples.TuplesConfig(k=2, test_tuples=30, method="dec"), [1])
    assert a.test_images.shape == (2, 30, 2, 28, 28)
    assert np.array_equal(a.test_images[1].numpy(), b.test_images[0].numpy())
    assert not np.array_equal(a.test_images[0].numpy(), a.test_images[1].numpy())


def test_evaluation_covers_every_test_tuple_in_chunks(tuples, tf, monkeypatch):
    monkeypatch.setattr(tuples, "EVAL_CHUNK", 7)  # 30 = 4 chunks of 7 and one of 2
    task = tuples.TuplesTask(tuples.TuplesConfig(k=2, test_tuples=30), [0])
    chunked = {name: v.numpy()[0] for name, v in task.evaluate(tf.constant(0)).items()}
    scores, outputs = task.nets(task.test_images)
    labels, per_image = task.test_labels.numpy(), task.test_image_labels.numpy()
    assert chunked["accuracy"] == pytest.approx(np.mean(labels * outputs.numpy() > 0))
    assert chunked["image_accuracy"] == pytest.approx(np.mean(per_image * scores.numpy() > 0))
    hinge = np.maximum(0, 1 - per_image * scores.numpy())
    assert chunked["image_loss"] == pytest.approx(hinge.mean(), rel=1e-5)


def test_seed_in_an_ensemble_equals_seed_alone(tf, tmp_path):
    hparams = {**TINY, "method": "dec"}
    ensemble = train(tmp_path / "ens", [0, 1], hparams)
    alone = train(tmp_path / "one", [1], hparams)
    together = pd.read_csv(ensemble[1] / "metrics.csv")
    single = pd.read_csv(alone[1] / "metrics.csv")
    assert together[["step", "split", "metric"]].equals(single[["step", "split", "metric"]])
    assert np.allclose(together.value, single.value, atol=1e-4)
    with np.load(ensemble[1] / "arrays.npz") as e, np.load(alone[1] / "arrays.npz") as s:
        assert set(e.files) == set(s.files) >= {"conv1", "score", "middle", "out_b"}
        for name in e.files:
            assert np.allclose(e[name], s[name], atol=1e-4), name


def test_runs_are_tidy_and_repeatable(tf, tmp_path):
    first = train(tmp_path / "a", [3], TINY)[3]
    second = train(tmp_path / "b", [3], TINY)[3]
    assert (first / "metrics.csv").read_bytes() == (second / "metrics.csv").read_bytes()
    metrics = pd.read_csv(first / "metrics.csv")
    test = metrics[metrics.split == "test"]
    assert sorted(test.step.unique()) == [0, 10, 20, 30]
    assert set(test.metric) == {"accuracy", "loss", "image_accuracy", "image_loss"}
    assert test.value.between(0, 10).all()
    meta = json.loads((first / "meta.json").read_text())
    assert meta["hparams"]["k"] == 2 and meta["hparams"]["epsilon"] == 1e-5


def test_decomposition_learns_single_images_quickly(tf, tmp_path):
    hparams = {"k": 1, "method": "dec", "batch_size": 32, "steps": 200, "eval_every": 100}
    run = train(tmp_path, [0], {**hparams, "test_tuples": 500})[0]
    test = pd.read_csv(run / "metrics.csv").query("split == 'test' and metric == 'accuracy'")
    assert test.value.iloc[0] < 0.7  # chance at initialization
    assert test.value.iloc[-1] > 0.85
