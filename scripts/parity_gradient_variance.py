"""Snakemake entry point: Theorem 1's gradient variance at initialization, exactly, for every d."""

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

from theorydl.parity_theory import gradient_variance  # noqa: E402 (after TensorFlow's setup)

started = time.perf_counter()
rows = []
for d in sm.params.dims:
    for seed in sm.params.init_seeds:
        result = gradient_variance(d, seed, sm.params.width_factor)
        rows.append(
            {
                "d": d,
                "init_seed": seed,
                "variance": result.variance,
                "g_squared": result.g_squared,
                "bound": result.bound,
            }
        )
        print(f"d={d} init={seed}: Var={result.variance:.4e} bound={result.bound:.4e}", flush=True)
table = pd.DataFrame(rows)
atomic_write_text(
    sm.output.csv, table.to_csv(index=False, float_format="%.12g", lineterminator="\n")
)
meta = {
    "dims": list(sm.params.dims),
    "init_seeds": list(sm.params.init_seeds),
    "width_factor": sm.params.width_factor,
    "wall_time_s": round(time.perf_counter() - started, 3),
    **runtime.provenance(tf, sm.params.tf_threads),
}
atomic_write_text(sm.output.meta, json.dumps(meta, indent=2, sort_keys=True) + "\n")
