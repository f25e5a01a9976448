"""Benchmark: how to train the stocks task fast (Failures §3.2 settings, d = 1000, batch 100).

Prints seed-steps per second and CPU seconds per 1 000 seed-steps (evaluations every 100 steps
included) for each k and

- ``ensemble``: every seed in one ensemble (a leading seed axis), TF1's fused Adam kernel: what
  the workflow runs;
- ``sequential``: the same seeds one after another in the same process, fused Adam;
- ``unfused``: the ensemble with the engine's written-out Adam (about a dozen passes over the
  d·k weights per step instead of one).

An ensemble step of S seeds counts S seed-steps. CPU time is the process's own, so it is less
sensitive than wall time to other processes sharing the machine.

    python scripts/bench/benchmark_stocks.py                    # k = 10, 1000, 2000; 5 seeds
    python scripts/bench/benchmark_stocks.py --ks 2000 --steps 500
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent  # the benchmarks import each other
SCRIPTS = BENCH.parent  # and the theorydl package
EVAL_EVERY = 100


def rate(k: int, seeds: list[int], steps: int, optimizer: str) -> tuple[float, float]:
    """(seed-steps per second, CPU seconds per 1 000 seed-steps) after tracing."""
    from theorydl import engine
    from theorydl.families.stocks import model as stocks

    task = stocks.StocksEnsemble(stocks.StocksConfig(k=k), seeds)
    adam = {"fused": engine.FusedAdam, "unfused": engine.Adam}[optimizer]
    loop = engine._Loop(task, adam(task.trainable_variables, 0.1, 0.9, 0.99, 1e-5))
    import tensorflow as tf

    chunk = tf.constant(EVAL_EVERY, tf.int64)
    loop.advance(chunk)  # trace and warm up
    loop.evaluate()
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(steps // EVAL_EVERY):
        loop.advance(chunk).numpy()
        {name: value.numpy() for name, value in loop.evaluate().items()}
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    seed_steps = len(seeds) * (steps // EVAL_EVERY) * EVAL_EVERY
    return seed_steps / wall, 1000 * cpu / seed_steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ks", type=int, nargs="+", default=[10, 1000, 2000])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=300, help="timed steps (multiple of 100)")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    sys.path[:0] = [str(BENCH), str(SCRIPTS)]
    from theorydl import runtime

    runtime.setup_tensorflow(args.threads)
    seeds = list(range(args.seeds))
    print("| k | mode | seed-steps/s | CPU s per 1 000 seed-steps |")
    print("|---|---|---|---|")
    for k in args.ks:
        results = {"ensemble": rate(k, seeds, args.steps, "fused")}
        one_by_one = [rate(k, [seed], args.steps, "fused") for seed in seeds]
        results["sequential"] = (
            args.seeds / sum(1 / r for r, _ in one_by_one),
            sum(c for _, c in one_by_one) / args.seeds,
        )
        results["unfused"] = rate(k, seeds, args.steps, "unfused")
        for mode, (speed, cpu) in results.items():
            print(f"| {k} | {mode} | {speed:,.0f} | {cpu:.2f} |", flush=True)


if __name__ == "__main__":
    main()
