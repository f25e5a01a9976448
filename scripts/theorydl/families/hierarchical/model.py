"""The learners of hierarchical digits (a reconstruction of Malach & Shalev-Shwartz 2018).

Every network is built from 3×3 stride-3 convolutions, which on non-overlapping patches are a
reshape and a matrix product, so that one einsum trains every seed of a variant at once (a
leading seed axis on every variable and on every input: each seed has its own training set).

- ``e2e``: convolutions + ReLU, one per level of the model (27 → 9 → 3 cells), then a linear
  readout of the label; Adam on cross-entropy.
- ``fc``: one hidden ReLU layer with about as many weights as ``e2e``.
- ``layerwise`` / ``onestep``: bottom-up, per level, a two-layer network (one convolution +
  ReLU, a linear readout over all cells) trained through the engine; k-means on its patch
  embeddings (scikit-learn, per seed); the one-hot cluster ids are the next level's input; a
  linear classifier on the top level. ``onestep`` replaces each level's training by one large
  full-batch gradient step from a symmetric start (every filter weight equal, a fixed random
  readout), the Random Hierarchy Model's layer-wise recipe: after it, a patch's embedding is a
  random projection of how the patch correlates with the label, which is what the clusters need.

A layer-wise run trains its stages one after another into run directories of their own under the
job's checkpoint folder (kept, so that a stopped job resumes at its first unfinished stage), then
writes one run per seed with every stage's metrics and the clusters' agreement with the latent
classes at every level.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import pandas as pd
import tensorflow as tf
from sklearn.cluster import KMeans
from threadpoolctl import threadpool_limits

from theorydl import engine, runs
from theorydl.families.hierarchical.data import PATCH, Sample, make_grammar, real_sample, sample
from theorydl.families.hierarchical.spec import LABELS, Config, HierarchicalConfig
from theorydl.runtime import stream_key

__all__ = ["Config", "HierarchicalConfig", "run"]


def to_patches(x: tf.Tensor) -> tf.Tensor:
    """Non-overlapping 3×3 patches: ``[S, n, s, s, C]`` → ``[S, n, s/3, s/3, 9C]``."""
    _, _, side, _, channels = x.shape
    cells = side // PATCH
    x = tf.reshape(x, [tf.shape(x)[0], tf.shape(x)[1], cells, PATCH, cells, PATCH, channels])
    x = tf.transpose(x, [0, 1, 2, 4, 3, 5, 6])
    return tf.reshape(x, [tf.shape(x)[0], tf.shape(x)[1], cells, cells, PATCH * PATCH * channels])


def _glorot(seeds: Sequence[int], name: str, shape: list[int]) -> tf.Tensor:
    """Glorot-uniform draws ``[S, *shape]``, one stateless stream per seed."""
    fan_in, fan_out = shape[0], shape[1]
    bound = math.sqrt(6.0 / (fan_in + fan_out))
    return tf.stack(
        [
            tf.random.stateless_uniform(shape, stream_key(s, name), minval=-bound, maxval=bound)
            for s in seeds
        ]
    )


class Classifying(tf.Module):
    """What every learner's network shares: per-seed training and test inputs, a mini-batch
    per step drawn with replacement from the seed's own training set (a pure function of seed
    and step), cross-entropy, and accuracy on both splits. Subclasses define ``logits``.

    Inputs are images ``[S, n, s, s, C]``, or, with ``depth``, cluster ids ``[S, n, s, s]``
    that the network sees one-hot (``depth`` channels), made so only inside a step.
    """

    def __init__(
        self,
        name: str,
        seeds: Sequence[int],
        train: tuple[np.ndarray, np.ndarray],
        test: tuple[np.ndarray, np.ndarray],
        batch_size: int,
        depth: int | None = None,
    ):
        super().__init__(name=name)
        self.seeds = tuple(seeds)
        self.depth = depth
        kind = tf.int32 if depth else tf.float32
        self.x_train = tf.constant(train[0], kind)  # [S, n, ...]
        self.y_train = tf.constant(train[1], tf.int32)  # [S, n]
        self.x_test = tf.constant(test[0], kind)
        self.y_test = tf.constant(test[1], tf.int32)
        self.batch_size = batch_size
        self.keys = tf.constant(np.stack([stream_key(s, f"hierarchical/{name}") for s in seeds]))

    @property
    def channels(self) -> int:
        """Channels of an input cell: the one-hot depth, or the images' channels."""
        return self.depth or self.x_train.shape[-1]

    @property
    def side(self) -> int:
        """Cells along a side of an input."""
        return self.x_train.shape[2]

    def features(self, x: tf.Tensor) -> tf.Tensor:
        """Stored inputs as the network sees them: ids one-hot, images as they are."""
        return tf.one_hot(x, self.depth) if self.depth else x

    def logits(self, x: tf.Tensor) -> tf.Tensor:
        """Logits ``[S, n, 10]`` of inputs ``[S, n, s, s, C]`` (features, not ids)."""
        raise NotImplementedError

    def _losses(self, x: tf.Tensor, y: tf.Tensor) -> tf.Tensor:
        logits = self.logits(self.features(x))
        return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits)

    def train_loss(self, step: tf.Tensor) -> tf.Tensor:
        return self.batch_loss(step)

    def batch_loss(self, step: tf.Tensor) -> tf.Tensor:
        """Per-seed cross-entropy on the step's mini-batch ``[S]``."""
        n = self.y_train.shape[1]
        index = tf.stack(
            [
                tf.random.stateless_uniform(
                    [self.batch_size],
                    tf.random.experimental.stateless_fold_in(self.keys[i], step),
                    maxval=n,
                    dtype=tf.int32,
                )
                for i in range(len(self.seeds))
            ]
        )
        x = tf.gather(self.x_train, index, batch_dims=1)
        y = tf.gather(self.y_train, index, batch_dims=1)
        return tf.reduce_mean(self._losses(x, y), axis=-1)

    def evaluate(self, step: tf.Tensor) -> dict[str, tf.Tensor]:
        # The training metrics on the first training images, as many as the test images: a
        # diagnostic whose cost must not grow with n (Fashion-MNIST trains on tens of thousands).
        shown = self.y_test.shape[1]
        metrics = {}
        for split, x, y in (
            ("test", self.x_test, self.y_test),
            ("train", self.x_train[:, :shown], self.y_train[:, :shown]),
        ):
            logits = self.logits(self.features(x))
            right = tf.argmax(logits, axis=-1, output_type=tf.int32) == y
            metrics[f"{split}_accuracy"] = tf.reduce_mean(tf.cast(right, tf.float32), axis=-1)
            losses = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits)
            metrics[f"{split}_loss"] = tf.reduce_mean(losses, axis=-1)
        return metrics

    def final_arrays(self) -> dict[str, np.ndarray]:
        return {v.name.split(":")[0]: v.numpy() for v in self.variables}


class ConvStack(Classifying):
    """``e2e``: one 3×3 stride-3 convolution + ReLU per level of the model, a linear readout."""

    def __init__(self, cfg: HierarchicalConfig, seeds: Sequence[int], train, test):
        super().__init__("e2e", seeds, train, test, cfg.batch_size)
        channels = [train[0].shape[-1]] + [cfg.width] * len(cfg.classes)
        self.w, self.b = [], []
        for level in range(len(cfg.classes)):
            shape = [PATCH * PATCH * channels[level], channels[level + 1]]
            self.w.append(
                tf.Variable(_glorot(seeds, f"hierarchical/e2e/w{level}", shape), name=f"w{level}")
            )
            self.b.append(tf.Variable(tf.zeros([len(seeds), shape[1]]), name=f"b{level}"))
        readout = [PATCH * PATCH * cfg.width, LABELS]
        self.u = tf.Variable(_glorot(seeds, "hierarchical/e2e/u", readout), name="u")
        self.c = tf.Variable(tf.zeros([len(seeds), LABELS]), name="c")

    def logits(self, x: tf.Tensor) -> tf.Tensor:
        hidden = x
        for w, b in zip(self.w, self.b, strict=True):
            z = tf.einsum("snijk,skh->snijh", to_patches(hidden), w)
            hidden = tf.nn.relu(z + b[:, None, None, None, :])
        flat = tf.reshape(hidden, [tf.shape(hidden)[0], tf.shape(hidden)[1], -1])
        return tf.matmul(flat, self.u) + self.c[:, None, :]


def conv_weights(cfg: HierarchicalConfig, channels: int = 1) -> int:
    """The number of weights (biases included) of ``e2e`` on images of ``channels``."""
    sizes = [channels] + [cfg.width] * len(cfg.classes)
    convs = sum(PATCH * PATCH * a * b + b for a, b in itertools.pairwise(sizes))
    return convs + PATCH * PATCH * cfg.width * LABELS + LABELS


def dense_width(cfg: HierarchicalConfig, channels: int = 1) -> int:
    """``fc``'s hidden units: as many weights as ``e2e``, to the nearest unit."""
    inputs = cfg.side * cfg.side * channels
    return max(1, round((conv_weights(cfg, channels) - LABELS) / (inputs + 1 + LABELS)))


class Dense(Classifying):
    """``fc``: one hidden ReLU layer of :func:`dense_width` units on the flattened image."""

    def __init__(self, cfg: HierarchicalConfig, seeds: Sequence[int], train, test):
        super().__init__("fc", seeds, train, test, cfg.batch_size)
        inputs, hidden = int(np.prod(train[0].shape[2:])), dense_width(cfg, train[0].shape[-1])
        self.w = tf.Variable(_glorot(seeds, "hierarchical/fc/w", [inputs, hidden]), name="w")
        self.b = tf.Variable(tf.zeros([len(seeds), hidden]), name="b")
        self.u = tf.Variable(_glorot(seeds, "hierarchical/fc/u", [hidden, LABELS]), name="u")
        self.c = tf.Variable(tf.zeros([len(seeds), LABELS]), name="c")

    def logits(self, x: tf.Tensor) -> tf.Tensor:
        flat = tf.reshape(x, [tf.shape(x)[0], tf.shape(x)[1], -1])
        hidden = tf.nn.relu(tf.matmul(flat, self.w) + self.b[:, None, :])
        return tf.matmul(hidden, self.u) + self.c[:, None, :]


class LevelNetwork(Classifying):
    """One level of the layer-wise algorithm: a 3×3 stride-3 convolution + ReLU, then a linear
    readout of the label over every cell.

    ``onestep``: the filters start all equal (1/√(9C)) and the readout is a fixed random draw,
    without biases; the engine then takes one full-batch gradient step on the filters alone.
    """

    def __init__(
        self,
        cfg: HierarchicalConfig,
        seeds: Sequence[int],
        level: int,
        train,
        test,
        depth: int | None = None,
    ):
        super().__init__(f"level{level}", seeds, train, test, cfg.batch_size, depth)
        self.onestep = cfg.learner == "onestep"
        fan_in = PATCH * PATCH * self.channels
        cells = self.side // PATCH
        readout = [cells * cells * cfg.width, LABELS]
        prefix = f"hierarchical/{cfg.learner}/level{level}"
        if self.onestep:
            start = tf.fill([len(seeds), fan_in, cfg.width], 1.0 / math.sqrt(fan_in))
            self.w = tf.Variable(start, name="w")
            draw = [
                tf.random.stateless_normal(readout, stream_key(s, f"{prefix}/u")) for s in seeds
            ]
            self.u = tf.Variable(tf.stack(draw) / cfg.width, trainable=False, name="u")
            self.b = tf.Variable(tf.zeros([len(seeds), cfg.width]), trainable=False, name="b")
            self.c = tf.Variable(tf.zeros([len(seeds), LABELS]), trainable=False, name="c")
        else:
            self.w = tf.Variable(_glorot(seeds, f"{prefix}/w", [fan_in, cfg.width]), name="w")
            self.b = tf.Variable(tf.zeros([len(seeds), cfg.width]), name="b")
            self.u = tf.Variable(_glorot(seeds, f"{prefix}/u", readout), name="u")
            self.c = tf.Variable(tf.zeros([len(seeds), LABELS]), name="c")

    def train_loss(self, step: tf.Tensor) -> tf.Tensor:
        if self.onestep:  # the whole training set, once
            return tf.reduce_mean(self._losses(self.x_train, self.y_train), axis=-1)
        return self.batch_loss(step)  # (not super(): autograph mistranslates it)

    def pre_activations(self, x: tf.Tensor) -> tf.Tensor:
        """``[S, n, s/3, s/3, width]``: each patch's filter responses before the ReLU."""
        return tf.einsum("snijk,skh->snijh", to_patches(x), self.w) + self.b[:, None, None, None, :]

    def embed(self, x: tf.Tensor) -> tf.Tensor:
        """What k-means clusters, of stored inputs ``x``: the ReLU responses of the trained
        network; after one step, the responses before the ReLU (on a one-hot input, a column of
        the filters: the Random Hierarchy Model's code clusters exactly these)."""
        z = self.pre_activations(self.features(x))
        return z if self.onestep else tf.nn.relu(z)

    def logits(self, x: tf.Tensor) -> tf.Tensor:
        hidden = tf.nn.relu(self.pre_activations(x))
        flat = tf.reshape(hidden, [tf.shape(hidden)[0], tf.shape(hidden)[1], -1])
        return tf.matmul(flat, self.u) + self.c[:, None, :]


class Linear(Classifying):
    """The layer-wise algorithm's last stage: a linear classifier on the top level's one-hot
    cluster ids."""

    def __init__(self, cfg: HierarchicalConfig, seeds: Sequence[int], train, test, depth: int):
        super().__init__("top", seeds, train, test, cfg.batch_size, depth)
        inputs = self.side * self.side * self.channels
        self.u = tf.Variable(
            _glorot(seeds, f"hierarchical/{cfg.learner}/top", [inputs, LABELS]), name="u"
        )
        self.c = tf.Variable(tf.zeros([len(seeds), LABELS]), name="c")

    def logits(self, x: tf.Tensor) -> tf.Tensor:
        flat = tf.reshape(x, [tf.shape(x)[0], tf.shape(x)[1], -1])
        return tf.matmul(flat, self.u) + self.c[:, None, :]


# --------------------------------------------------------------------------------------------
# Data and clusters.


def draws(
    cfg: HierarchicalConfig, seeds: Sequence[int], data_dir: Path | None = None
) -> tuple[list[Sample], list[Sample]]:
    """Each seed's training sample (n images) and test sample: the same draws for every
    learner of one setting, so that the learners are compared on the same images. Fashion-MNIST
    is read from ``data_dir`` (rule dataset's folder)."""
    if cfg.experiment == "fashion":
        if data_dir is None:
            raise ValueError(
                "Fashion-MNIST is read from the folder rule dataset writes: run this variant "
                "through the workflow, or pass that folder as data_dir"
            )
        n, m = cfg.train_examples, cfg.test_examples
        train = [real_sample(cfg, n, s, "train", data_dir) for s in seeds]
        return train, [real_sample(cfg, m, s, "test", data_dir) for s in seeds]
    grammar = make_grammar(cfg)
    train = [sample(grammar, cfg.train_examples, s, f"train-n{cfg.train_examples}") for s in seeds]
    test = [sample(grammar, cfg.test_examples, s, "test") for s in seeds]
    return train, test


def _images(samples: list[Sample]) -> np.ndarray:
    return np.stack([s.images for s in samples])[..., None]  # [S, n, side, side, 1]


def _labels(samples: list[Sample]) -> np.ndarray:
    return np.stack([s.labels for s in samples])


def contingency(found: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Counts ``[clusters, classes]`` of cells by (cluster found, latent class)."""
    table = np.zeros((found.max() + 1, truth.max() + 1), np.int64)
    np.add.at(table, (found.ravel(), truth.ravel()), 1)
    return table


def agreement(found: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """How well cluster ids match latent classes: normalised mutual information (arithmetic
    mean normalisation, scikit-learn's default), purity (the share of cells whose cluster's
    most common class is theirs) and homogeneity (1 − H(class | cluster)/H(class): 1 when no
    cluster mixes two classes, however many clusters a class is split into)."""
    table = contingency(found, truth).astype(np.float64)
    total = table.sum()
    joint = table / total
    p_found, p_truth = joint.sum(1), joint.sum(0)
    nonzero = joint > 0
    mutual = float(
        np.sum(joint[nonzero] * np.log(joint[nonzero] / np.outer(p_found, p_truth)[nonzero]))
    )

    def entropy(p: np.ndarray) -> float:
        p = p[p > 0]
        return float(-np.sum(p * np.log(p)))

    h_found, h_truth = entropy(p_found), entropy(p_truth)
    mean = (h_found + h_truth) / 2
    return {
        "nmi": mutual / mean if mean > 0 else 1.0,
        "purity": float(table.max(axis=1).sum() / total),
        "homogeneity": mutual / h_truth if h_truth > 0 else 1.0,
    }


def kmeans_ids(
    train: np.ndarray,
    test: np.ndarray,
    clusters: int,
    seed: int,
    points: int,
    stream: str,
    threads: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """k-means fitted on at most ``points`` of the training cells' vectors ``[n, s, s, D]``
    (drawn from the seed's stream), then the cluster id of every cell of both splits.

    On ``threads`` OpenMP threads, the job's count (scikit-learn would take every core): a job
    must not crowd the others, nor its sums depend on how many cores the machine has.
    """
    rng = np.random.default_rng(stream_key(seed, stream))
    flat = train.reshape(-1, train.shape[-1])
    fit = flat[rng.permutation(len(flat))[:points]] if len(flat) > points else flat
    state = int(rng.integers(2**31))
    with threadpool_limits(limits=threads):
        model = KMeans(n_clusters=clusters, n_init=3, random_state=state).fit(fit)
        ids_train = model.predict(flat).reshape(train.shape[:-1])
        ids_test = model.predict(test.reshape(-1, test.shape[-1])).reshape(test.shape[:-1])
    return ids_train, ids_test


def raw_blocks(images: np.ndarray, level: int) -> np.ndarray:
    """The pixels of the cells of ``level`` ``[n, s, s, (3 ** (level+1))²]``: what k-means on
    raw patches clusters (the baseline for the learned embeddings)."""
    n, side, _ = images.shape
    size = PATCH ** (level + 1)
    cells = side // size
    blocks = images.reshape(n, cells, size, cells, size).transpose(0, 1, 3, 2, 4)
    return blocks.reshape(n, cells, cells, size * size)


# --------------------------------------------------------------------------------------------
# Training.


def _optimizer(cfg: HierarchicalConfig, task: Classifying) -> tf.Module:
    if isinstance(task, LevelNetwork) and task.onestep:
        return engine.SGD(task.trainable_variables, cfg.onestep_learning_rate)
    return engine.Adam(task.trainable_variables, cfg.learning_rate)


def _schedule(cfg: HierarchicalConfig, task: Classifying) -> engine.Schedule:
    if isinstance(task, LevelNetwork) and task.onestep:
        return engine.Schedule(1, 1)
    return engine.Schedule(cfg.steps, cfg.eval_every)


def train_network(cfg: HierarchicalConfig, seeds: Sequence[int], ctx: engine.RunContext) -> None:
    """``e2e`` or ``fc``: every seed at once, through the engine."""
    train, test = draws(cfg, seeds, ctx.data_dir)
    kind = ConvStack if cfg.learner == "e2e" else Dense
    task = kind(cfg, seeds, (_images(train), _labels(train)), (_images(test), _labels(test)))
    engine.train(task, _optimizer(cfg, task), _schedule(cfg, task), ctx, asdict(cfg))


def _stage(
    cfg: HierarchicalConfig,
    task: Classifying,
    seeds: Sequence[int],
    ctx: engine.RunContext,
    name: str,
) -> list[runs.Run]:
    """Train one stage of the layer-wise algorithm into ``<checkpoint>/stages/<name>``, or
    restore it from there when a previous attempt finished it."""
    folder = ctx.checkpoint_dir / "stages" / name
    dirs = {seed: folder / f"seed{seed}" for seed in seeds}
    variant = f"{ctx.variant}-{name}"
    hparams = asdict(cfg)
    try:
        found = [runs.read_run(dirs[s], ctx.family, variant, s, hparams) for s in seeds]
    except runs.CorruptRunError:
        stage_ctx = replace(
            ctx, variant=variant, out_dirs=dirs, checkpoint_dir=folder / "checkpoint"
        )
        engine.train(task, _optimizer(cfg, task), _schedule(cfg, task), stage_ctx, hparams)
        return [runs.read_run(dirs[s], ctx.family, variant, s, hparams) for s in seeds]
    for variable in task.variables:  # a finished stage: its final weights
        key = variable.name.split(":")[0]
        values = np.stack([run.arrays()[key] for run in found])
        variable.assign(values)
    return found


def _embeddings(network: LevelNetwork, x: tf.Tensor, chunk: int = 2000) -> np.ndarray:
    """``network.embed`` of stored inputs ``[S, n, ...]``, a chunk of images at a time (the
    intermediate tensors of all n at once would take several times the result's memory)."""
    parts = [network.embed(x[:, i : i + chunk]).numpy() for i in range(0, x.shape[1], chunk)]
    return np.concatenate(parts, axis=1)


def train_layerwise(cfg: HierarchicalConfig, seeds: Sequence[int], ctx: engine.RunContext) -> None:
    """The layer-wise algorithm (``layerwise`` or ``onestep``), bottom-up, then one run per seed
    with every stage's metrics (``<metric>@<stage>``) and, per level, the clusters' agreement
    with the latent classes on the test images (``nmi@level<l>`` …), beside k-means on the
    raw pixels of the same cells (``raw_nmi@level<l>`` …)."""
    train, test = draws(cfg, seeds, ctx.data_dir)
    y_train, y_test = _labels(train), _labels(test)
    x_train, x_test = _images(train), _images(test)
    stage_runs: dict[str, list[runs.Run]] = {}
    measured: list[dict[str, float]] = [{} for _ in seeds]
    depth = None  # the images; then the previous level's cluster ids
    for level in range(len(cfg.classes)):
        name = f"level{level}"
        network = LevelNetwork(cfg, seeds, level, (x_train, y_train), (x_test, y_test), depth)
        stage_runs[name] = _stage(cfg, network, seeds, ctx, name)
        emb_train, emb_test = (
            _embeddings(network, network.x_train),
            _embeddings(network, network.x_test),
        )
        clusters = cfg.clusters(level)
        next_train, next_test = [], []
        for i, seed in enumerate(seeds):
            stream = f"hierarchical/kmeans/{name}"
            ids_train, ids_test = kmeans_ids(
                emb_train[i], emb_test[i], clusters, seed, cfg.kmeans_points, stream, ctx.threads
            )
            next_train.append(ids_train)
            next_test.append(ids_test)
            if not test[i].latents:  # real images: no latent classes to compare with
                continue
            blocks = [raw_blocks(part[i].images, level) for part in (train, test)]
            raw = kmeans_ids(
                *blocks, clusters, seed, cfg.kmeans_points, f"{stream}/raw", ctx.threads
            )
            raw_test = raw[1]
            for prefix, found in (("", ids_test), ("raw_", raw_test)):
                for key, value in agreement(found, test[i].latents[level]).items():
                    measured[i][f"{prefix}{key}@{name}"] = value
        # Cluster ids, one-hot inside the next network (as floats they would take `clusters`
        # times the memory).
        x_train, x_test, depth = np.stack(next_train), np.stack(next_test), clusters
    top = Linear(cfg, seeds, (x_train, y_train), (x_test, y_test), depth)
    stage_runs["top"] = _stage(cfg, top, seeds, ctx, "top")
    for i, seed in enumerate(seeds):
        _write_layerwise_run(cfg, seed, ctx, {k: v[i] for k, v in stage_runs.items()}, measured[i])
    # The stages stay until the family's aggregate job removes the checkpoint folder: a kill
    # between here and Snakemake's record of the job then costs the k-means, not the training.


def _write_layerwise_run(
    cfg: HierarchicalConfig,
    seed: int,
    ctx: engine.RunContext,
    stages: dict[str, runs.Run],
    measured: dict[str, float],
) -> None:
    """One seed's layer-wise run: the top stage's metrics under their own names (the learner's
    accuracy), every stage's as ``<metric>@<stage>``, the clusters' agreement at the last step."""
    top = stages["top"]
    last = int(top.metrics.step.max())
    parts = [top.metrics]
    parts += [
        run.metrics.assign(metric=run.metrics.metric + f"@{name}") for name, run in stages.items()
    ]
    rows = pd.DataFrame(
        [(seed, last, "test", key, value) for key, value in measured.items()],
        columns=["seed", "step", "split", "metric", "value"],
    )
    metrics = pd.concat([*parts, rows], ignore_index=True)
    metrics = metrics[metrics.step <= last]
    diverged = [name for name, run in stages.items() if run.diverged]
    meta = {
        **top.meta,
        "variant": ctx.variant,
        "hparams": asdict(cfg),
        "status": "diverged" if diverged else "ok",
        "diverged_at_step": None,
        "steps_completed": last,
        "wall_time_s": round(sum(run.meta["wall_time_s"] for run in stages.values()), 3),
        "resumed_from_steps": [
            s for run in stages.values() for s in run.meta["resumed_from_steps"]
        ],
        "stages": {
            name: {"wall_time_s": run.meta["wall_time_s"], "status": run.meta["status"]}
            for name, run in stages.items()
        },
    }
    arrays = {
        f"{key}@{name}": value
        for name, run in stages.items()
        for key, value in run.arrays().items()
    }
    runs.write_run(ctx.out_dirs[seed], metrics, meta, arrays)


def run(cfg: HierarchicalConfig, seeds: Sequence[int], ctx: engine.RunContext) -> None:
    """Train one variant, every seed at once (Fashion-MNIST from ``ctx.data_dir``)."""
    if cfg.learner in ("layerwise", "onestep"):
        train_layerwise(cfg, seeds, ctx)
    else:
        train_network(cfg, seeds, ctx)
