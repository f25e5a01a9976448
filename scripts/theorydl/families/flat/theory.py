"""The test cost of the four step-function learners (Failures §5): seconds per prediction of
each method's model, measured together in one process. It trains nothing; rule
``flat_test_cost`` runs :func:`test_cost_job`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import pandas as pd
import tensorflow as tf

from theorydl import runtime
from theorydl.families.flat.model import Config, FlatConfig, build
from theorydl.runs import write_job_outputs


def measure_test_costs(
    configs: Mapping[str, FlatConfig], seed: int, rounds: int
) -> dict[str, float]:
    """Seconds per prediction of each method's model, on a batch of ``eval_samples`` inputs.

    The test cost the paper compares. It depends on a model's operations, not on its weights,
    so fresh single-seed models are timed: compiled, warmed up, then called in interleaved rounds
    (every method once per round, so that a busy moment on the machine hits them all alike);
    each method's fastest call counts, the one least disturbed by other processes.
    """
    predictors = {}
    for method, cfg in configs.items():
        learner = build(cfg, [seed])
        x, _, _ = learner.test_set()
        predict = tf.function(learner.predict)
        predict(x).numpy()
        predictors[method] = (predict, x, cfg.eval_samples)
    best = {method: float("inf") for method in configs}
    for _ in range(rounds):
        for method, (predict, x, n) in predictors.items():
            started = time.perf_counter()
            predict(x).numpy()
            best[method] = min(best[method], (time.perf_counter() - started) / n)
    return best


def test_cost_job(
    outputs: Any,
    tf_threads: int,
    variants: Mapping[str, Mapping[str, Any]],
    seed: int,
    rounds: int,
) -> None:
    """Rule ``flat_test_cost``: the time per prediction of every method's model (``variants``:
    method → hyperparameters), to ``outputs.csv``, with the job's provenance in ``outputs.meta``.

    On a CPU core, as every theory check (the rule takes no gpu slot): the costs compared are
    the models' operations, which a GPU's launch overhead would blur.
    """
    tf_module = runtime.setup_tensorflow(tf_threads)
    configs = {method: Config(**hparams) for method, hparams in variants.items()}
    costs = measure_test_costs(configs, seed=seed, rounds=rounds)
    table = pd.DataFrame(
        {
            "method": list(costs),
            "batch": [configs[m].eval_samples for m in costs],
            "seconds_per_prediction": list(costs.values()),
        }
    )
    about = {"seed": seed, "rounds": rounds, **runtime.provenance(tf_module, tf_threads)}
    write_job_outputs({outputs.csv: table}, outputs.meta, about, float_format="%.6g")
