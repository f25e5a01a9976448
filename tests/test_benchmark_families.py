"""The family benchmark: its FLOP count, and that its three ways train the same model.

No timing is asserted: every builder runs two steps, so that a broken benchmark fails here
rather than minutes into ``python scripts/bench/benchmark_families.py``.
"""

from __future__ import annotations

import dataclasses

import benchmark_families as bf
import numpy as np
import pytest


def test_the_tuple_cnn_flop_count_matches_a_hand_count():
    # conv1: 28·28 outputs × 16 filters × 25 taps; conv2: 14·14 × 16 × 25·16; dense 784·50,
    # 50·100, 100·1: 313 600 + 1 254 400 + 39 200 + 5 000 + 100 multiply-adds per image.
    assert bf.image_scorer_flops() == 2 * 1_612_300
    # k = 2, batch 200, 5 seeds: 400 images and N(2)'s 2·100 + 100 per tuple, × 3 for backward.
    per_seed = 200 * (2 * 3_224_600 + 2 * 300)
    assert bf.tuple_cnn_step_flops(k=2, batch=200, seeds=5) == 3 * 5 * per_seed
    assert bf.tuple_cnn_step_flops(k=2, batch=200) * 5 == bf.tuple_cnn_step_flops(2, 200, 5)


def test_timed_steps_are_whole_evaluation_intervals():
    curves = bf.BENCHMARKS["curves"]  # evaluates every 500 steps
    assert bf.timed_steps(curves, 1200) == 1000
    assert bf.timed_steps(curves, 10) == 500
    assert bf.timed_steps(curves, None) == curves.steps


SAME_BUILDERS = ("tuples-paper", "sharing-local")


def _sizes(variables) -> list[int]:
    return sorted(int(np.prod(v.shape)) for v in variables)


@pytest.fixture
def small(monkeypatch):
    """Smaller test sets and pools where they cost seconds: the same code in less time."""
    tuples_config = bf.tuples_config
    monkeypatch.setattr(
        bf,
        "tuples_config",
        lambda batch: dataclasses.replace(tuples_config(batch), test_tuples=100),
    )
    monkeypatch.setattr(bf, "TUPLE_POOL_BATCHES", 2)
    monkeypatch.setattr(bf, "STOCKS", dataclasses.replace(bf.STOCKS, k=100))
    monkeypatch.setattr(bf, "FLAT", dataclasses.replace(bf.FLAT, eval_samples=512))


# tuples-paper is tuples at another batch size, sharing-local sharing with other units (checked
# below): the same builders.
@pytest.mark.parametrize("name", [n for n in bf.BENCHMARKS if n not in SAME_BUILDERS])
def test_engine_session_and_keras_train_the_same_model(tf, small, name):
    bench = bf.BENCHMARKS[name]
    task, optimizer = bench.engine([0])
    session = bench.session(0)
    model, data = bench.keras(0)
    timings = [
        bf.time_engine(task, optimizer, steps=2, eval_every=2, warmup=1),
        bf.time_session(session, steps=2, eval_every=2, threads=1, warmup=1),
        bf.time_keras(model, data, bench.batch, steps=2, eval_every=2, warmup=1),
    ]
    for timing in timings:
        assert timing.seed_steps == 2
        assert np.isfinite(timing.loss)
        assert timing.rate > 0
    # Same layers: the same parameter tensors, sizes compared (the engine's carry a seed axis
    # of 1; a bias may be [1, n] there and [n] in the baselines).
    with session.graph.as_default():
        graph_variables = tf.compat.v1.trainable_variables()
    assert _sizes(task.trainable_variables) == _sizes(graph_variables)
    assert _sizes(task.trainable_variables) == _sizes(model.trainable_weights)
    # Keras takes the host batches the session is fed.
    x, y = bf.stack_batches(data, range(2))
    first = data.train_batch(0)
    assert x.shape[0] == y.shape[0] == 2 * bench.batch
    assert x.shape[1:] == first[0].shape[1:]


def test_the_baselines_sharing_units_are_the_familys(tf):
    from theorydl.families.sharing import model as sharing

    x = tf.random.stateless_normal([4, 10, 10], seed=[0, 1])
    for architecture, shape in (("shared", [10]), ("local", [10, 10])):
        cfg = bf.sharing_config(architecture)
        w = tf.random.stateless_normal(shape, seed=[0, 2])
        layer = sharing.LAYERS[architecture]
        expected = tf.tanh(cfg.steepness * layer(x[None], w[None]))[0]
        np.testing.assert_allclose(bf.sharing_units(cfg, x, w), expected, rtol=1e-5, atol=1e-6)


# The roofline's work counts, checked against the models the engine builds: an MLP's FLOPs are
# 6 per weight (not bias) and example; Adam streams 7 floats per weight of the stocks matrix.
MLP_WIDTHS = {
    "parity": lambda: [bf.PARITY.d, bf.PARITY.width, 1],
    "curves": lambda: bf.CURVE_WIDTHS,
    "flat": lambda: bf.FLAT_WIDTHS,
}


@pytest.mark.parametrize("name", sorted(MLP_WIDTHS))
def test_an_mlps_flops_are_six_per_weight_and_example(tf, small, name):
    bench = bf.BENCHMARKS[name]
    task, _ = bench.engine([0])
    parameters = sum(int(np.prod(v.shape)) for v in task.trainable_variables)
    biases = sum(MLP_WIDTHS[name]()[1:])
    assert bench.work().flops == 6 * bench.batch * (parameters - biases)
    assert bench.work().streamed_bytes == 0


def test_stocks_work_is_adams_pass_over_the_weights(tf, small):
    bench = bf.BENCHMARKS["stocks"]
    task, _ = bench.engine([0])
    weights = max(int(np.prod(v.shape)) for v in task.trainable_variables)
    assert weights == bf.STOCKS.d * bf.STOCKS.k == 1000 * 100  # the small fixture's k
    assert bench.work().streamed_bytes == 7 * 4 * weights


def test_the_roofline_takes_the_lower_bound_and_the_most_gain(capsys):
    rows = [
        {"benchmark": "flat", "engine": 400.0, "feed_dict": 200.0, "keras_fit": 100.0},
        {"benchmark": "stocks", "engine": 400.0, "feed_dict": 200.0, "keras_fit": 100.0},
    ]
    flat_work, stocks_work = bf.BENCHMARKS["flat"].work(), bf.BENCHMARKS["stocks"].work()
    found = bf.roofline(rows, peak_gflops=100.0, bandwidth_gbs=10.0)
    flat_bound = 100e9 / flat_work.flops
    assert found[0]["bound"] == "compute"
    assert found[0]["bound_seed_steps_per_s"] == pytest.approx(flat_bound)
    assert found[0]["share_of_bound"]["engine"] == pytest.approx(400 / flat_bound)
    assert found[0]["most_over_feed_dict"] == pytest.approx(flat_bound / 200)
    # 10 GB/s over 28 bytes × 1M weights: 357 steps/s, far below its FLOP bound.
    assert found[1]["bound"] == "memory"
    assert found[1]["bound_seed_steps_per_s"] == pytest.approx(10e9 / stocks_work.streamed_bytes)
    assert "most over feed_dict" in capsys.readouterr().out
