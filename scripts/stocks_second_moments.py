"""Snakemake entry point: both estimators' second moments at initialization, for every k (§3.3)."""

import json
import time

import pandas as pd

from theorydl import runtime
from theorydl.job import log_to
from theorydl.runs import atomic_write_text

sm = snakemake  # noqa: F821 (injected by Snakemake's script directive)
log_to(sm.log[0])
runtime.hide_gpus()  # takes no gpu slot: off the GPUs that training jobs claim
tf = runtime.setup_tensorflow(sm.params.tf_threads)

from theorydl.stocks_theory import initial_moments  # noqa: E402 (after TensorFlow's setup)

started = time.perf_counter()
rows = []
for k in sm.params.ks:
    for seed in sm.params.init_seeds:
        result = initial_moments(sm.params.d, k, seed, sm.params.samples)
        rows.append(
            {
                "k": k,
                "init_seed": seed,
                "samples": sm.params.samples,
                "exact_e2e": result.exact_e2e,
                "exact_dec": result.exact_dec,
                "measured_e2e": result.measured_e2e,
                "measured_dec": result.measured_dec,
                "mean_gradient_sq": result.mean_gradient_sq,
            }
        )
        print(
            f"k={k} init={seed}: ratio exact {result.exact_ratio:.4g}, "
            f"measured {result.measured_ratio:.4g}",
            flush=True,
        )
table = pd.DataFrame(rows)
atomic_write_text(
    sm.output.csv, table.to_csv(index=False, float_format="%.12g", lineterminator="\n")
)
meta = {
    "d": sm.params.d,
    "ks": list(sm.params.ks),
    "init_seeds": list(sm.params.init_seeds),
    "samples": sm.params.samples,
    "wall_time_s": round(time.perf_counter() - started, 3),
    **runtime.provenance(tf, sm.params.tf_threads),
}
atomic_write_text(sm.output.meta, json.dumps(meta, indent=2, sort_keys=True) + "\n")
