"""The weight-sharing family's data: teacher, targets, Walsh characters, patches, epochs,
and the hyperparameters and variants the config resolves to."""

import itertools

import numpy as np
import pytest


@pytest.fixture(scope="module")
def sharing(tf):
    from theorydl.families.sharing import model as sharing

    return sharing


@pytest.fixture(scope="module")
def spec():
    from theorydl.families.sharing import spec

    return spec


def all_signs(k: int) -> np.ndarray:
    return np.array(list(itertools.product([-1.0, 1.0], repeat=k)), dtype=np.float32)


@pytest.mark.parametrize("layout", ["disjoint", "nested"])
def test_walsh_characters_are_orthonormal(sharing, tf, layout):
    sets = sharing.supports(layout, 4)
    z = all_signs(10)  # every point of {±1}^10, uniformly weighted: exact expectations
    chi = sharing.characters(tf.constant(z), sets).numpy()
    assert chi.shape == (1024, 4)
    gram = chi.T @ chi / len(z)
    assert np.allclose(gram, np.eye(4), atol=1e-6)
    assert np.allclose(chi.mean(axis=0), 0.0, atol=1e-6)  # no constant part either
    masks = sharing.support_masks(sets, 10)
    explicit = np.prod(np.where(masks[None], z[:, None, :], 1.0), axis=-1)
    assert np.array_equal(chi, explicit)


def test_support_layouts(sharing):
    assert sharing.supports("disjoint", 4) == ((0,), (1, 2), (3, 4, 5), (6, 7, 8, 9))
    assert sharing.supports("nested", 4) == ((0,), (0, 1), (0, 1, 2), (0, 1, 2, 3))
    masks = sharing.support_masks(sharing.supports("disjoint", 4), 10)
    assert masks.sum(axis=1).tolist() == [1, 2, 3, 4]
    assert masks.sum(axis=0).max() == 1  # no patch in two supports


def test_walsh_target_has_unit_variance_and_known_coefficients(sharing, tf):
    cfg = sharing.SharingConfig(target="walsh")
    z = tf.constant(all_signs(10))
    y = sharing.outer_target(cfg, z).numpy()
    chi = sharing.characters(z, sharing.supports("disjoint", 4)).numpy()
    assert np.isclose(y.var(), 1.0, atol=1e-6)
    assert np.allclose(chi.T @ y / len(y), 0.5, atol=1e-6)  # 1/√J with J = 4


def test_frequency_targets_follow_their_formulas(sharing, tf):
    z = np.random.default_rng(0).uniform(-1, 1, size=(50, 10)).astype(np.float32)
    wave = np.cos(3.0 * z[:, :5].sum(axis=1))
    low = sharing.outer_target(sharing.SharingConfig(target="low"), tf.constant(z)).numpy()
    high = sharing.outer_target(
        sharing.SharingConfig(target="high", omega=3.0), tf.constant(z)
    ).numpy()
    mixed = sharing.outer_target(
        sharing.SharingConfig(target="mixed", omega=3.0, mix=0.5), tf.constant(z)
    ).numpy()
    assert np.allclose(low, z[:, 0])
    assert np.allclose(high, wave, atol=1e-5)
    assert np.allclose(mixed, (0.5 * z[:, 0] + wave) / 1.5, atol=1e-5)


def test_teacher_is_a_unit_filter_fixed_per_seed(sharing):
    u = sharing.teacher_filter(3, 10)
    assert u.shape == (10,) and np.isclose(np.linalg.norm(u), 1.0, atol=1e-6)
    assert np.array_equal(u, sharing.teacher_filter(3, 10))
    assert not np.allclose(u, sharing.teacher_filter(4, 10))


def test_teacher_units_are_tanh_or_sign_of_the_filter_response(sharing, tf):
    x = np.random.default_rng(1).normal(size=(2, 6, 10, 10)).astype(np.float32)
    u = np.random.default_rng(2).normal(size=(2, 1, 10)).astype(np.float32)
    pre = np.einsum("snkd,sid->snk", x, u)
    smooth = sharing.teacher_units(sharing.SharingConfig(), tf.constant(x), tf.constant(u))
    boolean = sharing.teacher_units(
        sharing.SharingConfig(target="walsh"), tf.constant(x), tf.constant(u)
    )
    assert np.allclose(smooth.numpy(), np.tanh(pre), atol=1e-5)
    assert np.array_equal(boolean.numpy(), np.sign(pre))


def test_ensemble_targets_are_the_teachers_function_of_its_inputs(sharing, tf):
    cfg = sharing.SharingConfig(target="mixed", omega=2.0, train_examples=200, eval_examples=50)
    net = sharing.SharingEnsemble(cfg, seeds=[5])
    x, u = net.x_train.numpy()[0], net.u0.numpy()[0]
    z = np.tanh(np.einsum("nkd,d->nk", x, u))
    expected = (z[:, 0] + np.cos(2.0 * z[:, :5].sum(axis=1))) / 2.0
    assert np.allclose(net.y_train.numpy()[0], expected, atol=1e-5)
    # The teacher is a student with the teacher's filter: zero loss on the held-out set.
    net.w.assign(net.u0)
    assert np.allclose(net.evaluate(tf.constant(0, tf.int64))["normalised_loss"], 0.0, atol=1e-6)


def test_wave_share_is_the_cos_parts_variance_share(sharing, tf):
    def share(**hparams):
        cfg = sharing.SharingConfig(train_examples=100, eval_examples=4000, **hparams)
        return float(sharing.SharingEnsemble(cfg, seeds=[0]).wave_share[0])

    assert share(target="low") == 0.0
    assert np.isclose(share(target="high"), 1.0, atol=1e-6)
    more_linear, less_linear = share(target="mixed", mix=5.0), share(target="mixed", mix=0.25)
    assert 0.0 < more_linear < less_linear < 1.0


def test_data_depend_on_the_seed_not_on_the_architecture(sharing):
    shared = sharing.SharingEnsemble(
        sharing.SharingConfig(architecture="shared", train_examples=100, eval_examples=20), [0, 1]
    )
    local = sharing.SharingEnsemble(
        sharing.SharingConfig(architecture="local", train_examples=100, eval_examples=20), [1]
    )
    assert np.array_equal(shared.x_train.numpy()[1], local.x_train.numpy()[0])
    assert np.array_equal(shared.u0.numpy()[1], local.u0.numpy()[0])
    assert not np.array_equal(shared.x_train.numpy()[0], shared.x_train.numpy()[1])


def assert_patches_come_from_disjoint_images(sharing, cfg, pool, data_dir=None):
    train = sharing.natural_patches(0, cfg, False, data_dir).numpy()
    test = sharing.natural_patches(0, cfg, True, data_dir).numpy()
    assert train.shape == (cfg.train_examples, cfg.k, cfg.d)
    assert test.shape == (cfg.eval_examples, cfg.k, cfg.d)
    pool_rows = {row.tobytes() for row in pool.reshape(-1, cfg.d)}
    train_rows = {row.tobytes() for row in train.reshape(-1, cfg.d)}
    test_rows = {row.tobytes() for row in test.reshape(-1, cfg.d)}
    assert train_rows <= pool_rows and test_rows <= pool_rows
    blank = np.zeros(cfg.d, np.float32).tobytes()  # empty corners occur in many images
    assert not (train_rows & test_rows) - {blank}


def test_digit_patches_are_centred_cut_from_disjoint_images(sharing):
    pool = sharing.window_pool("digits", 4, 1, None)
    assert pool.shape == (1797, 25, 16)  # 25 windows of 4×4 in an 8×8 image
    assert np.allclose(pool.mean(axis=-1), 0.0, atol=1e-5)
    assert np.isclose(np.mean(pool**2), 1.0, atol=1e-4)
    cfg = sharing.SharingConfig(patches="digits", d=16, train_examples=300, eval_examples=100)
    assert_patches_come_from_disjoint_images(sharing, cfg, pool)


def test_mnist_patches_are_strided_windows_of_the_dataset_file(sharing, tmp_path):
    from theorydl import datasets

    images = np.random.default_rng(0).integers(0, 256, (40, 28, 28), dtype=np.uint8)
    images[:, :, :3] = 0  # a blank left border, as MNIST has
    labels = np.arange(40) % 10
    datasets.write(tmp_path / "mnist.npz", images, labels, labels >= 8, {"source": "test"})
    pool = sharing.window_pool("mnist", 10, 5, tmp_path)
    assert pool.shape == (40, 16, 100)  # offsets 0, 5, 10, 15 in each direction
    assert np.allclose(pool.mean(axis=-1), 0.0, atol=1e-5)
    assert np.isclose(np.mean(pool**2), 1.0, atol=1e-4)
    # Window (row 1, column 2) of image 3 is its pixels [5:15, 10:20], centred and scaled.
    window = images[3, 5:15, 10:20].astype(np.float64).ravel()
    window -= window.mean()
    ratio = pool[3, 1 * 4 + 2] / window
    assert np.allclose(ratio, ratio[0], rtol=1e-4) and ratio[0] > 0
    cfg = sharing.SharingConfig(
        patches="mnist", d=100, patch_stride=5, train_examples=200, eval_examples=100
    )
    assert_patches_come_from_disjoint_images(sharing, cfg, pool, tmp_path)


def test_mnist_patches_without_the_dataset_say_what_makes_it(sharing):
    cfg = sharing.SharingConfig(patches="mnist", d=100, patch_stride=5)
    with pytest.raises(ValueError, match="rule dataset makes the file"):
        sharing.natural_patches(0, cfg, False, None)


def test_an_epoch_visits_every_training_example_once(sharing, tf):
    cfg = sharing.SharingConfig(train_examples=500, batch_size=100, eval_examples=10)
    net = sharing.SharingEnsemble(cfg, seeds=[0, 1])
    first = net._epoch_order(tf.constant(0, tf.int64)).numpy()
    assert sorted(first[0]) == list(range(500)) and sorted(first[1]) == list(range(500))
    assert not np.array_equal(first[0], first[1])  # each seed has its own order
    second = net._epoch_order(tf.constant(1, tf.int64)).numpy()
    assert not np.array_equal(first, second)
    again = net._epoch_order(tf.constant(0, tf.int64)).numpy()
    assert np.array_equal(first, again)  # a pure function of (seed, epoch)
    assert cfg.steps_per_epoch == 5 and sharing.SharingConfig(epochs=3).steps == 300


def test_regime_defaults_fill_the_optimizer(sharing):
    known = sharing.SharingConfig(g="known")
    learned = sharing.SharingConfig(g="learned")
    walsh = sharing.SharingConfig(target="walsh")
    assert (known.optimizer, known.learning_rate, known.steepness) == ("sgd", 0.01, 1.0)
    assert (learned.optimizer, learned.learning_rate, learned.steepness) == ("adam", 1e-3, 1.0)
    assert (walsh.optimizer, walsh.learning_rate, walsh.steepness) == ("sgd", 0.05, 4.0)
    assert sharing.SharingConfig(g="learned", learning_rate=0.01).optimizer == "adam"


@pytest.mark.parametrize(
    ("hparams", "message"),
    [
        ({"architecture": "conv"}, "architecture must be one of shared, local, dense"),
        ({"target": "walsh", "g": "learned"}, "g must be known"),
        ({"target": "walsh", "patches": "digits", "d": 16}, "needs Gaussian patches"),
        ({"patches": "digits", "d": 10}, "d must be s²"),
        ({"patches": "mnist", "d": 100, "patch_stride": 20}, "patch_stride must lie in"),
        ({"cos_units": 11}, "cos_units must lie in [1, k=10]"),
        ({"train_examples": 1050}, "multiple of batch_size"),
        ({"target": "walsh", "degrees": 5}, "need 15 patches, but k = 10"),
    ],
)
def test_bad_hyperparameters_are_refused(sharing, hparams, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        sharing.SharingConfig(**hparams)


BLOCK = {
    "architectures": ["shared", "local"],
    "curves": {"targets": ["low", "mixed"], "g": ["known", "learned"], "omega": 2, "mix": 1},
    "omega_sweep": {"targets": ["mixed"], "omegas": [1, 2], "mix": 1, "g": ["known"]},
    "mix_sweep": {"mixes": [1, 5], "omega": 2, "g": ["known"]},
    "walsh": {"architectures": ["local"], "dims": {"disjoint": [10, 50]}, "curve_dim": 50},
    "natural": {
        "patches": {"digits": {"d": 16, "patch_stride": 1}},
        "targets": ["mixed"],
        "g": ["known"],
        "omega": 2,
        "mix": 1,
    },
    "regime_hparams": {"learned": {"epochs": 7}},
}


def test_variants_are_named_once_and_jobs_cover_each_once(spec):
    variants = spec.variants(BLOCK)
    assert "mixed-w2-c1-known-shared" in variants  # in curves and both sweeps: once
    assert variants["mixed-w1-c1-known-local"] == {
        "target": "mixed",
        "omega": 1.0,
        "mix": 1.0,
        "g": "known",
        "architecture": "local",
    }
    assert variants["low-learned-shared"]["epochs"] == 7  # the regime's override
    assert variants["walsh-disjoint-d50-local"]["d"] == 50
    assert variants["digits-mixed-w2-c1-known-local"]["patches"] == "digits"
    # 2 targets × 2 g × 2 arch + ω=1 (2) + C=5 (2) + Walsh (2) + digits (2)
    assert len(variants) == 16
    jobs = spec.jobs(BLOCK)
    listed = [v for members in jobs.values() for v in members]
    assert sorted(listed) == sorted(variants)
    assert jobs["omega_sweep_mixed_known"] == [
        "mixed-w1-c1-known-shared",
        "mixed-w1-c1-known-local",
    ]
    assert jobs["walsh_disjoint"] == ["walsh-disjoint-d10-local", "walsh-disjoint-d50-local"]
    assert "mix_sweep_mixed_known" in jobs and "curves_low_learned" in jobs
    assert all(name.isidentifier() for name in jobs)  # they become rule names


def test_config_cross_checks(spec):
    bad = {**BLOCK, "walsh": {**BLOCK["walsh"], "curve_dim": 20}}
    assert any("curve_dim': value 20" in p for p in spec.check_config(bad, {}))
    assert any(
        "lacks shared or local" in p
        for p in spec.check_config({**BLOCK, "architectures": ["shared", "dense"]}, {})
    )
    assert spec.check_config(BLOCK, {}) == []


def test_variant_names_spell_their_setting(spec):
    name = spec.variant_name
    assert name({"target": "low", "g": "known", "architecture": "dense"}) == "low-known-dense"
    assert (
        name({"target": "high", "omega": 0.5, "g": "learned", "architecture": "local"})
        == "high-w0.5-learned-local"
    )
    assert (
        name({"target": "walsh", "layout": "nested", "d": 5, "architecture": "shared"})
        == "walsh-nested-d5-shared"
    )
    mixed = {"target": "mixed", "omega": 1.5, "mix": 0.25, "g": "known", "architecture": "local"}
    assert name(mixed) == "mixed-w1.5-c0.25-known-local"
    assert name({**mixed, "patches": "digits"}) == "digits-mixed-w1.5-c0.25-known-local"
