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

    python scripts/benchmark_engine.py                 # d = 10, 30, 50; 5 seeds; 1 thread
    python scripts/benchmark_engine.py --dims 10 --seeds 10 --threads 2
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

SCRIPTS = Path(__file__).resolve().parent
BATCH, LR, EVAL_EVERY, EVAL_SAMPLES = 128, 0.01, 100, 500


def engine_rate(d: int, seeds: int, steps: int, threads: int) -> float:
    """Seed-steps per second of the engine's compiled ensemble loop (after tracing)."""
    sys.path.insert(0, str(SCRIPTS))
    from theorydl import runtime

    tf = runtime.setup_tensorflow(threads)
    from theorydl import engine
    from theorydl.parity import ParityConfig, ParityEnsemble

    task = ParityEnsemble(
        ParityConfig(d=d, batch_size=BATCH, eval_samples=EVAL_SAMPLES), list(range(seeds))
    )
    loop = engine._Loop(task, engine.SGD(task.trainable_variables, LR))
    chunk = tf.constant(EVAL_EVERY, tf.int64)
    loop.advance(chunk)  # trace and warm up
    loop.evaluate()
    start = time.perf_counter()
    for _ in range(steps // EVAL_EVERY):
        loop.advance(chunk).numpy()
        {k: v.numpy() for k, v in loop.evaluate().items()}
    return seeds * (steps // EVAL_EVERY) * EVAL_EVERY / (time.perf_counter() - start)


def feed_dict_rate(d: int, seeds: int, steps: int, threads: int) -> float:
    """Seed-steps per second of a TF1-style session loop, seeds one after another."""
    import tensorflow as tf

    tf1 = tf.compat.v1
    tf1.disable_eager_execution()
    total_time, total_steps = 0.0, 0
    for seed in range(seeds):
        graph = tf1.Graph()
        with graph.as_default():
            tf1.set_random_seed(seed)
            x = tf1.placeholder(tf.float32, [None, d])
            y = tf1.placeholder(tf.float32, [None])
            w1 = tf1.Variable(tf1.truncated_normal([d, 10 * d], stddev=d**-0.5))
            b1 = tf1.Variable(tf1.zeros([10 * d]))
            w2 = tf1.Variable(tf1.truncated_normal([10 * d, 1], stddev=(10 * d) ** -0.5))
            b2 = tf1.Variable(tf1.zeros([1]))
            score = tf.squeeze(tf.matmul(tf.nn.relu(tf.matmul(x, w1) + b1), w2) + b2, 1)
            loss = tf.reduce_mean(tf.nn.relu(1.0 - y * score))
            accuracy = tf.reduce_mean(tf.cast(y * score > 0, tf.float32))
            train = tf1.train.GradientDescentOptimizer(LR).minimize(loss)
            init = tf1.global_variables_initializer()
        session_config = tf1.ConfigProto(
            intra_op_parallelism_threads=threads, inter_op_parallelism_threads=threads
        )
        rng = np.random.default_rng(seed)
        subset = rng.binomial(d, 0.5)

        def batch(n, rng=rng, subset=subset):
            inputs = 1.0 - 2.0 * (rng.standard_normal((n, d)) < 0)
            return inputs, np.prod(inputs[:, :subset], axis=1)

        with tf1.Session(graph=graph, config=session_config) as sess:
            sess.run(init)
            for _ in range(EVAL_EVERY):  # warm up
                xs, ys = batch(BATCH)
                sess.run(train, {x: xs, y: ys})
            start = time.perf_counter()
            for step in range(1, steps + 1):
                xs, ys = batch(BATCH)
                sess.run(train, {x: xs, y: ys})
                if step % EVAL_EVERY == 0:
                    xs, ys = batch(EVAL_SAMPLES)
                    sess.run([accuracy, loss], {x: xs, y: ys})
            total_time += time.perf_counter() - start
            total_steps += steps
    return total_steps / total_time


def measure(mode: str, d: int, seeds: int, steps: int, threads: int) -> float:
    """Run one measurement in a fresh Python process and return its rate."""
    code = (
        f"import sys; sys.path.insert(0, {str(SCRIPTS)!r}); import benchmark_engine as b; "
        f"print(b.{mode}_rate({d}, {seeds}, {steps}, {threads}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": ""},
    )
    return float(done.stdout.strip().splitlines()[-1])


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
