"""Does a seed ensemble pay for the tuple CNN? Seed-steps per second, three ways.

- sequential: one task per seed, trained one after another (what a job would do without an
  ensemble);
- ensemble: one task holding every seed (leading seed axis), each seed's convolutions run on its
  own images, the dense layers and the optimizer batched over seeds (what ``tuples.run`` does);
- grouped: the same ensemble with the seed axis folded into the channels, so that each conv
  layer is one grouped convolution over all seeds.

All on one TensorFlow thread, timed in process CPU time (the build machine is shared; CPU time is
what two idle cores would spend), at the quick scale's batch of 64 tuples:

    python scripts/bench/benchmark_tuples.py [--seeds 5] [--steps 60] [--ks 1 4]
"""

from __future__ import annotations

import argparse
import time

from theorydl import runtime

tf = runtime.setup_tensorflow(1)

from theorydl import engine  # noqa: E402 (after TensorFlow's setup)
from theorydl.families.tuples import model as tuples  # noqa: E402


class GroupedImageScorer(tuples.ImageScorer):
    """N(1) with every seed's convolutions done as one grouped convolution per layer."""

    def features(self, images: tf.Tensor) -> tf.Tensor:
        seeds = len(self.seeds)
        x = tf.transpose(images, [1, 2, 3, 0])  # [m, 28, 28, S]: seed s in channel s
        conv1 = tf.transpose(self.conv1[:, :, :, 0, :], [1, 2, 0, 3])  # [5, 5, S, 16]
        x = tf.nn.depthwise_conv2d(x, conv1, [1, 1, 1, 1], "SAME")
        x = tf.nn.max_pool2d(x + tf.reshape(self.conv1_b, [-1]), 2, 2, "SAME")
        conv2 = tf.reshape(tf.transpose(self.conv2, [1, 2, 3, 0, 4]), [5, 5, 16, seeds * 16])
        x = tf.nn.conv2d(x, conv2, 1, "SAME") + tf.reshape(self.conv2_b, [-1])
        x = tf.nn.max_pool2d(x, 2, 2, "SAME")  # [m, 7, 7, S·16], seed-major channels
        x = tf.reshape(
            tf.transpose(tf.reshape(x, [-1, 7, 7, seeds, 16]), [3, 0, 1, 2, 4]), [seeds, -1, 784]
        )
        x = tf.nn.relu(tf.matmul(x, self.dense3) + self.dense3_b)
        return tf.nn.relu(tf.matmul(x, self.dense4) + self.dense4_b)


def check_same_features(grouped: GroupedImageScorer, plain: tuples.ImageScorer) -> None:
    """The grouped layout computes what the per-seed one does (else the timing means nothing)."""
    images, _, _ = tuples.sample_tuples(tf.constant([0, 1], tf.int64), 8 * len(plain.seeds), 1)
    images = tf.reshape(images, [len(plain.seeds), 8, 28, 28])
    gap = tf.reduce_max(tf.abs(grouped.features(images) - plain.features(images)))
    if gap > 1e-4:
        raise AssertionError(f"grouped convolutions differ from per-seed ones by {gap}")


def cpu_seconds_per_step(task: tuples.TuplesTask, steps: int) -> float:
    """CPU seconds per training step of ``task`` (after one warm-up call that compiles)."""
    loop = engine._Loop(task, engine.Adam(task.trainable_variables, 1e-3, 0.9, 0.99, 1e-5))
    loop.advance(tf.constant(2, tf.int64))
    started = time.process_time()
    loop.advance(tf.constant(steps, tf.int64))
    return (time.process_time() - started) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--ks", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()
    seeds = list(range(args.seeds))
    print(f"seed-steps per CPU second, batch {args.batch_size}, {args.seeds} seeds, 1 thread")
    print(f"{'k':>3} {'sequential':>11} {'ensemble':>9} {'grouped':>8}")
    for k in args.ks:
        cfg = tuples.TuplesConfig(k=k, batch_size=args.batch_size, test_tuples=10)
        sequential = sum(
            cpu_seconds_per_step(tuples.TuplesTask(cfg, [s]), args.steps) for s in seeds
        )
        ensemble = cpu_seconds_per_step(tuples.TuplesTask(cfg, seeds), args.steps)
        grouped_task = tuples.TuplesTask(cfg, seeds)
        grouped_task.nets.image_scorer = GroupedImageScorer(seeds)  # same streams, same weights
        check_same_features(grouped_task.nets.image_scorer, tuples.ImageScorer(seeds))
        grouped = cpu_seconds_per_step(grouped_task, args.steps)
        rates = [args.seeds / t for t in (sequential, ensemble, grouped)]
        print(f"{k:>3} {rates[0]:>11.1f} {rates[1]:>9.1f} {rates[2]:>8.1f}")


if __name__ == "__main__":
    main()
