"""GaLU networks (Fiat, Malach, Shalev-Shwartz 2019): a neuron is a *selector* (its gate) and a
*linear aggregator*; a GaLU neuron gives the gate its own, random, never-trained vector f:

    ReLU:  h_i(x) = ⟨w_i, x⟩ · 1[⟨w_i, x⟩ > 0]
    GaLU:  h_i(x) = ⟨w_i, x⟩ · 1[⟨f_i, x⟩ > 0]

One hidden layer of k units and a linear readout (no biases and a scalar output, except in the
width search: biases in both layers, d′ outputs), trained by Adam on mini-batches drawn without
replacement and reshuffled every pass over the m training points, as in the authors' code.
Every seed of a variant trains at once (a leading seed axis); the points, labels and gates come
from ``data.py``, shared with the exact solutions of ``theory.py``.

The width search (Fig 5) trains one such network per width it tries (:func:`search_width`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import pandas as pd
import tensorflow as tf

from theorydl import engine, runs
from theorydl.families.gating.data import (
    Whitened,
    data,
    gate_vectors,
    image_gate_vectors,
    whitened_images,
)
from theorydl.families.gating.spec import Config, GatingConfig, width_search
from theorydl.runtime import stream_key

__all__ = ["Config", "GatingConfig", "GatingEnsemble", "ImageEnsemble", "run", "search_width"]


def _xavier_normal(seeds: Sequence[int], name: str, shape: list[int], gain: float) -> tf.Tensor:
    std = gain * math.sqrt(2.0 / (shape[0] + shape[1]))
    return tf.stack(
        [tf.random.stateless_normal(shape, seed=stream_key(s, name), stddev=std) for s in seeds]
    )


def _torch_bias(seeds: Sequence[int], name: str, fan_in: int, size: int) -> tf.Tensor:
    """PyTorch's default bias of a linear layer, U(−1/√fan_in, 1/√fan_in): the authors' code
    leaves biases at it."""
    bound = 1.0 / math.sqrt(fan_in)
    draw = [
        tf.random.stateless_uniform([size], stream_key(s, name), minval=-bound, maxval=bound)
        for s in seeds
    ]
    return tf.stack(draw)


def step_gate(z: tf.Tensor) -> tf.Tensor:
    """The authors' 0/1 gate (sign z + 1)/2; its gradient is zero, so nothing trains through it."""
    return (tf.sign(z) + 1.0) / 2.0


def pass_order(key: tf.Tensor, e: tf.Tensor, m: int) -> tf.Tensor:
    """The order ``[m]`` in which pass ``e`` over the m training points visits them: a
    stateless permutation drawn from the seed's key and the pass."""
    pass_key = tf.random.experimental.stateless_fold_in(key, e)
    return tf.random.experimental.stateless_shuffle(tf.range(m), seed=pass_key)


def epoch_batch(key: tf.Tensor, step: tf.Tensor, m: int, batch: int) -> tf.Tensor:
    """Indices of the training points of ``step``'s mini-batch ``[batch]`` (the definition that
    :class:`GatingEnsemble` computes with a cache).

    The points are visited in passes, each in a fresh random order (:func:`pass_order`); step t
    takes positions t·batch … t·batch + batch − 1 of that sequence, so a batch that straddles
    two passes ends one and starts the next, as a data loader that reshuffles each pass and
    keeps its last, partial batch would (in sum).
    """
    position = tf.cast(step, tf.int64) * batch + tf.range(batch, dtype=tf.int64)
    epoch, offset = position // m, position % m
    first = tf.reduce_min(epoch)
    this, following = pass_order(key, first, m), pass_order(key, first + 1, m)
    return tf.where(epoch == first, tf.gather(this, offset), tf.gather(following, offset))


class PassBatches(tf.Module):
    """Mini-batches without replacement, reshuffled every pass over n points, per seed: the
    indices ``[S, batch]`` of a step's batch are :func:`epoch_batch`'s, computed with a cache.

    The orders of the pass a step starts in and of the next one are kept, and only the new
    next one is drawn when training enters the next pass (a shuffle per seed costs more than
    a small network's step: with an argsort of uniform draws and both orders redrawn, the
    orders took half of a memorisation step); a cache of epoch_batch's pure function of
    (seed, step), so a resumed or rewound step gets the same batch.
    """

    def __init__(self, seeds: Sequence[int], n: int, batch: int, stream: str):
        super().__init__(name="batches")
        self.n, self.batch = n, batch
        self.keys = [tf.constant(stream_key(s, stream)) for s in seeds]
        self.order = tf.Variable(tf.zeros([len(seeds), 2 * n], tf.int32), trainable=False)
        self.order_pass = tf.Variable(tf.constant(-1, tf.int64), trainable=False)

    def __call__(self, step: tf.Tensor) -> tf.Tensor:
        n, batch = self.n, self.batch
        start = tf.cast(step, tf.int64) * batch
        first = start // n

        def orders(e: tf.Tensor) -> tf.Tensor:
            return tf.stack([pass_order(k, e, n) for k in self.keys])

        def refresh() -> tf.Tensor:
            # Training moves one pass on at a time: the pass it enters is the one cached next
            # (none is cached before the first step: order_pass is -1).
            entered_next = tf.logical_and(self.order_pass >= 0, first == self.order_pass + 1)
            this = tf.cond(
                entered_next,
                lambda: self.order[:, n:],
                lambda: orders(first),
            )
            self.order.assign(tf.concat([this, orders(first + 1)], axis=1))
            self.order_pass.assign(first)
            return first

        tf.cond(tf.equal(first, self.order_pass), lambda: first, refresh)
        return tf.gather(self.order, start - first * n + tf.range(batch, dtype=tf.int64), axis=1)


class GatingEnsemble(tf.Module):
    """A one-hidden-layer ReLU or GaLU network for several seeds at once; with ``cfg.bias``,
    biases in both layers (none in the gates, as in the authors' code)."""

    def __init__(self, cfg: GatingConfig, seeds: Sequence[int]):
        super().__init__(name="gating")
        self.cfg = cfg
        self.seeds = tuple(seeds)
        draws = [data(s, cfg) for s in self.seeds]
        as_tensor = lambda name: tf.constant(  # noqa: E731
            np.stack([getattr(d, name) for d in draws]), tf.float32
        )
        self.x_train, self.y_train = as_tensor("x_train"), as_tensor("y_train")
        self.x_test, self.y_test = as_tensor("x_test"), as_tensor("y_test")
        self.batches = PassBatches(self.seeds, cfg.m, cfg.batch_size, "gating/batches")
        # The gates' vectors: a variable so that they are saved and checked, never trained.
        f = np.stack([gate_vectors(s, cfg) for s in self.seeds]).transpose(0, 2, 1)
        self.f = tf.Variable(tf.constant(f, tf.float32), trainable=False, name="f")  # [S, d, k]
        self.w = tf.Variable(
            _xavier_normal(self.seeds, "gating/init/w", [cfg.d, cfg.k], math.sqrt(2.0)), name="w"
        )
        u = _xavier_normal(self.seeds, "gating/init/u", [cfg.k, cfg.outputs], 1.0)
        self.u = tf.Variable(u, name="u")  # [S, k, d′]
        if cfg.bias:
            self.b = tf.Variable(_torch_bias(self.seeds, "gating/init/b", cfg.d, cfg.k), name="b")
            c = _torch_bias(self.seeds, "gating/init/c", cfg.k, cfg.outputs)
            self.c = tf.Variable(c, name="c")

    def outputs(self, x: tf.Tensor) -> tf.Tensor:
        """Network output for points ``[S, n, d]``: ``[S, n]`` for a scalar output, else
        ``[S, n, d′]``."""
        linear = tf.matmul(x, self.w)
        if self.cfg.bias:
            linear += self.b[:, None, :]
        selector = linear if self.cfg.learner == "relu" else tf.matmul(x, self.f)
        hidden = linear * step_gate(selector)
        out = tf.matmul(hidden, self.u)
        if self.cfg.bias:
            out += self.c[:, None, :]
        return tf.squeeze(out, axis=-1) if self.cfg.outputs == 1 else out

    def losses(self, out: tf.Tensor, y: tf.Tensor) -> tf.Tensor:
        """Per-point loss: squared error (its mean over the d′ outputs: PyTorch's MSELoss over a
        batch), or hinge for classification."""
        if self.cfg.experiment == "noise" and self.cfg.task == "classification":
            return tf.nn.relu(1.0 - y * out)
        if self.cfg.outputs > 1:
            return tf.reduce_mean(tf.square(out - y), axis=-1)
        return tf.square(out - y)

    def train_loss(self, step: tf.Tensor) -> tf.Tensor:
        index = self.batches(step)
        x = tf.gather(self.x_train, index, batch_dims=1)
        y = tf.gather(self.y_train, index, batch_dims=1)
        return tf.reduce_mean(self.losses(self.outputs(x), y), axis=-1)

    def _split(self, x: tf.Tensor, y: tf.Tensor, split: str) -> dict[str, tf.Tensor]:
        out = self.outputs(x)
        metrics = {f"{split}_loss": tf.reduce_mean(self.losses(out, y), axis=-1)}
        if self.cfg.task == "classification":
            wrong = tf.cast(out * y <= 0, tf.float32)
            metrics[f"{split}_error"] = tf.reduce_mean(wrong, axis=-1)
        return metrics

    def evaluate(self, step: tf.Tensor) -> dict[str, tf.Tensor]:
        metrics = self._split(self.x_train, self.y_train, "train")
        if self.cfg.experiment == "noise":
            metrics.update(self._split(self.x_test, self.y_test, "test"))
        return metrics

    def final_arrays(self) -> dict[str, np.ndarray]:
        u = self.u.numpy()
        arrays = {"w": self.w.numpy(), "u": u[..., 0] if self.cfg.outputs == 1 else u}
        if self.cfg.bias:
            arrays.update(b=self.b.numpy(), c=self.c.numpy())
        return {**arrays, "f": self.f.numpy()}


def _gate(z: tf.Tensor, kind: str) -> tf.Tensor:
    """GaLU0's gate of pre-activations z: the step, or a sigmoid, which unlike the step has a
    gradient; no gradient reaches the gate vectors either way (they are never trained)."""
    z = tf.stop_gradient(z)
    return step_gate(z) if kind == "step" else tf.sigmoid(z)


class ImageEnsemble(tf.Module):
    """Fig 1: ``cfg.layers`` hidden layers of width k on PCA-whitened images and a 10-way
    softmax readout, for several seeds at once; every layer has biases (PyTorch's defaults).

        relu:    x_{l+1} = ReLU(W_l x_l + b_l)
        galu0:   x_{l+1} = (W_l x_l + b_l) ⊙ gate(x_0 F_l),  F_l ~ N(0, 1)/(α·d), never trained
        linear:  x_{l+1} = W_l x_l + b_l

    The images are the same for every seed (the seeds differ in initialisation, gates and batch
    order, as the authors' repeats do), so they are held once, without a seed axis.
    """

    def __init__(self, cfg: GatingConfig, seeds: Sequence[int], images: Whitened):
        super().__init__(name="gating_images")
        self.cfg = cfg
        self.seeds = tuple(seeds)
        splits = {
            "train": (images.x_train, images.y_train),
            "validation": (images.x_validation, images.y_validation),
            "test": (images.x_test, images.y_test),
        }
        self.splits = {
            name: (tf.constant(x, tf.float32), tf.constant(y, tf.int32))
            for name, (x, y) in splits.items()
        }
        self.batches = PassBatches(self.seeds, len(images.y_train), cfg.batch_size, "gating/images")
        sizes = [cfg.pca_dims] + [cfg.k] * cfg.layers
        self.w, self.b = [], []
        for layer in range(cfg.layers):
            shape = [sizes[layer], sizes[layer + 1]]
            w = _xavier_normal(self.seeds, f"gating/images/init/w{layer}", shape, math.sqrt(2.0))
            self.w.append(tf.Variable(w, name=f"w{layer}"))
            b = _torch_bias(self.seeds, f"gating/images/init/b{layer}", *shape)
            self.b.append(tf.Variable(b, name=f"b{layer}"))
        u = _xavier_normal(self.seeds, "gating/images/init/u", [cfg.k, 10], 1.0)
        self.u = tf.Variable(u, name="u")
        self.c = tf.Variable(_torch_bias(self.seeds, "gating/images/init/c", cfg.k, 10), name="c")
        if cfg.learner == "galu0":
            f = np.stack([image_gate_vectors(s, cfg) for s in self.seeds])  # [S, T, d, k]
            self.f = tf.Variable(tf.constant(f, tf.float32), trainable=False, name="f")

    def logits(self, x: tf.Tensor) -> tf.Tensor:
        """Logits ``[S, n, 10]`` of images ``[S, n, d]``, or ``[1, n, d]`` (every seed's)."""
        hidden = x
        for layer in range(self.cfg.layers):
            linear = tf.matmul(hidden, self.w[layer]) + self.b[layer][:, None, :]
            if self.cfg.learner == "relu":
                hidden = tf.nn.relu(linear)
            elif self.cfg.learner == "galu0":
                hidden = linear * _gate(tf.matmul(x, self.f[:, layer]), self.cfg.gate)
            else:
                hidden = linear
        return tf.matmul(hidden, self.u) + self.c[:, None, :]

    def train_loss(self, step: tf.Tensor) -> tf.Tensor:
        x, y = self.splits["train"]
        index = self.batches(step)  # [S, batch]
        logits = self.logits(tf.gather(x, index))
        labels = tf.gather(y, index)
        return tf.reduce_mean(
            tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits), axis=-1
        )

    def evaluate(self, step: tf.Tensor) -> dict[str, tf.Tensor]:
        metrics = {}
        for split, (x, y) in self.splits.items():
            logits = self.logits(x[None])
            labels = tf.broadcast_to(y, tf.shape(logits)[:2])
            loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
            wrong = tf.cast(tf.argmax(logits, axis=-1, output_type=tf.int32) != labels, tf.float32)
            metrics[f"{split}_error"] = tf.reduce_mean(wrong, axis=-1)
            metrics[f"{split}_loss"] = tf.reduce_mean(loss, axis=-1)
        return metrics

    def final_arrays(self) -> dict[str, np.ndarray]:
        arrays = {f"w{i}": w.numpy() for i, w in enumerate(self.w)}
        arrays.update({f"b{i}": b.numpy() for i, b in enumerate(self.b)})
        arrays.update(u=self.u.numpy(), c=self.c.numpy())
        if self.cfg.learner == "galu0":
            arrays["f"] = self.f.numpy()
        return arrays


def train_network(cfg: GatingConfig, seeds: Sequence[int], ctx: engine.RunContext) -> None:
    """Train every seed of one network as one ensemble and write their run directories."""
    task = GatingEnsemble(cfg, seeds)
    optimizer = engine.Adam(task.trainable_variables, cfg.learning_rate)
    engine.train(task, optimizer, engine.Schedule(cfg.steps, cfg.eval_every), ctx, asdict(cfg))


def train_on_images(cfg: GatingConfig, seeds: Sequence[int], ctx: engine.RunContext) -> None:
    """Fig 1: train every seed of one (dataset, learner, k, lr, α) setting as one ensemble."""
    if ctx.data_dir is None:
        raise ValueError(
            f"{cfg.dataset} is read from the folder rule dataset writes: run this variant "
            "through the workflow, or pass that folder as data_dir"
        )
    task = ImageEnsemble(cfg, seeds, whitened_images(cfg, ctx.data_dir))
    optimizer = engine.Adam(task.trainable_variables, cfg.learning_rate)
    engine.train(task, optimizer, engine.Schedule(cfg.steps, cfg.eval_every), ctx, asdict(cfg))


def run(cfg: GatingConfig, seeds: Sequence[int], ctx: engine.RunContext) -> None:
    """Train one variant, every seed at once: a network, a width search's networks, or a
    network on images."""
    if cfg.experiment == "width":
        search_width(cfg, seeds, ctx)
    elif cfg.experiment == "images":
        train_on_images(cfg, seeds, ctx)
    else:
        train_network(cfg, seeds, ctx)


# --------------------------------------------------------------------------------------------
# Fig 5: the smallest width that fits d′ random targets.


def _finished_probe(directory: Path, name: str, seed: int, cfg: GatingConfig) -> runs.Run | None:
    """A probe's run of ``seed`` if it is complete and was trained with ``cfg``."""
    try:
        return runs.read_run(directory, "gating", name, seed, asdict(cfg))
    except runs.CorruptRunError:
        return None


def search_width(cfg: GatingConfig, seeds: Sequence[int], ctx: engine.RunContext) -> None:
    """The authors' binary search (``spec.width_search``) for the smallest width whose training
    MSE, averaged over the seeds, falls below ``cfg.target_mse``; then one run per seed that
    holds every probe.

    Each probe trains every seed at one width through the engine, into run directories of its
    own under the job's checkpoint folder. A finished probe is kept there, so a search stopped
    midway resumes at its first unfinished probe (and that probe at its last checkpoint).
    """
    folder = ctx.checkpoint_dir / "probes"
    probes: dict[int, list[runs.Run]] = {}

    def loss_at(k: int) -> float:
        probe_cfg, name = replace(cfg, k=k), f"{ctx.variant}-k{k}"
        dirs = {seed: folder / name / f"seed{seed}" for seed in seeds}
        found = [_finished_probe(dirs[s], name, s, probe_cfg) for s in seeds]
        if any(run is None for run in found):
            probe_ctx = replace(
                ctx, variant=name, out_dirs=dirs, checkpoint_dir=folder / name / "checkpoint"
            )
            train_network(probe_cfg, seeds, probe_ctx)
            found = [runs.read_run(dirs[s], "gating", name, s, asdict(probe_cfg)) for s in seeds]
        probes[k] = found
        # A diverged seed has fitted nothing: it counts as an infinite loss.
        finals = [_final_train_mse(run) for run in found]
        return float(np.mean(np.where(np.isfinite(finals), finals, np.inf)))

    tried = width_search(cfg.min_width, cfg.max_width, cfg.target_mse, loss_at)
    for index, seed in enumerate(seeds):
        _write_search_run(cfg, seed, ctx, tried, [probes[k][index] for k, _ in tried])
    # The probes stay until the family's aggregate job removes the checkpoint folder, so that a
    # kill between here and Snakemake's record of the job costs no probe again.


def _final_train_mse(run: runs.Run) -> float:
    curve = run.curve("test", "train_loss")
    return float(curve.iloc[-1]) if len(curve) else math.nan


def _write_search_run(
    cfg: GatingConfig,
    seed: int,
    ctx: engine.RunContext,
    tried: list[tuple[int, float]],
    probe_runs: list[runs.Run],
) -> None:
    """One seed's run of a width search: every probe's metrics (metric ``<name>@k<k>``), the
    widths tried with this seed's final training MSE and the seeds' mean at each, and a meta.json
    that adds up the probes' training."""
    widths = [k for k, _ in tried]
    metrics = pd.concat(
        [
            run.metrics.assign(metric=run.metrics.metric + f"@k{k}")
            for k, run in zip(widths, probe_runs, strict=True)
        ],
        ignore_index=True,
    )
    diverged = [k for k, run in zip(widths, probe_runs, strict=True) if run.diverged]
    meta = {
        **probe_runs[0].meta,  # provenance, seeds, the job's scale and name: the same for all
        "variant": ctx.variant,
        "hparams": asdict(cfg),
        # A seed diverged in some probe: its NaNs are in the metrics, the run says so.
        "status": "diverged" if diverged else "ok",
        "diverged_at_step": None,
        "steps_completed": cfg.steps,
        "wall_time_s": round(sum(run.meta["wall_time_s"] for run in probe_runs), 3),
        "resumed_from_steps": [s for run in probe_runs for s in run.meta["resumed_from_steps"]],
        "gpu_usage": None,  # per probe, in the probes below
        "probes": [
            {
                "k": k,
                "mean_train_mse": loss,
                "diverged": k in diverged,
                "wall_time_s": run.meta["wall_time_s"],
                "gpu_usage": run.meta["gpu_usage"],
            }
            for (k, loss), run in zip(tried, probe_runs, strict=True)
        ],
    }
    arrays = {
        "widths": np.array(widths),
        "train_mse": np.array([_final_train_mse(run) for run in probe_runs]),
        "mean_train_mse": np.array([loss for _, loss in tried]),
    }
    runs.write_run(ctx.out_dirs[seed], metrics, meta, arrays)
