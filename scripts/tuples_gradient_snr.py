"""Snakemake entry point: the gradient SNR at one initialization, for every k (rule tuples_snr)."""

import json
import time
from dataclasses import asdict
from pathlib import Path

import pandas as pd

from theorydl import runtime
from theorydl.job import log_to
from theorydl.runs import atomic_write_text

sm = snakemake  # noqa: F821 (injected by Snakemake's script directive)
log_to(sm.log[0])
runtime.claim_gpu(Path(sm.params.lock_dir), sm.params.jobs_per_gpu)
tf = runtime.setup_tensorflow(sm.params.tf_threads)

from theorydl.tuples_snr import SnrConfig, measure  # noqa: E402 (after TensorFlow's setup)

cfg = SnrConfig(**sm.params.hparams)
init_seed = int(sm.wildcards.init)
started = time.perf_counter()
rows = measure(cfg, init_seed, list(sm.params.ks), log=lambda line: print(line, flush=True))
table = pd.DataFrame(rows)
atomic_write_text(
    sm.output.csv, table.to_csv(index=False, float_format="%.12g", lineterminator="\n")
)
meta = {
    "init_seed": init_seed,
    "ks": list(sm.params.ks),
    "config": asdict(cfg),
    "wall_time_s": round(time.perf_counter() - started, 3),
    **runtime.provenance(tf, sm.params.tf_threads),
}
atomic_write_text(sm.output.meta, json.dumps(meta, indent=2, sort_keys=True) + "\n")
