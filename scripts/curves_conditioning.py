"""Snakemake entry point: condition numbers against n and Theorem 3 (rule curves_conditioning).

Pure numpy: the exact singular values of W, and the 3-tap rows' covariance estimated from
sampled curves (each draw on its own named stream of a sampling seed).
"""

import json
import platform
import time

import numpy as np
import pandas as pd

from theorydl import runtime
from theorydl.curves_theory import conditioning_rows, theorem3
from theorydl.job import log_to
from theorydl.runs import atomic_write_text

sm = snakemake  # noqa: F821 (injected by Snakemake's script directive)
log_to(sm.log[0])
started = time.perf_counter()
settings = sm.params.conditioning
conditioning = conditioning_rows(
    settings["dims"],
    settings["distributions"],
    settings["seeds"],
    settings["curves"],
    sm.params.kinks,
)
theorem = pd.DataFrame(
    [{**theorem3(n), "trained": n == sm.params.n} for n in sorted({*settings["dims"], sm.params.n})]
)
print(theorem.to_string(), flush=True)
for path, table in ((sm.output.conditioning, conditioning), (sm.output.theorem3, theorem)):
    atomic_write_text(path, table.to_csv(index=False, float_format="%.12g", lineterminator="\n"))
meta = {
    **settings,
    "kinks": sm.params.kinks,
    "trained_n": sm.params.n,
    "wall_time_s": round(time.perf_counter() - started, 3),
    "versions": {"python": platform.python_version(), "numpy": np.__version__},
    "cpu": runtime.cpu_model(),
    "git_commit": runtime.git_commit(),
}
atomic_write_text(sm.output.meta, json.dumps(meta, indent=2, sort_keys=True) + "\n")
