"""The GaLU experiments' data and gates, in numpy: the trained networks (``model.py``) and the
exact solutions (``theory.py``) of one cell and seed see the same draws.

Every draw comes from a named stream of the seed that depends on the cell (or the noise
experiment's sizes) and never on the learner, so that ReLU, GaLU by Adam, exact GaLU and hill
climbing are compared on the same points and labels.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from theorydl.families.gating.spec import GatingConfig
from theorydl.runtime import numpy_rng


@dataclass(frozen=True)
class Data:
    """One seed's points and labels: ``x_train [m, d]``, ``y_train [m]`` (``[m, d′]`` for the
    width search), and a test split (empty where the experiment has none)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def memorise_data(seed: int, cfg: GatingConfig) -> Data:
    """m points X ~ N(0, I_d) with labels y ~ N(0, 1) independent of them (pure noise)."""
    rng = numpy_rng(seed, f"gating/memorise/m{cfg.m}-d{cfg.d}")
    x = rng.standard_normal((cfg.m, cfg.d))
    y = rng.standard_normal(cfg.m)
    empty = np.zeros((0, cfg.d))
    return Data(x, y, empty, np.zeros(0))


def noise_data(seed: int, cfg: GatingConfig) -> Data:
    """The clusters experiment: centres c_j ~ N(0, I_d) with labels b_j (N(0, 1), or ±1 for
    classification), x = c_j + spread·N(0, I_d) for a uniform j; the labels' noise (σ_y·N(0, 1),
    or a sign flip with probability σ_y/2) is drawn for every point, training and test alike, as in
    the authors' script (the test labels are as noisy as the training labels).

    The points and the unit noise are the same for every σ_y of a seed, so the curves against
    σ_y compare like with like.
    """
    n = cfg.m + cfg.test_points
    rng = numpy_rng(seed, f"gating/noise/{cfg.task}/d{cfg.d}-c{cfg.clusters}-n{n}")
    centres = rng.standard_normal((cfg.clusters, cfg.d))
    if cfg.task == "regression":
        centre_labels = rng.standard_normal(cfg.clusters)
    else:
        centre_labels = rng.choice([-1.0, 1.0], size=cfg.clusters)
    member = rng.integers(0, cfg.clusters, size=n)
    x = centres[member] + cfg.spread * rng.standard_normal((n, cfg.d))
    unit = rng.standard_normal(n)  # regression noise, scaled by σ_y
    coin = rng.random(n)  # classification: flip where coin < p
    if cfg.task == "regression":
        y = centre_labels[member] + cfg.noise * unit
    else:
        y = np.where(coin < cfg.flip_probability, -1.0, 1.0) * centre_labels[member]
    return Data(x[: cfg.m], y[: cfg.m], x[cfg.m :], y[cfg.m :])


def width_data(seed: int, cfg: GatingConfig) -> Data:
    """The width search's m points X ~ N(0, I_d) with targets Y ~ N(0, I_d′), pure noise: the
    same for every width the search tries (the stream does not depend on k)."""
    rng = numpy_rng(seed, f"gating/width/m{cfg.m}-d{cfg.d}-o{cfg.outputs}")
    x = rng.standard_normal((cfg.m, cfg.d))
    y = rng.standard_normal((cfg.m, cfg.outputs))
    if cfg.outputs == 1:  # a scalar output, as the network gives it
        y = y[:, 0]
    return Data(x, y, np.zeros((0, cfg.d)), np.zeros((0, *y.shape[1:])))


def data(seed: int, cfg: GatingConfig) -> Data:
    """The points and labels of one seed for ``cfg``'s experiment."""
    draw = {"memorise": memorise_data, "noise": noise_data, "width": width_data}
    return draw[cfg.experiment](seed, cfg)


def gate_vectors(seed: int, cfg: GatingConfig) -> np.ndarray:
    """The k random gate vectors f_i ~ N(0, I_d) of a GaLU layer, ``[k, d]``.

    The gate 1[⟨f, x⟩ > 0] does not depend on the scale of f, so the authors' 1/(α√d) factor is
    left out. Exact GaLU and GaLU by Adam of one cell and seed share these gates.
    """
    rng = numpy_rng(seed, f"gating/gates/{cfg.experiment}/m{cfg.m}-d{cfg.d}-k{cfg.k}")
    return rng.standard_normal((cfg.k, cfg.d))


def gates(x: np.ndarray, f: np.ndarray) -> np.ndarray:
    """The 0/1 gates ``[..., n, k]`` of points ``x [..., n, d]`` for gate vectors ``f [..., k, d]``
    (leading axes: replicas): the authors' (sign z + 1)/2, which is 1/2 where ⟨f, x⟩ is exactly 0
    (a null set)."""
    return (np.sign(x @ np.swapaxes(f, -1, -2)) + 1) / 2


def features(x: np.ndarray, g: np.ndarray) -> np.ndarray:
    """The GaLU layer's feature matrix ``[..., n, k·d]`` for points ``[..., n, d]`` and their gates
    ``[..., n, k]``: unit i's block is x ⊙ gate_i(x), so that the network's output
    Σ_i ⟨w_i, x⟩·gate_i(x) is linear in the k·d weights."""
    return (g[..., :, None] * x[..., None, :]).reshape(*x.shape[:-1], -1)


# --------------------------------------------------------------------------------------------
# Fig 1: real images, PCA-whitened.


@dataclass(frozen=True)
class Whitened:
    """A dataset's images as the networks of Fig 1 see them: flattened, centred on the mean of
    the images they train on, projected on that part's top principal components and each
    component divided by its standard deviation there; ``train`` is the training split less
    the held-out ``validation`` part (the same draw for every seed and learner)."""

    x_train: np.ndarray  # [n_train, dims] float32
    y_train: np.ndarray  # [n_train] int64
    x_validation: np.ndarray
    y_validation: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def validation_part(labels: np.ndarray, fraction: float, name: str) -> np.ndarray:
    """Which training images are held out for validation ``[n] bool``: ``round(fraction·n_c)``
    of each class c, drawn once per dataset (not per seed), so that every setting is selected
    on the same images."""
    held = np.zeros(len(labels), dtype=bool)
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        rng = numpy_rng(0, f"gating/images/validation/{name}/class{c}")
        held[rng.permutation(members)[: round(fraction * len(members))]] = True
    return held


def pca_whitening(x: np.ndarray, dims: int) -> tuple[np.ndarray, np.ndarray]:
    """(mean ``[p]``, projection ``[p, dims]``) such that ``(x − mean) @ projection`` has the
    identity covariance on ``x``: the top ``dims`` eigenvectors of x's covariance, each divided
    by the square root of its eigenvalue (computed in float64)."""
    x = np.asarray(x, dtype=np.float64)
    mean = x.mean(axis=0)
    covariance = np.cov(x - mean, rowvar=False, bias=True)
    values, vectors = np.linalg.eigh(covariance)
    top = np.argsort(values)[::-1][:dims]
    if values[top[-1]] <= 1e-10 * values[top[0]]:  # rounding, not a direction of the images
        raise ValueError(f"the training images span fewer than {dims} dimensions; lower pca_dims")
    return mean, vectors[:, top] / np.sqrt(values[top])


def whitened_images(cfg: GatingConfig, data_dir: Path) -> Whitened:
    """The images of ``cfg.dataset`` (made by rule ``dataset`` in ``data_dir``), whitened on
    the part of the training split the networks train on."""
    return _whitened(cfg.dataset, cfg.validation, cfg.pca_dims, Path(data_dir))


@functools.lru_cache(maxsize=2)  # a job trains many settings of one dataset: whiten it once
def _whitened(name: str, validation: float, dims: int, data_dir: Path) -> Whitened:
    from theorydl import datasets

    images, labels = datasets.load(name, "train", data_dir)
    test_images, test_labels = datasets.load(name, "test", data_dir)
    flat = images.reshape(len(images), -1)
    held = validation_part(labels, validation, name)
    mean, projection = pca_whitening(flat[~held], dims)

    def whiten(x: np.ndarray) -> np.ndarray:
        return ((x.reshape(len(x), -1) - mean) @ projection).astype(np.float32)

    return Whitened(
        whiten(flat[~held]),
        labels[~held],
        whiten(flat[held]),
        labels[held],
        whiten(test_images),
        test_labels,
    )


def image_gate_vectors(seed: int, cfg: GatingConfig) -> np.ndarray:
    """GaLU0's gate vectors ``[layers, d, k]``, every layer's from the input: N(0, 1)/(α·d) with
    d the whitened dimension, the authors' scale (their ``GaLU0Network`` divides N(0, 1) by
    α√d·√d). The directions do not depend on α, so the gate scales of a grid differ in scale
    alone."""
    name = f"gating/images/gates/{cfg.dataset}-T{cfg.layers}-d{cfg.pca_dims}-k{cfg.k}"
    unit = numpy_rng(seed, name).standard_normal((cfg.layers, cfg.pca_dims, cfg.k))
    return unit / (cfg.alpha * cfg.pca_dims)
