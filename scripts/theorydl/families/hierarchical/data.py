"""Hierarchical digits: images generated level by level from latent classes, in numpy.

A reconstruction of Malach & Shalev-Shwartz (2018), Fig 1 (the paper's model is not public):

- a *grammar*, drawn once from ``grammar_seed``: for each label, a few *layouts* (3×3 grids of
  top-level classes); for each class of each level, a few *variants* (3×3 grids of classes of
  the level below); for each class of the lowest level, a few 3×3 pixel *templates*;
- a *sample*: a label, one of its layouts, then, cell by cell and level by level, a variant of
  the cell's class, down to the pixels; Gaussian pixel noise on top, and in empty cells of the
  lowest level a distractor mark with a small probability.

Class 0 of every level is *empty*: it expands into empty cells and blank pixels. No grid is a
variant of two classes, so every latent class is determined by the level below it (the model is
unambiguous, as the theory assumes); the classes of every level are returned with the pixels, so
that what a learner's clusters recover can be measured.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from itertools import product
from pathlib import Path

import numpy as np

from theorydl.families.hierarchical.spec import DATASET, LABELS, HierarchicalConfig
from theorydl.runtime import numpy_rng

PATCH = 3  # every level refines a cell into 3×3 cells


@dataclass(frozen=True)
class Grammar:
    """The rules of one model. ``layouts [labels, layouts, 3, 3]`` (top classes);
    ``expansions[l] [classes_l, variants, 3, 3]`` (classes of level l − 1; level 0 is the lowest,
    whose row is absent: it expands into ``templates [classes_0, templates, 3, 3]`` pixels)."""

    cfg: HierarchicalConfig
    layouts: np.ndarray
    expansions: tuple[np.ndarray, ...]  # index l − 1 holds level l's rules, l = 1 … levels − 1
    templates: np.ndarray


@dataclass(frozen=True)
class Sample:
    """n images ``[n, side, side]`` with their labels ``[n]`` and the latent classes of every
    level, ``latents[l] [n, s_l, s_l]`` (level 0 the lowest, s_l = side / 3 ** (l + 1))."""

    images: np.ndarray
    labels: np.ndarray
    latents: tuple[np.ndarray, ...]


def _distinct_grids(rng: np.random.Generator, count: int, choices: int, taken: set) -> list:
    """``count`` 3×3 grids over ``choices`` symbols, not all empty, none in ``taken`` (which
    they join): the grammar must never give one grid to two classes or labels."""
    grids = []
    while len(grids) < count:
        grid = rng.integers(0, choices, size=(PATCH, PATCH))
        key = grid.tobytes()
        if grid.any() and key not in taken:
            taken.add(key)
            grids.append(grid)
    return grids


def _pixel_patterns(rng: np.random.Generator, count: int) -> np.ndarray:
    """``count`` distinct 3×3 binary patterns of 3 to 5 lit pixels, each at least two pixels
    away from every other (so that one flipped pixel never turns one template into another)."""
    candidates = [
        np.array(bits).reshape(PATCH, PATCH)
        for bits in product((0, 1), repeat=PATCH * PATCH)
        if 3 <= sum(bits) <= 5
    ]
    order = rng.permutation(len(candidates))
    chosen: list[np.ndarray] = []
    for index in order:
        pattern = candidates[index]
        if all(np.sum(pattern != other) >= 2 for other in chosen):
            chosen.append(pattern)
            if len(chosen) == count:
                return np.stack(chosen).astype(np.float32)
    raise ValueError(f"cannot draw {count} distinct 3×3 pixel templates; use fewer")


def make_grammar(cfg: HierarchicalConfig) -> Grammar:
    """The model's rules, drawn from ``cfg.grammar_seed`` (the same for every run seed; the
    sizes are ``cfg``'s)."""
    rng = numpy_rng(cfg.grammar_seed, "hierarchical/grammar")
    taken: set = set()  # shared by the labels: two labels never share a layout
    layouts = np.stack(
        [np.stack(_distinct_grids(rng, cfg.layouts, cfg.classes[-1], taken)) for _ in range(LABELS)]
    )
    expansions = []
    for level in range(1, len(cfg.classes)):
        below = cfg.classes[level - 1]
        taken = set()
        rules = [np.zeros((cfg.variants, PATCH, PATCH), np.int64)]  # empty → empty cells
        rules += [
            np.stack(_distinct_grids(rng, cfg.variants, below, taken))
            for _ in range(1, cfg.classes[level])
        ]
        expansions.append(np.stack(rules))
    lit = cfg.classes[0] - 1
    patterns = _pixel_patterns(rng, lit * cfg.templates)
    templates = np.concatenate(
        [
            np.zeros((1, cfg.templates, PATCH, PATCH), np.float32),
            patterns.reshape(lit, cfg.templates, PATCH, PATCH),
        ]
    )
    return Grammar(cfg, layouts, tuple(expansions), templates)


def _refine(grid: np.ndarray, choice: np.ndarray, rules: np.ndarray) -> np.ndarray:
    """Every cell of ``grid [n, s, s]`` replaced by its rule ``rules[class, choice]`` (3×3):
    ``[n, 3s, 3s]``."""
    n, s, _ = grid.shape
    blocks = rules[grid, choice]  # [n, s, s, 3, 3]
    return blocks.transpose(0, 1, 3, 2, 4).reshape(n, s * PATCH, s * PATCH)


def sample(grammar: Grammar, n: int, seed: int, stream: str) -> Sample:
    """``n`` labelled images of the model, drawn from the named stream of ``seed``."""
    cfg = grammar.cfg
    rng = numpy_rng(seed, f"hierarchical/sample/{stream}")
    labels = rng.integers(0, LABELS, size=n)
    layout = rng.integers(0, cfg.layouts, size=n)
    grid = grammar.layouts[labels, layout]  # [n, 3, 3], top classes
    latents = [grid]
    for rules in reversed(grammar.expansions):
        grid = _refine(grid, rng.integers(0, cfg.variants, size=grid.shape), rules)
        latents.append(grid)
    templates = rng.integers(0, cfg.templates, size=grid.shape)
    images = _refine(grid, templates, grammar.templates).astype(np.float32)
    images += _distractors(rng, grid, cfg.distractors)
    images += cfg.noise * rng.standard_normal(images.shape).astype(np.float32)
    return Sample(images, labels, tuple(reversed(latents)))


def _distractors(rng: np.random.Generator, lowest: np.ndarray, rate: float) -> np.ndarray:
    """Marks of two adjacent lit pixels in empty lowest-level cells, each w.p. ``rate``."""
    n, s, _ = lowest.shape
    marks = np.zeros((n, s, s, PATCH, PATCH), np.float32)
    where = (lowest == 0) & (rng.random(lowest.shape) < rate)
    rows, cols = rng.integers(0, PATCH, size=(2, *lowest.shape))
    horizontal = rng.random(lowest.shape) < 0.5
    index = np.nonzero(where)
    r, c, h = rows[index], cols[index], horizontal[index]
    marks[(*index, r, c)] = 1.0
    marks[(*index, np.where(h, r, (r + 1) % PATCH), np.where(h, (c + 1) % PATCH, c))] = 1.0
    return marks.transpose(0, 1, 3, 2, 4).reshape(n, s * PATCH, s * PATCH)


def class_frequencies(sample_: Sample, level: int, classes: int) -> np.ndarray:
    """The share of each class among the cells of ``level`` in a sample ``[classes]``."""
    counts = np.bincount(sample_.latents[level].ravel(), minlength=classes)
    return counts / counts.sum()


# --------------------------------------------------------------------------------------------
# Real images: Fashion-MNIST, cropped to the model's side (the paper's CIFAR-10 stand-in).


@functools.lru_cache(maxsize=2)  # a job reads one split for every setting it trains
def _real_images(split: str, side: int, data_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    from theorydl import datasets

    images, labels = datasets.load(DATASET, split, data_dir)
    return images[:, :side, :side], labels  # 28 → 27: the last row and column go


def real_sample(cfg: HierarchicalConfig, n: int, seed: int, split: str, data_dir: Path) -> Sample:
    """``n`` Fashion-MNIST images of ``split`` (train or test), drawn without replacement from
    the seed's stream, cropped to ``cfg.side``; no latent classes."""
    images, labels = _real_images(split, cfg.side, Path(data_dir))
    if n > len(labels):
        raise ValueError(
            f"{n} {split} images asked of {DATASET}, which has {len(labels)}: lower "
            "hierarchical.fashion.train_examples (or hparams.test_examples)"
        )
    pick = numpy_rng(seed, f"hierarchical/fashion/{split}-n{n}").permutation(len(labels))[:n]
    return Sample(images[pick], labels[pick], ())
