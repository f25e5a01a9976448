"""The line-image generator: the authors' pixels, angles, labels, parity and streams."""

import numpy as np
import pytest


@pytest.fixture(scope="module")
def tuples(tf):
    from theorydl.families.tuples import model as tuples

    return tuples


def authors_line_image(theta: float, length: float, centre: np.ndarray) -> np.ndarray:
    """One image drawn as read_rect_data.py draws it, loop by loop (a port, for comparison)."""
    image = np.zeros((28, 28), np.float32)
    unit = np.array([np.cos(theta), np.sin(theta)])
    for step in range(int(length // 2)):
        for sign in (-1, 1):
            point = (centre + sign * unit * step).astype(np.int32)
            if all((point >= 0) & (point < 28)):
                image[point[0], point[1]] = 1
    return image


def test_images_are_the_authors_pixel_for_pixel(tuples, tf):
    theta, length, centre = tuples.line_parameters(tf.constant([1, 2], tf.int64), 3000)
    images = tuples.draw_lines(theta, length, centre).numpy()
    theta, length, centre = theta.numpy(), length.numpy(), centre.numpy()
    for i in range(len(images)):
        assert np.array_equal(images[i], authors_line_image(theta[i], length[i], centre[i])), i


def test_coordinates_are_truncated_not_rounded(tuples, tf):
    # θ = 0: points (10.9 ± l, 10.9) for l = 0, 1 → rows 9, 10, 11 of column 10 (rounding: 10-12
    # of column 11). A point at −0.4 truncates onto the border row 0 instead of leaving.
    theta = tf.constant([0.0, 0.0], tf.float64)
    length = tf.constant([5.5, 5.5], tf.float64)
    centre = tf.constant([[10.9, 10.9], [0.6, 3.0]], tf.float64)
    images = tuples.draw_lines(theta, length, centre).numpy()
    assert sorted(zip(*np.nonzero(images[0]), strict=True)) == [(9, 10), (10, 10), (11, 10)]
    assert sorted(zip(*np.nonzero(images[1]), strict=True)) == [(0, 3), (1, 3)]


def test_parameters_follow_their_distributions(tuples, tf):
    theta, length, centre = (t.numpy() for t in tuples.line_parameters(tf.constant([5, 6]), 20000))
    assert theta.min() >= 0 and theta.max() < np.pi
    assert length.min() > 5 and length.max() < 23
    assert centre.min() >= 0 and centre.max() < 28
    # Uniform: means π/2, 14, 14 (sd of each mean below 0.01, 0.04, 0.06)
    assert abs(theta.mean() - np.pi / 2) < 0.04
    assert abs(length.mean() - 14) < 0.15 and abs(centre.mean() - 14) < 0.2


def test_every_image_has_a_line_of_the_drawn_length(tuples, tf):
    theta, length, centre = tuples.line_parameters(tf.constant([7, 8]), 2000)
    pixels = tuples.draw_lines(theta, length, centre).numpy().sum(axis=(1, 2))
    points = 2 * np.floor(length.numpy() / 2) - 1  # l = 0 is drawn twice, on the same pixel
    assert pixels.min() >= 1  # the centre lies on the image
    assert np.all(pixels <= points)
    assert set(np.unique(tuples.draw_lines(theta, length, centre).numpy())) == {0.0, 1.0}


def test_image_label_is_plus_one_iff_the_line_rises(tuples, tf):
    theta = tf.constant([0.0, 0.5, np.pi / 2 - 1e-9, np.pi / 2, 2.0, np.pi - 1e-9], tf.float64)
    assert tuples.image_labels(theta).numpy().tolist() == [1, 1, 1, -1, -1, -1]
    _, per_image, _ = tuples.sample_tuples(tf.constant([9, 9]), 5000, 1)
    assert abs(per_image.numpy().mean()) < 0.05  # half rise, half fall


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_tuple_label_is_the_parity_in_either_convention(tuples, tf, k):
    rng = np.random.default_rng(k)
    labels = rng.choice([-1.0, 1.0], size=(500, k)).astype(np.float32)
    authors = tuples.tuple_labels(tf.constant(labels), "authors").numpy()
    paper = tuples.tuple_labels(tf.constant(labels), "paper").numpy()
    odd_positives = np.sum(labels > 0, axis=1) % 2 == 1
    assert np.array_equal(authors, np.where(odd_positives, 1.0, -1.0))
    assert np.array_equal(paper, np.prod(labels, axis=1))
    # The same for odd k, each other's negation for even k.
    assert np.array_equal(authors, paper if k % 2 else -paper)


def test_tuples_have_their_shapes_and_depend_only_on_the_key(tuples, tf):
    key = tf.constant([3, 4], tf.int64)
    images, per_image, labels = tuples.sample_tuples(key, 50, 3)
    assert images.shape == (50, 3, 28, 28) and per_image.shape == (50, 3) and labels.shape == (50,)
    assert np.array_equal(labels.numpy(), tuples.tuple_labels(per_image, "authors").numpy())
    again = tuples.sample_tuples(key, 50, 3)[0].numpy()
    other = tuples.sample_tuples(tf.constant([3, 5], tf.int64), 50, 3)[0].numpy()
    assert np.array_equal(images.numpy(), again)
    assert not np.array_equal(images.numpy(), other)


def test_bad_settings_are_rejected(tuples):
    with pytest.raises(ValueError, match="method must be one of e2e, dec"):
        tuples.TuplesConfig(method="joint")
    with pytest.raises(ValueError, match="label must be one of authors, paper"):
        tuples.TuplesConfig(label="product")
    with pytest.raises(ValueError, match="must hold at least one batch"):
        tuples.TuplesConfig(batch_size=200, train_pool=100)


def test_variants_are_one_per_method_and_k():
    from theorydl.families.tuples.spec import variants

    block = {"methods": ["e2e", "dec"], "ks": [1, 3]}
    assert variants(block) == {
        "e2e-k1": {"method": "e2e", "k": 1},
        "e2e-k3": {"method": "e2e", "k": 3},
        "dec-k1": {"method": "dec", "k": 1},
        "dec-k3": {"method": "dec", "k": 3},
    }
