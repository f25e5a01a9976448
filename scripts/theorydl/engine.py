"""The training engine shared by every experiment family.

A family supplies a *task*: a ``tf.Module`` whose variables carry a leading seed axis (one slice per
seed, so one compiled step trains every seed of a variant at once) and which can draw its own
training batch for a given step and evaluate itself. The engine does the rest:

- compiled multi-step loops (``tf.function`` around a ``tf.range`` loop: one Python call per
  evaluation interval, not per step);
- per-seed losses summed into one objective: the seeds share no variable, so each slice's gradient
  is exactly its own seed's gradient;
- tidy metrics (``step, split, metric, value``) per seed, ``meta.json`` with provenance;
- checkpoint and resume: the state (variables, optimizer slots, step, metrics so far) is saved
  atomically; a killed job started again resumes there and ends with the same numbers, because
  every batch is a pure function of (seed, step). The final state is saved too and left for the
  family's aggregate job to remove, so a kill after the job wrote its runs but before Snakemake
  recorded it done costs a rewrite of the runs, not the training;
- snapshots: arrays a task wants kept at given steps (e.g. decoded curves after 500 and
  10 000 steps) are saved with the run as ``<name>@<step>``;
- divergence: a seed whose loss turns NaN or infinite is marked diverged at that step.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd
import tensorflow as tf

from theorydl import runtime
from theorydl.runs import atomic_write_text, write_failed, write_run

log = logging.getLogger(__name__)


class Task(Protocol):
    """What a family hands to the engine. Every tensor's leading axis is the seed axis."""

    seeds: tuple[int, ...]
    trainable_variables: Sequence[tf.Variable]

    def train_loss(self, step: tf.Tensor) -> tf.Tensor:
        """Per-seed training loss ``[S]`` on the batch of this step (drawn inside)."""

    def evaluate(self, step: tf.Tensor) -> dict[str, tf.Tensor]:
        """Per-seed test metrics, each ``[S]``."""

    def final_arrays(self) -> dict[str, np.ndarray]:
        """Arrays saved with the run (weights, targets), each with a leading seed axis."""

    # Optional: tasks with Schedule.snapshot_steps also define
    # def snapshot(self) -> dict[str, np.ndarray]: arrays with a leading seed axis.


@dataclass(frozen=True)
class Schedule:
    """How long to train, how often to evaluate (also at step 0 and at the last step), and at
    which steps to keep the task's snapshot arrays."""

    steps: int
    eval_every: int
    snapshot_steps: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if self.steps < 1 or self.eval_every < 1:
            raise ValueError(f"steps and eval_every must be positive: {self}")
        late = [s for s in self.snapshot_steps if not 0 <= s <= self.steps]
        if late:
            raise ValueError(f"snapshot steps {late} lie outside [0, steps={self.steps}]")

    def next_stop(self, step: int) -> int:
        """The next step after ``step`` at which the loop must pause (evaluation, snapshot, end)."""
        stops = [step - step % self.eval_every + self.eval_every, self.steps]
        stops += [s for s in self.snapshot_steps if s > step]
        return min(stops)


@dataclass(frozen=True)
class RunContext:
    """Where a job writes and how it checkpoints; built by the entry point from Snakemake's job."""

    family: str
    variant: str
    out_dirs: dict[int, Path]
    checkpoint_dir: Path
    checkpoint_seconds: float = 60.0
    threads: int = 1
    extra_meta: dict[str, Any] = field(default_factory=dict)
    data_dir: Path | None = None  # where rule dataset wrote the real images a variant reads
    code: str = ""  # digest of the code the job runs: a checkpoint resumes only the same code


# --------------------------------------------------------------------------------------------
# Optimizers. Written out rather than taken from Keras so that their state is plain variables
# with the seed axis, and so that Adam is the TF1 AdamOptimizer the papers' scripts ran.


class SGD(tf.Module):
    """Plain stochastic gradient descent."""

    def __init__(self, variables: Sequence[tf.Variable], learning_rate: float):
        super().__init__(name="sgd")
        self.learning_rate = learning_rate

    def apply(self, grads: Sequence[tf.Tensor], variables: Sequence[tf.Variable]) -> None:
        for grad, var in zip(grads, variables, strict=True):
            var.assign_sub(self.learning_rate * grad)


class Adam(tf.Module):
    """Adam with TF1's update: ``lr·sqrt(1-β₂ᵗ)/(1-β₁ᵗ) · m / (sqrt(v) + ε)``.

    TF1 puts ε outside the bias correction (Keras does too, but its default ε is 1e-7, not the
    scripts' 1e-5 or TF1's 1e-8): families pass ε explicitly.
    """

    def __init__(
        self,
        variables: Sequence[tf.Variable],
        learning_rate: float,
        beta1: float = 0.9,
        beta2: float = 0.999,
        epsilon: float = 1e-8,
    ):
        super().__init__(name="adam")
        self.learning_rate, self.beta1, self.beta2, self.epsilon = (
            learning_rate,
            beta1,
            beta2,
            epsilon,
        )
        self.m = [tf.Variable(tf.zeros_like(v), trainable=False) for v in variables]
        self.v = [tf.Variable(tf.zeros_like(v), trainable=False) for v in variables]
        self.t = tf.Variable(0.0, trainable=False)

    def step_size(self, t: tf.Tensor, dtype: tf.DType) -> tf.Tensor:
        """``lr·sqrt(1-β₂ᵗ)/(1-β₁ᵗ)`` in the variable's own dtype, so that a float64 model is
        updated in float64 throughout (for float32 the cast is the identity)."""
        t = tf.cast(t, dtype)
        return self.learning_rate * tf.sqrt(1.0 - self.beta2**t) / (1.0 - self.beta1**t)

    def apply(self, grads: Sequence[tf.Tensor], variables: Sequence[tf.Variable]) -> None:
        t = self.t.assign_add(1.0)
        for grad, var, m, v in zip(grads, variables, self.m, self.v, strict=True):
            lr_t = self.step_size(t, var.dtype)
            m.assign(self.beta1 * m + (1.0 - self.beta1) * grad)
            v.assign(self.beta2 * v + (1.0 - self.beta2) * tf.square(grad))
            var.assign_sub(lr_t * m / (tf.sqrt(v) + self.epsilon))


class FusedAdam(Adam):
    """:class:`Adam` with the same state and update, done by TF1's own fused ``ApplyAdam`` kernel
    (the one ``tf.compat.v1.train.AdamOptimizer`` runs): one pass over each variable instead of
    about a dozen. Worth it when a step's time goes into the update of large weights (the stocks
    network at k = 2000 has 2M weights per seed and trains 3× faster); equal to :class:`Adam` up
    to float rounding.
    """

    def apply(self, grads: Sequence[tf.Tensor], variables: Sequence[tf.Variable]) -> None:
        t = self.t.assign_add(1.0)
        for grad, var, m, v in zip(grads, variables, self.m, self.v, strict=True):
            t_var = tf.cast(t, var.dtype)  # the kernel takes every scalar in the variable's dtype
            tf.raw_ops.ResourceApplyAdam(
                var=var.handle,
                m=m.handle,
                v=v.handle,
                beta1_power=self.beta1**t_var,
                beta2_power=self.beta2**t_var,
                lr=tf.constant(self.learning_rate, var.dtype),
                beta1=tf.constant(self.beta1, var.dtype),
                beta2=tf.constant(self.beta2, var.dtype),
                epsilon=tf.constant(self.epsilon, var.dtype),
                grad=tf.convert_to_tensor(grad),  # a gather's gradient arrives as IndexedSlices
            )


# --------------------------------------------------------------------------------------------


class _Loop(tf.Module):
    """The compiled part: ``advance`` runs ``n`` steps in one call, ``evaluate`` one evaluation."""

    def __init__(self, task: Task, optimizer: tf.Module):
        super().__init__(name="loop")
        self.task = task
        self.optimizer = optimizer
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False)

    @tf.function
    def advance(self, n: tf.Tensor) -> tf.Tensor:
        variables = list(self.task.trainable_variables)
        # The mean train loss in the model's own dtype (float32 but for a float64 model).
        dtype = variables[0].dtype if variables else tf.float32
        total = tf.zeros([len(self.task.seeds)], dtype)
        for _ in tf.range(n):
            with tf.GradientTape() as tape:
                loss = self.task.train_loss(self.step)
                objective = tf.reduce_sum(loss)
            grads = tape.gradient(objective, variables)
            self.optimizer.apply(grads, variables)
            self.step.assign_add(1)
            total += loss
        return total / tf.cast(n, dtype)

    @tf.function
    def evaluate(self) -> dict[str, tf.Tensor]:
        return self.task.evaluate(self.step)


@dataclass
class _Progress:
    """Everything besides TF variables that a resumed run needs."""

    rows: list[tuple[int, int, str, str, float]]  # (seed, step, split, metric, value)
    diverged_at: dict[int, int]
    wall_time_s: float
    resumed_from: list[int]
    snapshots: dict[str, np.ndarray] = field(default_factory=dict)  # "<name>@<step>" → [S, ...]


class _Checkpoints:
    """Atomic checkpoints: ``<dir>/step-N/`` directories and a ``latest`` pointer file.

    The pointer is replaced only after a checkpoint is complete, so a kill at any moment leaves
    the previous checkpoint usable. A checkpoint written for other hyperparameters, seeds,
    threads or code is ignored.
    """

    def __init__(self, directory: Path, checkpoint: tf.train.Checkpoint, fingerprint: str):
        self.directory = directory
        self.checkpoint = checkpoint
        self.fingerprint = fingerprint

    def restore(self) -> _Progress | None:
        pointer = self.directory / "latest"
        if not pointer.is_file():
            return None
        target = self.directory / pointer.read_text().strip()
        try:
            state = json.loads((target / "progress.json").read_text())
        except (OSError, json.JSONDecodeError):
            log.warning("checkpoint %s is unreadable; starting from scratch", target)
            return None
        if state.get("fingerprint") != self.fingerprint:
            log.warning("checkpoint %s belongs to other settings; starting from scratch", target)
            return None
        self.checkpoint.read(str(target / "state")).assert_consumed()
        with np.load(target / "snapshots.npz") as saved:
            snapshots = {name: saved[name] for name in saved.files}
        return _Progress(
            rows=[tuple(r) for r in state["rows"]],
            diverged_at={int(k): v for k, v in state["diverged_at"].items()},
            wall_time_s=state["wall_time_s"],
            resumed_from=state["resumed_from"],
            snapshots=snapshots,
        )

    def save(self, step: int, progress: _Progress) -> None:
        name = f"step-{step}"
        target = self.directory / name
        shutil.rmtree(target, ignore_errors=True)
        try:
            target.mkdir(parents=True)
            self.checkpoint.write(str(target / "state"))
            np.savez(target / "snapshots.npz", **progress.snapshots)
        except OSError as error:  # a full disk, a read-only folder: say so, and what to do
            raise write_failed(target, error.errno, error.strerror or str(error)) from error
        except tf.errors.OpError as error:  # TensorFlow's writer reports them as its own errors
            raise write_failed(target, None, error.message) from error
        state = {
            "fingerprint": self.fingerprint,
            "step": step,
            "rows": progress.rows,
            "diverged_at": progress.diverged_at,
            "wall_time_s": progress.wall_time_s,
            "resumed_from": progress.resumed_from,
        }
        atomic_write_text(target / "progress.json", json.dumps(state))
        atomic_write_text(self.directory / "latest", name + "\n")
        for old in self.directory.glob("step-*"):
            if old.name != name:
                shutil.rmtree(old, ignore_errors=True)


def fingerprint(ctx: RunContext, seeds: Sequence[int], hparams: dict[str, Any]) -> str:
    """Identity of a training job's settings: a checkpoint resumes only the same settings."""
    identity = {
        "family": ctx.family,
        "variant": ctx.variant,
        "seeds": list(seeds),
        "hparams": hparams,
        "threads": ctx.threads,
        "code": ctx.code,
    }
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()


def _record(progress: _Progress, seeds: Sequence[int], step: int, split: str, values: dict) -> None:
    for metric, per_seed in values.items():
        for seed, value in zip(seeds, np.asarray(per_seed, dtype=np.float64), strict=True):
            if seed in progress.diverged_at:
                value = math.nan
            progress.rows.append((seed, step, split, metric, float(value)))


def duration(seconds: float) -> str:
    """A short duration for progress lines: '42s', '3m05s', '2h07m'."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def progress_line(
    ctx: RunContext, step: int, total: int, pace: tuple[int, float], metric: str, values: Any
) -> str:
    """One line of a training job's log per evaluation: where the job is, how long it has run,
    when it should end at its pace so far (``pace``: steps and seconds of this stretch, since a
    start or a resume), and the median over seeds of the task's first metric.
    ``theorydl.status`` reads these lines back; keep the format."""
    steps_here, elapsed = pace
    eta = elapsed * (total - step) / steps_here if steps_here else float("nan")
    finite = np.asarray(values, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    median = f"{np.median(finite):.4g}" if len(finite) else "nan"
    shown_eta = duration(eta) if np.isfinite(eta) else "?"
    return (
        f"progress {ctx.family}/{ctx.variant} step {step}/{total} "
        f"({100 * step / total:.0f}%) elapsed {duration(elapsed)} eta {shown_eta} "
        f"{metric} median {median}"
    )


def _snapshot(task: Task, schedule: Schedule, step: int, progress: _Progress) -> None:
    if step in schedule.snapshot_steps:
        for name, values in task.snapshot().items():
            progress.snapshots[f"{name}@{step}"] = np.asarray(values)


def train(
    task: Task,
    optimizer: tf.Module,
    schedule: Schedule,
    ctx: RunContext,
    hparams: dict[str, Any],
) -> None:
    """Train every seed of ``task`` to ``schedule.steps`` and write one run directory per seed."""
    seeds = list(task.seeds)
    missing = sorted(set(seeds) - set(ctx.out_dirs))
    if missing:
        raise ValueError(f"no output directory for seeds {missing}")
    loop = _Loop(task, optimizer)
    checkpoints = _Checkpoints(
        ctx.checkpoint_dir, tf.train.Checkpoint(loop=loop), fingerprint(ctx, seeds, hparams)
    )
    # On a GPU, how busy the device was while this job trained goes into meta.json.
    with runtime.GpuMonitor(runtime.process_gpu(tf)) as gpu:
        step, progress = _train_to_the_end(loop, task, schedule, ctx, checkpoints)
    if progress.resumed_from[-1:] != [step]:  # not restored from this very checkpoint
        checkpoints.save(step, progress)
    _write_outputs(task, ctx, seeds, step, hparams, progress, runtime.gpu_usage(gpu, tf))
    log.info(
        "finished %s/%s at step %d in %s of training",
        ctx.family,
        ctx.variant,
        step,
        duration(progress.wall_time_s),
    )


def _train_to_the_end(
    loop: _Loop, task: Task, schedule: Schedule, ctx: RunContext, checkpoints: _Checkpoints
) -> tuple[int, _Progress]:
    """Evaluate, train and checkpoint from the last checkpoint (or step 0) to the end."""
    seeds = list(task.seeds)
    progress = checkpoints.restore()
    if progress is None:
        log.info("starting %s/%s from scratch (%d seeds)", ctx.family, ctx.variant, len(seeds))
        progress = _Progress(rows=[], diverged_at={}, wall_time_s=0.0, resumed_from=[])
        _record(progress, seeds, 0, "test", loop.evaluate())
        _snapshot(task, schedule, 0, progress)
    else:
        progress.resumed_from.append(int(loop.step.numpy()))
        log.info("resumed %s/%s at step %d", ctx.family, ctx.variant, int(loop.step.numpy()))

    started = time.perf_counter()
    wall_before = progress.wall_time_s
    last_checkpoint = time.monotonic()
    step = first_step = int(loop.step.numpy())
    while step < schedule.steps and len(progress.diverged_at) < len(seeds):
        n = schedule.next_stop(step) - step
        train_loss = loop.advance(tf.constant(n, tf.int64)).numpy()
        step += n
        for seed, value in zip(seeds, train_loss, strict=True):
            if not np.isfinite(value) and seed not in progress.diverged_at:
                progress.diverged_at[seed] = step
                log.warning("seed %d diverged by step %d (train loss %s)", seed, step, value)
        _record(progress, seeds, step, "train", {"loss": train_loss})
        evaluated = None
        if step % schedule.eval_every == 0 or step == schedule.steps:
            evaluated = loop.evaluate()
            _record(progress, seeds, step, "test", evaluated)
        _snapshot(task, schedule, step, progress)
        progress.wall_time_s = wall_before + time.perf_counter() - started
        if evaluated:
            metric = next(iter(evaluated))
            pace = (step - first_step, time.perf_counter() - started)
            log.info(
                "%s", progress_line(ctx, step, schedule.steps, pace, metric, evaluated[metric])
            )
        if step < schedule.steps and time.monotonic() - last_checkpoint >= ctx.checkpoint_seconds:
            checkpoints.save(step, progress)
            log.info("checkpoint %s/%s at step %d", ctx.family, ctx.variant, step)
            last_checkpoint = time.monotonic()
    return step, progress


def _write_outputs(
    task: Task,
    ctx: RunContext,
    seeds: list[int],
    step: int,
    hparams: dict[str, Any],
    progress: _Progress,
    gpu_usage: dict[str, Any] | None,
) -> None:
    rows = pd.DataFrame(progress.rows, columns=["seed", "step", "split", "metric", "value"])
    arrays = {**task.final_arrays(), **progress.snapshots}
    about = runtime.provenance(tf, ctx.threads)
    for index, seed in enumerate(seeds):
        diverged = seed in progress.diverged_at
        meta = {
            "family": ctx.family,
            "variant": ctx.variant,
            "seed": seed,
            "hparams": hparams,
            "status": "diverged" if diverged else "ok",
            "diverged_at_step": progress.diverged_at.get(seed),
            "steps_completed": step,
            "wall_time_s": round(progress.wall_time_s, 3),
            "ensemble_seeds": seeds,
            "resumed_from_steps": progress.resumed_from,
            "code_digest": ctx.code or None,
            # Of the last stretch of training: a resumed job's earlier stretches are not in it.
            "gpu_usage": gpu_usage,
            **about,
            **ctx.extra_meta,
        }
        write_run(
            ctx.out_dirs[seed],
            rows[rows.seed == seed],
            meta,
            {name: values[index] for name, values in arrays.items()},
        )
