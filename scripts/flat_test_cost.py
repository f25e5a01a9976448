"""Snakemake entry point: the test cost (time per prediction) of the four step-function
learners, measured together in one process (rule flat_test_cost)."""

import json
from pathlib import Path

import pandas as pd

from theorydl.job import log_to
from theorydl.runs import atomic_write_text
from theorydl.runtime import hide_gpus, provenance, setup_tensorflow

sm = snakemake  # noqa: F821 (injected by Snakemake's script directive)
log_to(sm.log[0])
# On a CPU core, as every theory check: it takes no gpu slot, and the costs compared are the
# models' operations, which a GPU's launch overhead would blur.
hide_gpus()
tf = setup_tensorflow(sm.params.tf_threads)

from theorydl import flat  # noqa: E402 (after TensorFlow is set up)

configs = {method: flat.Config(**hparams) for method, hparams in sm.params.variants.items()}
costs = flat.measure_test_costs(configs, seed=sm.params.seed, rounds=sm.params.rounds)
table = pd.DataFrame(
    {
        "method": list(costs),
        "batch": [configs[m].eval_samples for m in costs],
        "seconds_per_prediction": list(costs.values()),
    }
)
atomic_write_text(Path(sm.output.csv), table.to_csv(index=False, float_format="%.6g"))
about = {"seed": sm.params.seed, "rounds": sm.params.rounds, **provenance(tf, sm.params.tf_threads)}
atomic_write_text(Path(sm.output.meta), json.dumps(about, indent=2, sort_keys=True) + "\n")
