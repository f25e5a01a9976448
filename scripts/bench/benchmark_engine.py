"""Benchmark: the training engine against the research code of the papers' era.

Prints seed-steps per second on the parity task (Failures §2.1 settings: batch 128, SGD 0.01,
d → 10d → 1, evaluation on 500 fresh samples every 100 steps) for

- ``engine``: this package's engine: one compiled loop of many steps, every seed of a variant in
  one ensemble, data drawn on the device;
- ``feed_dict``: a ``tf.compat.v1`` graph and session, one ``sess.run`` per step, batches drawn
  with numpy on the host and fed through ``feed_dict``, one seed after another (how
  ``parity.py`` ran).

An ensemble step of S seeds counts S seed-steps. Both use the same TensorFlow thread count.
Each measurement runs in its own process (graph mode and eager mode cannot share one).

The timing harness (:func:`time_engine`, :func:`time_session`, :func:`run_isolated`) and the
TF1 pieces are shared with ``benchmark_families.py``, which runs the same comparison for every
experiment family.

    python scripts/bench/benchmark_engine.py                 # d = 10, 30, 50; 5 seeds; 1 thread
    python scripts/bench/benchmark_engine.py --dims 10 --seeds 10 --threads 2
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

BENCH = Path(__file__).resolve().parent  # the benchmarks import each other
SCRIPTS = BENCH.parent  # and the theorydl package
BATCH, LR, EVAL_EVERY, EVAL_SAMPLES = 128, 0.01, 100, 500


@dataclass(frozen=True)
class Timing:
    """One timed measurement: wall seconds over ``seed_steps`` seed-steps, and the last training
    loss seen (mean over the seeds), so that a caller can check the run trained something."""

    seconds: float
    seed_steps: int
    loss: float

    @property
    def rate(self) -> float:
        """Seed-steps per second."""
        return self.seed_steps / self.seconds


# --------------------------------------------------------------------------------------------
# The engine: one compiled loop per evaluation interval, every seed in one ensemble.


def time_engine(task: Any, optimizer: Any, steps: int, eval_every: int, warmup: int) -> Timing:
    """Time ``steps`` steps (whole evaluation intervals) of the engine's compiled loop.

    ``warmup`` steps and one evaluation run first, untimed: they trace both functions (the step
    count is a tensor, so the timed calls reuse the trace).
    """
    import tensorflow as tf

    from theorydl import engine

    loop = engine._Loop(task, optimizer)
    loop.advance(tf.constant(warmup, tf.int64)).numpy()
    loop.evaluate()
    chunk = tf.constant(eval_every, tf.int64)
    intervals = steps // eval_every
    start = time.perf_counter()
    for _ in range(intervals):
        loss = loop.advance(chunk).numpy()
        {name: value.numpy() for name, value in loop.evaluate().items()}
    seconds = time.perf_counter() - start
    return Timing(seconds, len(task.seeds) * intervals * eval_every, float(np.mean(loss)))


def engine_rate(d: int, seeds: int, steps: int, threads: int) -> float:
    """Seed-steps per second of the engine's compiled ensemble loop (after tracing)."""
    sys.path[:0] = [str(BENCH), str(SCRIPTS)]
    from theorydl import runtime

    runtime.setup_tensorflow(threads)
    from theorydl import engine
    from theorydl.families.parity.model import ParityConfig, ParityEnsemble

    task = ParityEnsemble(
        ParityConfig(d=d, batch_size=BATCH, eval_samples=EVAL_SAMPLES), list(range(seeds))
    )
    optimizer = engine.SGD(task.trainable_variables, LR)
    return time_engine(task, optimizer, steps, EVAL_EVERY, warmup=EVAL_EVERY).rate


# --------------------------------------------------------------------------------------------
# The papers' era: a TF1 graph per seed, one sess.run per step, batches fed from the host.


class HostData(Protocol):
    """Batches made with numpy on the host, as the research scripts made or read them."""

    def train_batch(self, step: int) -> tuple[np.ndarray, ...]:
        """The arrays fed at training step ``step``, in the order of the graph's inputs."""

    def eval_batch(self) -> tuple[np.ndarray, ...]:
        """The arrays fed at an evaluation (a fixed test set, or fresh samples)."""


@dataclass(frozen=True)
class SessionModel:
    """One seed's TF1 graph: placeholders, the training op, and the metrics an evaluation
    fetches (the loss first), with the host data fed to the placeholders."""

    graph: Any
    inputs: tuple[Any, ...]
    train: Any
    metrics: tuple[Any, ...]
    data: HostData


def session_config(threads: int) -> Any:
    """The TF1 session's thread settings: the same count as the engine's."""
    import tensorflow as tf

    return tf.compat.v1.ConfigProto(
        intra_op_parallelism_threads=threads, inter_op_parallelism_threads=threads
    )


def time_session(
    model: SessionModel, steps: int, eval_every: int, threads: int, warmup: int
) -> Timing:
    """Time ``steps`` steps of one seed's session loop: a batch made on the host and one
    ``sess.run`` per step, an evaluation every ``eval_every`` steps. ``warmup`` steps run first,
    untimed."""
    import tensorflow as tf

    def feed(arrays: Sequence[np.ndarray]) -> dict:
        return dict(zip(model.inputs, arrays, strict=True))

    with model.graph.as_default():
        init = tf.compat.v1.global_variables_initializer()
    with tf.compat.v1.Session(graph=model.graph, config=session_config(threads)) as sess:
        sess.run(init)
        for step in range(warmup):
            sess.run(model.train, feed(model.data.train_batch(step)))
        sess.run(model.metrics, feed(model.data.eval_batch()))
        loss = float("nan")
        start = time.perf_counter()
        for step in range(warmup, warmup + steps):
            sess.run(model.train, feed(model.data.train_batch(step)))
            if (step - warmup + 1) % eval_every == 0:
                loss = sess.run(model.metrics, feed(model.data.eval_batch()))[0]
        return Timing(time.perf_counter() - start, steps, float(loss))


def sequential_rate(timings: Sequence[Timing]) -> Timing:
    """The seeds' timings, one after another, as one: total seed-steps over total seconds."""
    return Timing(
        sum(t.seconds for t in timings),
        sum(t.seed_steps for t in timings),
        float(np.mean([t.loss for t in timings])),
    )


def tf1_dense(x: Any, fan_in: int, fan_out: int, name: str) -> Any:
    """An affine layer as the scripts wrote it: truncated normal weights with σ = 1/√fan-in
    (TF1's ±2σ truncation), zero bias."""
    import tensorflow as tf

    tf1 = tf.compat.v1
    w = tf1.Variable(tf1.truncated_normal([fan_in, fan_out], stddev=fan_in**-0.5), name=name)
    b = tf1.Variable(tf1.zeros([fan_out]), name=f"{name}_b")
    return tf.matmul(x, w) + b


class ParityHostData:
    """parity.py's data: fresh ±1 inputs drawn with numpy every step, the parity of a random
    subset of Binomial(d, 1/2) coordinates (the first ones; the inputs are i.i.d.)."""

    def __init__(self, d: int, seed: int, batch: int = BATCH, eval_samples: int = EVAL_SAMPLES):
        self.d, self.batch, self.eval_samples = d, batch, eval_samples
        self.rng = np.random.default_rng(seed)
        self.subset = self.rng.binomial(d, 0.5)

    def _draw(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        inputs = 1.0 - 2.0 * (self.rng.standard_normal((n, self.d)) < 0)
        return inputs, np.prod(inputs[:, : self.subset], axis=1)

    def train_batch(self, step: int) -> tuple[np.ndarray, np.ndarray]:
        return self._draw(self.batch)

    def eval_batch(self) -> tuple[np.ndarray, np.ndarray]:
        return self._draw(self.eval_samples)


def parity_session(d: int, seed: int, batch: int = BATCH) -> SessionModel:
    """parity.py's graph: d → 10d ReLU → 1, hinge loss, SGD 0.01."""
    import tensorflow as tf

    tf1 = tf.compat.v1
    graph = tf1.Graph()
    with graph.as_default():
        tf1.set_random_seed(seed)
        x = tf1.placeholder(tf.float32, [None, d])
        y = tf1.placeholder(tf.float32, [None])
        hidden = tf.nn.relu(tf1_dense(x, d, 10 * d, "w1"))
        score = tf.squeeze(tf1_dense(hidden, 10 * d, 1, "w2"), 1)
        loss = tf.reduce_mean(tf.nn.relu(1.0 - y * score))
        accuracy = tf.reduce_mean(tf.cast(y * score > 0, tf.float32))
        train = tf1.train.GradientDescentOptimizer(LR).minimize(loss)
    return SessionModel(graph, (x, y), train, (loss, accuracy), ParityHostData(d, seed, batch))


def feed_dict_rate(d: int, seeds: int, steps: int, threads: int) -> float:
    """Seed-steps per second of a TF1-style session loop, seeds one after another."""
    import tensorflow as tf

    tf.compat.v1.disable_eager_execution()
    timings = [
        time_session(parity_session(d, seed), steps, EVAL_EVERY, threads, warmup=EVAL_EVERY)
        for seed in range(seeds)
    ]
    return sequential_rate(timings).rate


# --------------------------------------------------------------------------------------------


# What a measurement process inherits: where programs are (nvidia-smi) and which GPUs it may use.
PASSED_VARIABLES = ("PATH", "HOME", "LD_LIBRARY_PATH", "CUDA_VISIBLE_DEVICES")


def passed_environment() -> dict[str, str]:
    """The variables of :data:`PASSED_VARIABLES` that this process has, and nothing else."""
    return {name: os.environ[name] for name in PASSED_VARIABLES if name in os.environ}


def run_isolated(module: str, expression: str) -> str:
    """Evaluate ``<module>.<expression>`` in a fresh Python process; return what it printed
    last. A fresh process per measurement: graph mode and eager mode cannot share one, and no
    measurement inherits another's thread pools or caches."""
    code = (
        f"import sys; sys.path[:0] = {[str(BENCH), str(SCRIPTS)]!r}; import {module} as b; "
        f"print(b.{expression})"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"TF_CPP_MIN_LOG_LEVEL": "3", **passed_environment()},
    )
    if done.returncode != 0:
        raise RuntimeError(f"{module}.{expression} failed:\n{done.stderr[-4000:]}")
    return done.stdout.strip().splitlines()[-1]


def measure(mode: str, d: int, seeds: int, steps: int, threads: int) -> float:
    """Run one measurement in a fresh Python process and return its rate."""
    return float(run_isolated("benchmark_engine", f"{mode}_rate({d}, {seeds}, {steps}, {threads})"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dims", type=int, nargs="+", default=[10, 30, 50])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=3000, help="timed steps per seed")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()

    rows = []
    print(
        f"parity, batch {BATCH}, {args.seeds} seeds, {args.threads} TF thread(s), "
        f"{args.steps} timed steps per seed"
    )
    print(f"{'d':>4} {'engine seed-steps/s':>20} {'feed_dict seed-steps/s':>23} {'ratio':>7}")
    for d in args.dims:
        ours = measure("engine", d, args.seeds, args.steps, args.threads)
        theirs = measure("feed_dict", d, args.seeds, args.steps, args.threads)
        rows.append({"d": d, "engine": ours, "feed_dict": theirs, "ratio": ours / theirs})
        print(f"{d:>4} {ours:>20,.0f} {theirs:>23,.0f} {ours / theirs:>6.1f}x", flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps(
                {"settings": vars(args) | {"json": str(args.json)}, "results": rows}, indent=2
            )
            + "\n"
        )


if __name__ == "__main__":
    main()
