# Shared by every rules file: config resolution and validation, target lists, GPU detection,
# code digests, and the helpers that define every family's training, aggregate and figure rules.

import os
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError

sys.path.insert(0, str(Path(workflow.basedir) / "scripts"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# Parsing imports only specs (no TensorFlow, no pandas): jobs alone import the models.
from theorydl import claims as tdl_claims  # noqa: E402
from theorydl import code_digest as tdl_code  # noqa: E402
from theorydl import config as tdl_config  # noqa: E402
from theorydl import runtime as tdl_runtime  # noqa: E402

ROOT = Path(workflow.basedir)

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
SELECTED = config["_families"]  # the families this run runs end to end

# Each scale has its own results, so that runs of different scales coexist.
RESULTS = f"results/{config['scale']}"
TABLES = f"{RESULTS}/tables"
FIGURES = f"{RESULTS}/figures"
LOGS = f"{RESULTS}/logs"
BENCHMARKS = f"{RESULTS}/benchmarks"
DATASETS = f"{RESULTS}/datasets"  # real images, made by rule dataset (datasets.smk)

# ---- devices ------------------------------------------------------------------------------
# Training jobs each claim one GPU slot when GPUs are visible; on a CPU-only machine they ask
# for none, so nothing waits on a resource that does not exist.
N_GPUS = len(tdl_runtime.visible_gpus())
GPU_PER_TRAINING_JOB = 1 if N_GPUS else 0
if N_GPUS and "gpu" not in workflow.global_resources:
    workflow.register_resource("gpu", N_GPUS * config["jobs_per_gpu"])


def gpus_per_job(family, variants=()):
    """GPU slots a training job of ``family`` takes: one where GPUs are visible, none on a
    CPU-only machine or for a family in ``cpu_families`` (its job then hides the GPUs), unless
    the job trains a variant that its spec says gains from a GPU all the same
    (theorydl.config.wants_gpu)."""
    named = [v for v in variants if v in VARIANTS[family]]
    if family not in config["cpu_families"]:
        return GPU_PER_TRAINING_JOB
    if any(tdl_config.wants_gpu(family, VARIANTS[family][v]) for v in named):
        return GPU_PER_TRAINING_JOB
    return 0


wildcard_constraints:
    variant=r"[A-Za-z0-9_.-]+",


# What each family delivers, {"figures": [...], "tex_tables": [...]}, filled in by the helpers
# below as its rules file defines its aggregate and figure rules.
FAMILY_OUTPUTS = {}
# Figures of no family (the datasets' examples, datasets.smk): built by rule all, in the report.
SHARED_FIGURES = []


def variant_seeds(family, variant):
    """The seeds ``variant`` trains (theorydl.config.variant_seeds); a wildcard's (a rule that
    trains one variant per job) are the family's, since its outputs are written before any
    variant is known."""
    if "{" in variant:
        return list(config[family]["seeds"])
    return tdl_config.variant_seeds(family, config[family], VARIANTS[family][variant])


def run_files(family, variant, name):
    """One file (metrics.csv, meta.json or arrays.npz) of every seed of a variant."""
    return [
        f"{RESULTS}/runs/{family}/{variant}/seed{seed}/{name}"
        for seed in variant_seeds(family, variant)
    ]


def all_run_files(family, name):
    """One file of every seed of every variant of a family."""
    return [f for v in VARIANTS[family] for f in run_files(family, v, name)]


def code_digest(*entries, function=None):
    """The digest of the code a job runs (see theorydl.code_digest): the import closure of its
    entry script and of the modules it dispatches to, paths relative to the repository.

    As a param, it makes an edit of that code rerun the job, and only the jobs that run it.
    """
    return tdl_code.digest(
        *(ROOT / e for e in entries),
        function=None if function is None else (ROOT / function[0], function[1]),
    )


def family_file(family, part):
    """A module of a family's package (spec, model, analysis, theory, figures), from the root."""
    return f"scripts/theorydl/families/{family}/{part}.py"


def shared_hparam(family, key):
    """The value of hyperparameter ``key`` that every variant of ``family`` shares (the family's
    check_config refuses a config where they differ); the dataclass default if it has none."""
    values = {repr(h[key]): h[key] for h in VARIANTS[family].values()}
    if len(values) > 1:
        raise WorkflowError(f"{family}: variants differ in {key} ({sorted(values)}); one is needed")
    if not values:
        return getattr(tdl_config.family_module(family).Config(), key)
    return next(iter(values.values()))


def checkpoint_root(family):
    """Where a family's training jobs keep their checkpoints, a folder per variant."""
    return f"{RESULTS}/checkpoints/{family}"


def job_params(family):
    """The params of every job that trains a family's runs: scale, threads, checkpoints and
    GPU sharing, and the code digest (changes trigger reruns); the job adds its seeds."""
    return dict(
        family=family,
        code=code_digest("scripts/train.py", family_file(family, "model")),
        scale=config["scale"],
        tf_threads=config["tf_threads"],
        checkpoint_seconds=config["checkpoint_seconds"],
        checkpoint_root=checkpoint_root(family),
        jobs_per_gpu=config["jobs_per_gpu"],
        lock_dir=".snakemake/gpu-locks",
        data_dir=DATASETS,
    )


def training_rule(family, job=None, variants=None):
    """The one shape of every training rule, which trains every seed of each of ``variants``
    in one process.

    Without ``job``, the family's rule ``<family>_train`` trains one variant per job (a
    ``{variant}`` wildcard). With it, rule ``<family>_train_<job>`` trains the listed variants
    one after another, so that TensorFlow starts once for many small variants (the family's
    spec groups them: ``jobs()``). Both run scripts/train.py; each variant writes its own runs.
    """
    stem = job or "{variant}"
    listed = [stem] if job is None else list(variants)
    seeds = {tuple(variant_seeds(family, v)) for v in listed}
    if len(seeds) > 1:
        raise WorkflowError(f"{family}: the variants of job {job} train different seeds {seeds}")

    def job_variants(wildcards):
        return [v.format(variant=wildcards.get("variant", "")) for v in listed]

    def job_datasets(wildcards):
        names = tdl_config.variant_datasets(family, VARIANTS[family], job_variants(wildcards))
        return [f"{DATASETS}/{name}.npz" for name in names]

    rule:
        name:
            f"{family}_train_{job}" if job else f"{family}_train"
        input:
            datasets=job_datasets,
        output:
            metrics=[f for v in listed for f in run_files(family, v, "metrics.csv")],
            meta=[f for v in listed for f in run_files(family, v, "meta.json")],
            arrays=[f for v in listed for f in run_files(family, v, "arrays.npz")],
        params:
            # The job's name is its benchmark file's stem; meta.json records it, so that the
            # cost tables can put a run's GPU usage beside its job's costs.
            job=lambda wildcards: f"train_{stem.format(variant=wildcards.get('variant', ''))}",
            variants=job_variants,
            hparams=lambda wildcards: {v: VARIANTS[family][v] for v in job_variants(wildcards)},
            **job_params(family),
            seeds=list(seeds.pop()),
        threads: config["tf_threads"]
        resources:
            gpu=gpus_per_job(family, listed),
        log:
            f"{LOGS}/{family}/train_{stem}.log",
        benchmark:
            f"{BENCHMARKS}/{family}/train_{stem}.tsv"
        conda:
            "../../envs/environment.yaml"
        script:
            "../../scripts/train.py"


def training_jobs(family):
    """A family's training jobs, each with the variants it trains: its spec's groups, or one job
    per variant (named after it)."""
    jobs = tdl_config.family_jobs(family, config[family])
    return jobs if jobs is not None else {v: [v] for v in VARIANTS[family]}


def training_rules(family):
    """The training rules of ``family``, with grouped jobs where its spec defines ``jobs``."""
    jobs = tdl_config.family_jobs(family, config[family])
    if jobs is None:
        training_rule(family)
    else:
        for job, variants in jobs.items():
            training_rule(family, job, variants)


def family_tables(family):
    """(csv, md and tex outputs, tex outputs) of a family's tables (its spec's ``TABLES``; those
    in ``CSV_ONLY`` are figure data, written as CSV alone)."""
    spec = tdl_config.family_module(family)
    human = [t for t in spec.TABLES if t not in spec.CSV_ONLY]
    return human, list(spec.CSV_ONLY)


def _reported(path, family, subcategory):
    """``path`` marked for snakemake --report when workflow/report/ has a caption for it."""
    caption = ROOT / "workflow" / "report" / f"{Path(path).stem}.rst"
    if not caption.exists():
        return path
    category = tdl_config.family_module(family).REPORT_CATEGORY
    return report(
        path, caption=f"../report/{caption.name}", category=category, subcategory=subcategory
    )


def aggregate_rule(family, inputs=None, args=None):
    """Rule ``<family>_aggregate``: every run of the family (and ``inputs``, the outputs of its
    theory jobs, passed to the analysis by name) into the tables its spec lists.

    ``args``: values from the config that the family's ``analysis.aggregate`` takes.
    """
    human, csv_only = family_tables(family)
    rule:
        name:
            f"{family}_aggregate"
        input:
            metrics=all_run_files(family, "metrics.csv"),
            meta=all_run_files(family, "meta.json"),
            arrays=all_run_files(family, "arrays.npz"),
            **(inputs or {}),
        output:
            csv=[_reported(f"{TABLES}/{t}.csv", family, "Tables") for t in human + csv_only],
            text=table_files(*human, suffixes=("md", "tex")),
        params:
            family=family,
            code=code_digest("scripts/aggregate.py", family_file(family, "analysis")),
            variants=VARIANTS[family],
            checkpoints=checkpoint_root(family),
            args=args or {},
        log:
            f"{LOGS}/{family}/aggregate.log",
        conda:
            "../../envs/environment.yaml"
        script:
            "../../scripts/aggregate.py"

    FAMILY_OUTPUTS.setdefault(family, {"figures": [], "tex_tables": []})
    FAMILY_OUTPUTS[family]["tex_tables"] += table_files(*human, suffixes=("tex",))


def figure_rule(family, name, inputs, params=None):
    """Rule ``<family>_figure_<name>``: figure ``results/figures/<family>_<name>.{pdf,png}``,
    drawn by the function ``name`` of the family's ``figures.py`` from ``inputs``.

    Its code digest covers that function alone (and what it calls), so that an edit of one
    figure redraws that figure only. The function's docstring is the rule's.
    """
    figures = family_file(family, "figures")
    rule:
        name:
            f"{family}_figure_{name}"
        input:
            **inputs,
        output:
            [_reported(f, family, "Figures") for f in figure_files(f"{family}_{name}")],
        params:
            module=figures.removeprefix("scripts/"),
            figure=name,
            code=code_digest("scripts/figure.py", function=(figures, name)),
            args=params or {},
        log:
            f"{LOGS}/{family}/figure_{name}.log",
        conda:
            "../../envs/environment.yaml"
        script:
            "../../scripts/figure.py"

    FAMILY_OUTPUTS.setdefault(family, {"figures": [], "tex_tables": []})
    FAMILY_OUTPUTS[family]["figures"] += figure_files(f"{family}_{name}")


def theory_params(family, function, **params):
    """The params of a family's computation that trains nothing (scripts/theory.py): which
    function of its ``theory.py`` runs, that module's code digest, and the function's values."""
    return dict(
        family=family,
        function=function,
        code=code_digest("scripts/theory.py", family_file(family, "theory")),
        tf_threads=config["tf_threads"],
        jobs_per_gpu=config["jobs_per_gpu"],
        lock_dir=".snakemake/gpu-locks",
        args=params,
    )


def table_files(*names, suffixes=("csv", "md", "tex")):
    """Paths of aggregated tables: CSV for code, Markdown and LaTeX for people."""
    return [f"{TABLES}/{n}.{s}" for n in names for s in suffixes]


def figure_files(name):
    """A figure's PDF (for the report) and PNG (for snakemake --report)."""
    return [f"{FIGURES}/{name}.pdf", f"{FIGURES}/{name}.png"]


def selected_tables():
    """The CSV of every table of the selected families."""
    return [f"{TABLES}/{t}.csv" for f in SELECTED for t in tdl_config.family_module(f).TABLES]


def selected_outputs(kind):
    """The figures or the LaTeX tables (``kind``) of the families this run selected."""
    return [f for family in SELECTED for f in FAMILY_OUTPUTS[family][kind]]


def final_outputs():
    """Every deliverable of the selected families: claims (and their side-by-side across
    scales), figures, the cost tables, the report PDF when TeX is there.

    Rule all's input; call it after every rule is defined. The cost tables are measurements in
    their own right, and snakemake --report shows them: they are built with or without TeX.
    """
    return [
        *rules.claims.output,
        *rules.claims_by_scale.output,
        *all_figures(),
        *rules.costs.output,
        *([REPORT_PDF] if BUILD_PDF else []),
    ]


def all_figures():
    """Every figure file (PDF and PNG) of this run: each selected family's, then those of no
    family (the datasets' examples)."""
    return [*selected_outputs("figures"), *SHARED_FIGURES]


def benchmark_files(wildcards):
    """The benchmark file of every job of the selected families in this configuration (and none
    left by another scale or selection).

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
    # results/<scale>/benchmarks/<family>/<job>.tsv: the rules of the other families stay
    # defined (and consume each other's outputs) without being part of this run.
    return sorted(f for f in files if Path(f).parent.name in [*SELECTED, "datasets"])


def output_patterns(wildcards):
    """(rule, output patterns) of every rule, to name the producer of each manifest entry."""
    return [
        (rule.name, [str(o) for o in rule.output])
        for rule in workflow.rules
        if rule.name not in ("all", "manifest", "verify")
    ]
