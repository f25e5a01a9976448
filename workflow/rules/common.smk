# Shared by every rules file: config resolution and validation, target lists, GPU detection.

import hashlib
import importlib.util
import os
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError

sys.path.insert(0, str(Path(workflow.basedir) / "scripts"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from theorydl import claims as tdl_claims  # noqa: E402
from theorydl import config as tdl_config  # noqa: E402
from theorydl import runtime as tdl_runtime  # noqa: E402
from theorydl.job import native_stderr_silenced  # noqa: E402

# The family modules import TensorFlow, whose C++ start-up notes would clutter every run's output.
with native_stderr_silenced():
    for _family in tdl_config.FAMILIES:
        tdl_config.family_module(_family)

ROOT = Path(workflow.basedir)
RESULTS = "results"
TABLES = f"{RESULTS}/tables"
FIGURES = f"{RESULTS}/figures"
LOGS = f"{RESULTS}/logs"
BENCHMARKS = f"{RESULTS}/benchmarks"

# ---- configuration: scale overrides, schema, cross-checks; all before any job is scheduled --
try:
    _resolved = tdl_config.resolve(
        config, cli=workflow.config_settings.overwrite_config, root=ROOT
    )
    CLAIMS = tdl_claims.load_claims(
        ROOT / "config" / "claims.yaml",
        ROOT / "workflow" / "schemas" / "claims.schema.yaml",
        tdl_config.known_tables(),
    )
except (tdl_config.ConfigError, tdl_claims.ClaimsError) as error:
    raise WorkflowError(str(error)) from None
config.clear()
config.update(_resolved)
VARIANTS = config["_variants"]  # family -> variant -> resolved hyperparameters

# ---- devices ------------------------------------------------------------------------------
# Training jobs each claim one GPU slot when GPUs are visible; on a CPU-only machine they ask
# for none, so nothing waits on a resource that does not exist.
N_GPUS = len(tdl_runtime.visible_gpus())
GPU_PER_TRAINING_JOB = 1 if N_GPUS else 0
if N_GPUS and "gpu" not in workflow.global_resources:
    workflow.register_resource("gpu", N_GPUS * config["jobs_per_gpu"])


def gpus_per_job(family):
    """GPU slots a training job of ``family`` takes: one where GPUs are visible, none on a
    CPU-only machine or for a family in ``cpu_families`` (its job then hides the GPUs)."""
    return 0 if family in config["cpu_families"] else GPU_PER_TRAINING_JOB


wildcard_constraints:
    variant=r"[A-Za-z0-9_.-]+",


# Each family's rules file registers what it delivers: {"figures": [...], "tex_tables": [...]}.
FAMILY_OUTPUTS = {}


def run_files(family, variant, name):
    """One file (metrics.csv, meta.json or arrays.npz) of every seed of a variant."""
    return [
        f"{RESULTS}/runs/{family}/{variant}/seed{seed}/{name}"
        for seed in config[family]["seeds"]
    ]


def all_run_files(family, name):
    """One file of every seed of every variant of a family."""
    return [f for v in VARIANTS[family] for f in run_files(family, v, name)]


def code_version(*modules):
    """A digest of the source of the given theorydl modules.

    Snakemake reruns a job when its script file changes, but not when a module that the script
    imports does; as a param, this digest makes an edit of the code behind a job rerun it (and
    only the jobs that use that code).
    """
    digest = hashlib.sha256()
    for module in modules:
        digest.update(Path(importlib.util.find_spec(f"theorydl.{module}").origin).read_bytes())
    return digest.hexdigest()[:16]


def job_params(family):
    """The params of every job that trains a family's runs: seeds, scale, threads, checkpoints
    and GPU sharing, and the code version (changes trigger reruns)."""
    return dict(
        code=code_version(family, "engine"),
        seeds=config[family]["seeds"],
        scale=config["scale"],
        tf_threads=config["tf_threads"],
        checkpoint_seconds=config["checkpoint_seconds"],
        jobs_per_gpu=config["jobs_per_gpu"],
        lock_dir=".snakemake/gpu-locks",
    )


def training_params(family):
    """The params of a one-variant training job (scripts/train.py): :func:`job_params`, the
    variant's hyperparameters and its checkpoint directory, and the job's name (its benchmark
    file's stem), which meta.json records so that rule runtime can put the run's GPU usage
    beside the job's costs."""
    return dict(
        family=family,
        job=lambda wildcards: f"train_{wildcards.variant}",
        hparams=lambda wildcards: VARIANTS[family][wildcards.variant],
        checkpoint_dir=lambda wildcards: f"{RESULTS}/checkpoints/{family}/{wildcards.variant}",
        **job_params(family),
    )


def table_files(*names, suffixes=("csv", "md", "tex")):
    """Paths of aggregated tables: CSV for code, Markdown and LaTeX for people."""
    return [f"{TABLES}/{n}.{s}" for n in names for s in suffixes]


def figure_files(name):
    """A figure's PDF (for the report) and PNG (for snakemake --report)."""
    return [f"{FIGURES}/{name}.pdf", f"{FIGURES}/{name}.png"]


def final_outputs():
    """Every deliverable: claims, figures, the report PDF when TeX is there.

    Rule all's input; call it after every rule is defined.
    """
    figures = [f for outputs in FAMILY_OUTPUTS.values() for f in outputs["figures"]]
    return [*rules.claims.output, *figures, *([REPORT_PDF] if BUILD_PDF else [])]


def benchmark_files(wildcards):
    """The benchmark file of every job of this configuration (and none left by another scale).

    A job is in the DAG when another rule consumes one of its outputs; its wildcards come from
    that path. A function of wildcards, so that Snakemake calls it once every rule is defined.
    """
    consumed = {str(f) for r in workflow.rules for f in r.input if isinstance(f, str)}
    files = set()
    for each in workflow.rules:
        if each.benchmark is None:
            continue
        for path in consumed:
            if each.is_producer(path):
                files.add(str(each.benchmark.apply_wildcards(each.get_wildcards(path))))
    return sorted(files)


def output_patterns(wildcards):
    """(rule, output patterns) of every rule, to name the producer of each manifest entry."""
    return [
        (rule.name, [str(o) for o in rule.output])
        for rule in workflow.rules
        if rule.name not in ("all", "manifest", "verify")
    ]
