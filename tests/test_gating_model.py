"""GaLU networks: the gates (fixed, 0/1, never trained), the exact solver against numpy's least
squares, hill climbing (never worse, equal to a fresh solve), and the shared draws."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

from theorydl.families.gating import data, spec, theory


@pytest.fixture(scope="module")
def gating(tf):
    from theorydl.families.gating import model

    return model


def cell(**changes):
    return spec.GatingConfig(**{"m": 64, "d": 4, "k": 8, "batch_size": 16, **changes})


def test_gates_are_zero_or_one_and_ignore_the_vectors_scale():
    rng = np.random.default_rng(0)
    x, f = rng.standard_normal((50, 6)), rng.standard_normal((5, 6))
    g = data.gates(x, f)
    assert set(np.unique(g)) == {0.0, 1.0} and g.shape == (50, 5)
    assert np.array_equal(g, data.gates(x, 0.01 * f))  # the authors' 1/(α√d) changes nothing
    assert np.array_equal(g, (x @ f.T > 0).astype(float))


def test_features_make_galu_linear_in_its_weights():
    rng = np.random.default_rng(1)
    x, f, w = rng.standard_normal((30, 4)), rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    network = np.sum((x @ w.T) * data.gates(x, f), axis=1)
    assert np.allclose(data.features(x, data.gates(x, f)) @ w.ravel(), network)


def test_relu_and_galu_of_one_cell_see_the_same_draws(gating):
    relu = gating.GatingEnsemble(cell(learner="relu"), [0, 1])
    galu = gating.GatingEnsemble(cell(learner="galu"), [1])
    assert np.array_equal(relu.x_train.numpy()[1], galu.x_train.numpy()[0])
    assert np.array_equal(relu.y_train.numpy()[1], galu.y_train.numpy()[0])
    assert not np.array_equal(relu.x_train.numpy()[0], relu.x_train.numpy()[1])
    # The exact solution of the cell sees them too, and the same gates.
    x, y, f = theory._cell_arrays(cell(), [1])
    assert np.allclose(x[0], galu.x_train.numpy()[0]) and np.allclose(y[0], galu.y_train.numpy()[0])
    assert np.allclose(f[0].T, galu.f.numpy()[0])


def test_gates_are_never_trained(gating, tf, tmp_path):
    from theorydl import engine

    cfg = cell(learner="galu", steps=60, eval_every=30)
    task = gating.GatingEnsemble(cfg, [0, 1])
    before = task.f.numpy().copy()
    assert not task.f.trainable
    assert {v.name for v in task.trainable_variables} == {"w:0", "u:0"}
    with tf.GradientTape() as tape:
        tape.watch(task.f)
        loss = tf.reduce_sum(task.train_loss(tf.constant(0, tf.int64)))
    grad = tape.gradient(loss, task.f)
    assert grad is None or not np.any(grad.numpy())  # a step gate passes no gradient
    w_before = task.w.numpy().copy()
    ctx = engine.RunContext(
        "gating", "v", {0: tmp_path / "s0", 1: tmp_path / "s1"}, tmp_path / "ckpt", 3600.0
    )
    optimizer = engine.Adam(task.trainable_variables, cfg.learning_rate)
    engine.train(task, optimizer, engine.Schedule(cfg.steps, cfg.eval_every), ctx, {})
    assert np.array_equal(task.f.numpy(), before)
    assert not np.allclose(task.w.numpy(), w_before)  # the linear part did train


def test_a_pass_visits_every_training_point_once(gating, tf):
    key = tf.constant(np.array([3, 4], np.int64))
    m, batch = 48, 16
    first_pass = np.concatenate(
        [gating.epoch_batch(key, tf.constant(t), m, batch).numpy() for t in range(3)]
    )
    assert sorted(first_pass) == list(range(m))
    second_pass = np.concatenate(
        [gating.epoch_batch(key, tf.constant(t), m, batch).numpy() for t in range(3, 6)]
    )
    assert sorted(second_pass) == list(range(m)) and not np.array_equal(first_pass, second_pass)
    straddling = gating.epoch_batch(key, tf.constant(2), 40, batch).numpy()  # positions 32..47
    assert len(set(straddling[:8])) == 8 and len(set(straddling[8:])) == 8


def test_the_ensembles_cached_batches_are_epoch_batch(gating, tf):
    cfg = cell(m=40, batch_size=16)
    task = gating.GatingEnsemble(cfg, [0, 3])
    # Passes entered in order (the next pass's cached order reused), straddling batches,
    # going back, and jumping ahead.
    for step in [*range(13), 2, 0, 11, 30]:
        cached = task.batches(tf.constant(step, tf.int64)).numpy()
        for i, key in enumerate(task.batches.keys):
            expected = gating.epoch_batch(key, tf.constant(step, tf.int64), 40, 16).numpy()
            assert np.array_equal(cached[i], expected), (step, i)


def test_the_exact_solver_is_numpys_least_squares():
    x, y, f = theory._cell_arrays(cell(), [0, 1, 2])
    phi = theory.features_batched(x, f)
    w = theory.exact_weights(phi, y)
    for r in range(3):
        expected, *_ = np.linalg.lstsq(phi[r], y[r], rcond=None)
        assert np.allclose(w[r], expected, atol=1e-10)
    # 32 weights for 64 points of pure noise: about half the energy is left.
    assert 0.2 < theory.mse(phi, w, y).mean() < 0.8


def test_hill_climbing_never_increases_the_loss_and_matches_a_fresh_solve():
    x, y, f = theory._cell_arrays(cell(), [0, 1, 2, 3])
    state = theory.hill_climb(x, y, f, 40, np.random.default_rng(0))
    history = np.array(state.history)
    assert history.shape == (41, 4)
    assert np.all(np.diff(history, axis=0) <= 1e-9)
    assert state.accepted.sum() > 0 and history[-1].mean() < history[0].mean()
    phi = theory.features_batched(x, state.f)
    fresh = theory.mse(phi, theory.exact_weights(phi, y), y)
    assert np.allclose(fresh, history[-1] / x.shape[1], rtol=1e-8)
    assert not np.array_equal(state.f, f)  # the gates moved, the input was not modified
    assert np.array_equal(f, theory._cell_arrays(cell(), [0, 1, 2, 3])[2])


def test_each_hill_climbing_decision_is_that_of_a_fresh_solve():
    # The update scores a proposal through the inverse Gram; a fresh least-squares solve with
    # the proposed gates must agree on every accept and reject (where the two losses differ).
    x, y, f = theory._cell_arrays(cell(), [0, 1, 2])
    state = theory.start_climb(x, y, f.copy())
    rng = np.random.default_rng(1)
    k, d = f.shape[1:]
    decided = 0
    for _ in range(30):
        unit, proposal = int(rng.integers(k)), rng.standard_normal((3, d))
        trial = state.f.copy()
        trial[:, unit] = proposal
        phi = theory.features_batched(x, trial)
        fresh = theory.mse(phi, theory.exact_weights(phi, y), y) * x.shape[1]
        before, accepted = state.history[-1].copy(), state.accepted.copy()
        theory.climb_step(state, x, y, unit, proposal)
        clear = np.abs(fresh - before) > 1e-8 * before
        took = (state.accepted - accepted)[clear] == 1
        assert np.array_equal(took, fresh[clear] < before[clear])
        decided += clear.sum()
    assert decided > 60 and 0 < state.accepted.sum() < 90  # both kinds of decision were tested


def test_label_noise_reaches_the_test_labels_too():
    noisy = data.noise_data(0, cell(experiment="noise", task="classification", noise=1.0))
    clean = data.noise_data(0, cell(experiment="noise", task="classification", noise=0.0))
    assert np.array_equal(noisy.x_test, clean.x_test)  # the same points at every σ_y
    for split in ("y_train", "y_test"):
        flipped = np.mean(getattr(noisy, split) != getattr(clean, split))
        assert 0.4 < flipped < 0.6  # p = σ_y / 2 = 0.5
    regression = data.noise_data(0, cell(experiment="noise", noise=0.5))
    base = data.noise_data(0, cell(experiment="noise", noise=0.0))
    assert 0.4 < np.std(regression.y_test - base.y_test) < 0.6


def test_the_memorisation_grid_keeps_the_cells_with_kd_at_most_m():
    block = {"memorise": {"ms": [256, 512], "dims": [8, 16], "widths": [16, 32]}}
    cells = spec.memorise_cells(block)
    assert (256, 16, 32) not in cells and (512, 16, 32) in cells
    assert all(k * d <= m for m, d, k in cells) and len(cells) == 7


# --------------------------------------------------------------------------------------------
# Fig 5: the width search.


def authors_search(min_k, max_k, target, loss_at):
    """The loop of the authors' minimal_k.py, transcribed line by line."""
    binary_search_size = int(np.log2(max_k - min_k + 1)) + 2
    tested_k, tried = set(), []
    for _ in range(binary_search_size):
        k = (max_k + min_k) // 2
        if k in tested_k:
            k = k + 1
            if k in tested_k:
                break
        tested_k.add(k)
        train_loss = loss_at(k)
        tried.append((k, train_loss))
        if train_loss > target:
            min_k = k
        if train_loss < target:
            max_k = k
    return tried


@pytest.mark.parametrize("threshold", [1, 2, 16, 37, 93, 255, 256, 257, 406, 511, 512, 600])
def test_the_width_search_is_the_authors_and_finds_the_threshold(threshold):
    def loss_at(k):  # a width fits from ``threshold`` on
        return 0.1 if k >= threshold else 1.0

    tried = spec.width_search(1, 512, 0.3, loss_at)
    assert tried == authors_search(1, 512, 0.3, loss_at)
    assert len(tried) <= spec.search_probes(1, 512) == 11
    assert tried[0][0] == 256
    found = spec.minimal_width(tried, 0.3)
    # It finds the threshold within the range; past it, the search ends at max + 1 or above.
    if threshold <= 512:
        assert found == threshold
    else:
        assert np.isnan(found) or found > 512


def test_a_loss_equal_to_the_target_moves_neither_end():
    tried = spec.width_search(1, 16, 0.3, lambda k: 0.3)
    assert [k for k, _ in tried] == [8, 9]  # then 8 and 9 were both tried: the search stops
    assert np.isnan(spec.minimal_width(tried, 0.3))


def test_a_width_search_network_has_biases_and_d_outputs(gating, tf):
    cfg = cell(experiment="width", outputs=3, bias=True, k=5)
    task = gating.GatingEnsemble(cfg, [0, 1])
    assert task.y_train.shape == (2, 64, 3)
    assert task.outputs(task.x_train).shape == (2, 64, 3)
    assert {v.name for v in task.trainable_variables} == {"w:0", "u:0", "b:0", "c:0"}
    assert np.all(np.abs(task.b.numpy()) <= 1 / np.sqrt(4))  # PyTorch's default bias bounds
    assert np.all(np.abs(task.c.numpy()) <= 1 / np.sqrt(5))
    out = task.outputs(task.x_train)
    loss = task.losses(out, task.y_train)  # per point: the mean over the d′ outputs
    assert loss.shape == (2, 64)
    assert np.allclose(loss.numpy(), np.mean((out.numpy() - task.y_train.numpy()) ** 2, axis=-1))
    scalar = gating.GatingEnsemble(dataclasses.replace(cfg, outputs=1), [0])
    assert scalar.outputs(scalar.x_train).shape == scalar.y_train.shape == (1, 64)
    # The targets do not depend on the width, so every probe of a search fits the same data.
    wider = gating.GatingEnsemble(dataclasses.replace(cfg, k=9), [0, 1])
    assert np.array_equal(wider.y_train.numpy(), task.y_train.numpy())


def test_a_stopped_width_search_resumes_at_its_first_unfinished_probe(gating, tf, tmp_path):
    from theorydl import engine, runs

    cfg = cell(experiment="width", outputs=2, bias=True, max_width=8, steps=40, eval_every=20)
    seeds = [0, 1]

    def context():
        return engine.RunContext(
            family="gating",
            variant="width-relu-o2",
            out_dirs={s: tmp_path / "runs" / "width-relu-o2" / f"seed{s}" for s in seeds},
            checkpoint_dir=tmp_path / "checkpoints" / "width-relu-o2",
        )

    trained, real = [], gating.train_network

    def stop_at_the_third(probe_cfg, probe_seeds, ctx):
        if len(trained) == 2:
            raise KeyboardInterrupt  # as a kill would, between two probes
        trained.append(probe_cfg.k)
        real(probe_cfg, probe_seeds, ctx)

    gating.train_network = stop_at_the_third
    try:
        with pytest.raises(KeyboardInterrupt):
            gating.search_width(cfg, seeds, context())
    finally:
        gating.train_network = real
    assert trained == [4, 6] and not (tmp_path / "runs").exists()

    again = []

    def count(probe_cfg, probe_seeds, ctx):
        again.append(probe_cfg.k)
        real(probe_cfg, probe_seeds, ctx)

    gating.train_network = count
    try:
        gating.search_width(cfg, seeds, context())
    finally:
        gating.train_network = real
    run = runs.read_run(
        tmp_path / "runs" / "width-relu-o2" / "seed1", "gating", "width-relu-o2", 1, {}
    )
    widths = list(run.arrays()["widths"])
    assert widths[:2] == [4, 6] and again == widths[2:]  # the two finished probes were kept
    assert [p["k"] for p in run.meta["probes"]] == widths
    assert set(run.metrics.metric) >= {f"train_loss@k{k}" for k in widths}

    # The probes stay until the family's aggregate job removes them: the job run again (as
    # after a kill before Snakemake recorded it done) trains none of them.
    third = []
    gating.train_network = lambda probe_cfg, probe_seeds, ctx: third.append(probe_cfg.k)
    try:
        gating.search_width(cfg, seeds, context())
    finally:
        gating.train_network = real
    assert third == []


# --------------------------------------------------------------------------------------------
# Fig 1: real images.


def test_pca_whitening_gives_the_identity_covariance_on_the_images_it_was_fitted_on():
    rng = np.random.default_rng(4)
    mixing = rng.standard_normal((30, 30)) * np.linspace(3, 0.01, 30)  # unequal variances
    x = rng.standard_normal((2000, 30)) @ mixing.T + 5.0
    mean, projection = data.pca_whitening(x, 8)
    white = (x - mean) @ projection
    assert projection.shape == (30, 8)
    assert np.allclose(white.mean(axis=0), 0, atol=1e-10)
    assert np.allclose(np.cov(white, rowvar=False, bias=True), np.eye(8), atol=1e-10)
    # The top components: no direction kept has less variance than one left out.
    kept = np.linalg.norm(projection, axis=0) ** -2  # each component's variance
    assert np.all(np.diff(kept) <= 1e-9)
    with pytest.raises(ValueError, match="lower pca_dims"):
        data.pca_whitening(x[:, :3] @ np.ones((3, 10)), 5)  # rank 1: no 5 directions


def test_the_validation_part_is_stratified_and_the_same_draw_every_time():
    labels = np.repeat(np.arange(10), [100, 120, 80, 90, 110, 100, 95, 105, 100, 100])
    held = data.validation_part(labels, 0.1, "mnist")
    for c in range(10):
        assert held[labels == c].sum() == round(0.1 * (labels == c).sum())
    assert np.array_equal(held, data.validation_part(labels, 0.1, "mnist"))
    assert not np.array_equal(held, data.validation_part(labels, 0.1, "fashion_mnist"))


def image_cfg(**changes):
    base = {"experiment": "images", "dataset": "mnist", "k": 6, "pca_dims": 8, "batch_size": 16}
    return spec.GatingConfig(**{**base, **changes})


def fake_images(n=120, dims=8):
    rng = np.random.default_rng(0)

    def part(count):
        x = rng.standard_normal((count, dims)).astype(np.float32)
        return x, rng.integers(0, 10, count)

    return data.Whitened(*part(n), *part(30), *part(40))


def test_galu0_gates_read_the_input_at_the_authors_scale_and_are_never_trained(gating, tf):
    cfg = image_cfg(learner="galu0", alpha=0.5, layers=2)
    task = gating.ImageEnsemble(cfg, [0, 1], fake_images())
    assert {v.name for v in task.trainable_variables} == {
        "w0:0",
        "w1:0",
        "b0:0",
        "b1:0",
        "u:0",
        "c:0",
    }
    f = task.f.numpy()
    assert f.shape == (2, 2, 8, 6)  # seeds, layers, input dimension, width
    # N(0, 1)/(α·d): with whitened inputs a gate's pre-activation has sd 1/(α√d).
    assert abs(f.std() * 0.5 * 8 - 1) < 0.15
    unit = data.image_gate_vectors(0, dataclasses.replace(cfg, alpha=2.0))
    assert np.allclose(unit * 2.0, f[0] * 0.5)  # α scales the same directions
    with tf.GradientTape() as tape:
        tape.watch(task.f)
        loss = tf.reduce_sum(task.train_loss(tf.constant(0, tf.int64)))
    assert tape.gradient(loss, task.f) is None  # a sigmoid has a slope; the gates take none
    assert not task.f.trainable  # and the optimizer sees w, b, u, c alone
    from theorydl import engine

    before = task.f.numpy().copy()
    loop = engine._Loop(task, engine.Adam(task.trainable_variables, 1e-2))
    loop.advance(tf.constant(20, tf.int64))
    assert np.array_equal(task.f.numpy(), before)  # trained 20 steps, the gates as drawn
    assert not np.array_equal(
        task.w[0].numpy(), gating.ImageEnsemble(cfg, [0, 1], fake_images()).w[0].numpy()
    )


def test_the_image_networks_differ_only_in_their_activation(gating, tf):
    images = fake_images()
    x = tf.constant(images.x_test)[None]
    nets = {
        learner: gating.ImageEnsemble(image_cfg(learner=learner), [3], images)
        for learner in ("relu", "galu0", "linear")
    }
    assert np.array_equal(nets["relu"].w[0].numpy(), nets["linear"].w[0].numpy())
    linear = nets["linear"]
    hidden = x
    for layer in range(2):
        hidden = tf.matmul(hidden, linear.w[layer]) + linear.b[layer][:, None, :]
    expected = tf.matmul(hidden, linear.u) + linear.c[:, None, :]
    assert np.allclose(linear.logits(x).numpy(), expected.numpy(), atol=1e-5)
    metrics = nets["relu"].evaluate(tf.constant(0, tf.int64))
    assert set(metrics) == {
        f"{s}_{m}" for s in ("train", "validation", "test") for m in ("error", "loss")
    }
    assert metrics["test_error"].shape == (1,)


def test_the_paper_selects_on_test_and_the_honest_selection_on_validation():
    from theorydl.families.gating import analysis

    rows = []
    for rate, validation, test in [(1e-3, 0.10, 0.30), (1e-4, 0.20, 0.05)]:
        for seed in (0, 1):
            rows.append(
                {
                    "dataset": "fashion_mnist",
                    "learner": "relu",
                    "k": 48,
                    "learning_rate": rate,
                    "alpha": np.nan,
                    "seed": seed,
                    "steps": 100,
                    "train_error": 0.0,
                    "validation_error": validation,
                    "test_error": test + 0.01 * seed,
                }
            )
    chosen = analysis.images_summary(pd.DataFrame(rows)).set_index("selection")
    assert chosen.loc["test", "learning_rate"] == 1e-4
    assert chosen.loc["validation", "learning_rate"] == 1e-3
    assert np.isclose(chosen.loc["validation", "test_error_mean"], 0.305)
    assert chosen.loc["test", "published"] == pytest.approx(0.129)  # 12.9 % at k = 48
