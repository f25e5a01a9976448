"""Hierarchical digits: the generator (shapes, latent classes consistent with the pixels, the
label fixing the top image, seeded draws) and the cluster-agreement scores."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import fake_real_images
from sklearn.metrics import homogeneity_score, normalized_mutual_info_score

from theorydl.families.hierarchical import spec
from theorydl.families.hierarchical.data import PATCH, make_grammar, sample

CLEAN = spec.HierarchicalConfig(noise=0.0, distractors=0.0)


def blocks(grid: np.ndarray) -> np.ndarray:
    """``[s, s]`` → ``[s/3, s/3, 3, 3]``: the children of every cell of the level above."""
    cells = grid.shape[0] // PATCH
    return grid.reshape(cells, PATCH, cells, PATCH).transpose(0, 2, 1, 3)


def test_shapes_and_latent_levels():
    drawn = sample(make_grammar(spec.HierarchicalConfig()), 7, seed=0, stream="t")
    assert drawn.images.shape == (7, 27, 27)
    assert drawn.labels.shape == (7,)
    assert [latent.shape for latent in drawn.latents] == [(7, 9, 9), (7, 3, 3)]
    three = spec.HierarchicalConfig(classes=[4, 4, 4])
    deeper = sample(make_grammar(three), 2, seed=0, stream="t")
    assert deeper.images.shape == (2, 81, 81) and three.side == 81
    assert [latent.shape for latent in deeper.latents] == [(2, 27, 27), (2, 9, 9), (2, 3, 3)]


def test_the_label_fixes_the_top_image_among_its_layouts():
    grammar = make_grammar(CLEAN)
    drawn = sample(grammar, 300, seed=1, stream="t")
    for label, top in zip(drawn.labels, drawn.latents[-1], strict=True):
        assert any((top == layout).all() for layout in grammar.layouts[label])
    # No two labels share a layout, so the top image determines the label.
    flat = grammar.layouts.reshape(-1, 9)
    assert len({row.tobytes() for row in flat}) == len(flat)


def test_every_level_is_a_rule_of_the_level_above_and_the_pixels_a_template():
    grammar = make_grammar(CLEAN)
    drawn = sample(grammar, 50, seed=2, stream="t")
    for i in range(50):
        lowest = drawn.latents[0][i]
        pixels = blocks(drawn.images[i])
        for (r, c), cls in np.ndenumerate(lowest):
            assert any((pixels[r, c] == t).all() for t in grammar.templates[cls])
        children = blocks(lowest)
        for (r, c), cls in np.ndenumerate(drawn.latents[1][i]):
            assert any((children[r, c] == rule).all() for rule in grammar.expansions[0][cls])


def test_the_model_is_unambiguous_and_the_empty_class_is_blank():
    grammar = make_grammar(CLEAN)
    assert not grammar.templates[0].any() and not grammar.expansions[0][0].any()
    grids = grammar.expansions[0][1:].reshape(-1, 9)
    assert len({g.tobytes() for g in grids}) == len(grids)  # no grid is two classes' variant
    lit = grammar.templates[1:].reshape(-1, 9)
    distances = (lit[:, None, :] != lit[None, :, :]).sum(-1) + 9 * np.eye(len(lit), dtype=int)
    assert distances.min() >= 2


def test_class_frequencies_are_not_degenerate():
    drawn = sample(make_grammar(spec.HierarchicalConfig()), 2000, seed=0, stream="t")
    for level, classes in enumerate(spec.HierarchicalConfig().classes):
        shares = (
            np.bincount(drawn.latents[level].ravel(), minlength=classes) / drawn.latents[level].size
        )
        assert shares.max() < 0.35 and shares.min() > 0.03, (level, shares)


def test_seeds_and_streams_reproduce_draws():
    grammar = make_grammar(spec.HierarchicalConfig())
    a, b = sample(grammar, 20, 3, "train"), sample(grammar, 20, 3, "train")
    assert np.array_equal(a.images, b.images) and np.array_equal(a.labels, b.labels)
    other_seed, other_stream = sample(grammar, 20, 4, "train"), sample(grammar, 20, 3, "test")
    assert not np.array_equal(a.images, other_seed.images)
    assert not np.array_equal(a.images, other_stream.images)
    assert np.array_equal(make_grammar(spec.HierarchicalConfig()).layouts, grammar.layouts)
    changed = make_grammar(spec.HierarchicalConfig(grammar_seed=1))
    assert not np.array_equal(changed.layouts, grammar.layouts)


def test_noise_and_distractors_touch_only_what_they_should():
    clean_cfg = spec.HierarchicalConfig(noise=0.0, distractors=1.0)
    drawn = sample(make_grammar(clean_cfg), 30, seed=0, stream="t")
    marks = blocks(drawn.images[0])[drawn.latents[0][0] == 0]
    assert (marks.reshape(len(marks), -1).sum(-1) == 2).all()  # every empty cell: a 2-pixel mark
    noisy = sample(make_grammar(spec.HierarchicalConfig(noise=0.5)), 2000, seed=0, stream="t")
    residual = noisy.images - np.round(noisy.images)
    assert 0.2 < residual.std() < 0.5


@pytest.mark.parametrize("bad", [{"classes": [1, 8]}, {"noise": -1}, {"learner": "cnn"}])
def test_bad_settings_are_refused(bad):
    with pytest.raises(ValueError):
        spec.HierarchicalConfig(**bad)


def test_agreement_matches_scikit_learn_and_a_known_partition():
    from theorydl.families.hierarchical.model import agreement, kmeans_ids

    rng = np.random.default_rng(0)
    truth = rng.integers(0, 4, size=500)
    found = (truth * 2 + rng.integers(0, 2, size=500)) % 8  # each class split in two
    scores = agreement(found, truth)
    assert scores["homogeneity"] == pytest.approx(homogeneity_score(truth, found))
    assert scores["nmi"] == pytest.approx(normalized_mutual_info_score(truth, found))
    assert scores["homogeneity"] == pytest.approx(1.0) and scores["purity"] == 1.0
    mixed = agreement(truth // 2, truth)  # two classes per cluster
    assert mixed["purity"] == pytest.approx(0.5, abs=0.05) and mixed["homogeneity"] < 0.6
    # k-means recovers a known partition of well-separated blobs, up to the ids' names.
    centres = 10 * rng.standard_normal((5, 3))
    labels = rng.integers(0, 5, size=(40, 4))
    points = centres[labels] + 0.1 * rng.standard_normal((40, 4, 3))
    ids, ids_test = kmeans_ids(points, points[:5], 5, seed=0, points=1000, stream="t")
    assert agreement(ids, labels)["nmi"] == pytest.approx(1.0)
    assert np.array_equal(ids_test, ids[:5])


def test_real_images_are_cropped_seeded_draws_of_their_split(tmp_path, monkeypatch):
    from theorydl.families.hierarchical.data import real_sample

    fake = fake_real_images(monkeypatch, train=300, test=100)
    cfg = spec.HierarchicalConfig(experiment="fashion")
    drawn = real_sample(cfg, 50, seed=3, split="train", data_dir=tmp_path)
    assert drawn.images.shape == (50, 27, 27) and drawn.latents == ()
    # Each image is one of the split's, cropped (last row and column dropped), with its label.
    first = np.flatnonzero((fake["train"][0][:, :27, :27] == drawn.images[0]).all(axis=(1, 2)))
    assert len(first) == 1 and fake["train"][1][first[0]] == drawn.labels[0]
    again = real_sample(cfg, 50, seed=3, split="train", data_dir=tmp_path)
    assert np.array_equal(again.images, drawn.images)
    other = real_sample(cfg, 50, seed=4, split="train", data_dir=tmp_path)
    assert not np.array_equal(other.labels, drawn.labels)
    with pytest.raises(ValueError, match="has 100"):
        real_sample(cfg, 101, seed=0, split="test", data_dir=tmp_path)


def test_a_config_asking_more_images_than_fashion_mnist_has_is_refused(repo, paper):
    from helpers import resolve

    from theorydl.config import ConfigError

    with pytest.raises(
        ConfigError, match="asks 20000 test images of fashion_mnist, which has 10000"
    ):
        resolve(repo, paper, hierarchical={"hparams": {"test_examples": 20000}})
    with pytest.raises(ConfigError, match="lacks e2e"):
        resolve(repo, paper, hierarchical={"fashion": {"learners": ["layerwise"]}})
    variants = resolve(repo, paper)["_variants"]["hierarchical"]
    assert len(variants) == 4 * (8 + 6 + 5 + 1)  # learners × (sizes, noises, variants, fashion)
