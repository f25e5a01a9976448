"""Snakemake entry point of a family's computation that trains nothing (a theory check, a cost
measurement): the function the rule names, of the family's ``theory.py``, writes the outputs."""

import importlib
from pathlib import Path

from theorydl import runtime
from theorydl.logs import log_to

sm = snakemake  # noqa: F821 (injected by Snakemake's script directive)
log_to(sm.log[0])
# The device is chosen before TensorFlow is imported: a job with no gpu slot stays off the GPUs
# that training jobs claim.
runtime.claim_gpu(Path(sm.params.lock_dir), sm.params.jobs_per_gpu, wanted=sm.resources.gpu > 0)
theory = importlib.import_module(f"theorydl.families.{sm.params.family}.theory")
# The rule's values, and its wildcards (which of several jobs of one rule this is), by name.
job = getattr(theory, sm.params.function)
job(sm.output, tf_threads=sm.params.tf_threads, **sm.params.args, **dict(sm.wildcards.items()))
