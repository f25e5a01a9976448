# Weight sharing is crucial to successful optimization (2017): the same network with and
# without shared filters, across target frequencies (shared / local / dense).
#
# Training jobs group variants (one experiment and one target and g regime, or one Walsh
# layout, per job: sharing.jobs) so that TensorFlow starts once per job; every variant still
# trains all its seeds as one ensemble and writes its own run directories. One rule per job,
# because a job's outputs are a list of variants that no wildcard can spell.

SHARING_JOBS = tdl_config.family_module("sharing").jobs(config["sharing"])
SHARING_EXPERIMENTS = tdl_config.family_module("sharing").experiment_variants(config["sharing"])
SHARING_CATEGORY = "Weight sharing (2017)"


for _job, _variants in SHARING_JOBS.items():

    rule:
        name:
            f"sharing_train_{_job}"
        output:
            metrics=[f for v in _variants for f in run_files("sharing", v, "metrics.csv")],
            meta=[f for v in _variants for f in run_files("sharing", v, "meta.json")],
            arrays=[f for v in _variants for f in run_files("sharing", v, "arrays.npz")],
        params:
            job=f"train_{_job}",  # the benchmark file's stem, recorded in meta.json
            variants=_variants,
            hparams={v: VARIANTS["sharing"][v] for v in _variants},
            checkpoint_root=f"{RESULTS}/checkpoints/sharing",
            **job_params("sharing"),
        threads: config["tf_threads"]
        resources:
            gpu=gpus_per_job("sharing"),
        log:
            f"{LOGS}/sharing/train_{_job}.log",
        benchmark:
            f"{BENCHMARKS}/sharing/train_{_job}.tsv"
        conda:
            "../../envs/environment.yaml"
        script:
            "../../scripts/train_sharing.py"


rule sharing_aggregate:
    """Per-seed, per-variant and paired tables of the sharing runs; the Walsh view's tables."""
    input:
        metrics=all_run_files("sharing", "metrics.csv"),
        meta=all_run_files("sharing", "meta.json"),
        arrays=all_run_files("sharing", "arrays.npz"),
    output:
        final_loss=report(
            f"{TABLES}/sharing_final_loss.csv",
            caption="../report/sharing_final_loss.rst",
            category=SHARING_CATEGORY,
            subcategory="Tables",
        ),
        walsh=report(
            f"{TABLES}/sharing_walsh_summary.csv",
            caption="../report/sharing_walsh_summary.rst",
            category=SHARING_CATEGORY,
            subcategory="Tables",
        ),
        text=table_files("sharing_final_loss", "sharing_walsh_summary", suffixes=("md", "tex")),
        data=table_files(
            "sharing_runs",
            "sharing_paired",
            "sharing_mix_trend",
            "sharing_walsh_seeds",
            "sharing_walsh_trend",
        )
        + table_files("sharing_curves", "sharing_walsh_curves", suffixes=("csv",)),
    params:
        code=code_version("sharing_analysis", "runs", "tables"),
        variants=VARIANTS["sharing"],
        block=config["sharing"],
        curve_variants=SHARING_EXPERIMENTS["curves"] + SHARING_EXPERIMENTS["natural"],
    log:
        f"{LOGS}/sharing/aggregate.log",
    conda:
        "../../envs/environment.yaml"
    script:
        "../../scripts/aggregate_sharing.py"


rule sharing_figure_curves:
    """Fig 1: held-out loss against epochs, targets × g regimes, shared vs local vs dense."""
    input:
        curves=f"{TABLES}/sharing_curves.csv",
    output:
        report(
            figure_files("sharing_fig1_curves"),
            caption="../report/sharing_fig1_curves.rst",
            category=SHARING_CATEGORY,
            subcategory="Figures",
        ),
    params:
        curves=config["sharing"]["curves"],
        patches="gaussian",
        script="scripts/figure_sharing_curves.py",
    log:
        f"{LOGS}/sharing/figure_curves.log",
    conda:
        "../../envs/environment.yaml"
    script:
        "../../scripts/figure_sharing_curves.py"


rule sharing_figure_frequency:
    """Fig 2: final loss of the mixed target against ω and against C."""
    input:
        runs=f"{TABLES}/sharing_runs.csv",
    output:
        report(
            figure_files("sharing_fig2_frequency"),
            caption="../report/sharing_fig2_frequency.rst",
            category=SHARING_CATEGORY,
            subcategory="Figures",
        ),
    params:
        omega_sweep=config["sharing"]["omega_sweep"],
        mix_sweep=config["sharing"]["mix_sweep"],
        script="scripts/figure_sharing_frequency.py",
    log:
        f"{LOGS}/sharing/figure_frequency.log",
    conda:
        "../../envs/environment.yaml"
    script:
        "../../scripts/figure_sharing_frequency.py"


rule sharing_figure_walsh:
    """Fig 3: learned fraction per degree over training, and the highest degree learned vs d."""
    input:
        curves=f"{TABLES}/sharing_walsh_curves.csv",
        seeds=f"{TABLES}/sharing_walsh_seeds.csv",
    output:
        report(
            figure_files("sharing_fig3_walsh"),
            caption="../report/sharing_fig3_walsh.rst",
            category=SHARING_CATEGORY,
            subcategory="Figures",
        ),
    params:
        walsh=config["sharing"]["walsh"],
        script="scripts/figure_sharing_walsh.py",
    log:
        f"{LOGS}/sharing/figure_walsh.log",
    conda:
        "../../envs/environment.yaml"
    script:
        "../../scripts/figure_sharing_walsh.py"


rule sharing_figure_natural:
    """Fig 4: Fig 1's g-known row on patches cut from scikit-learn's digits."""
    input:
        curves=f"{TABLES}/sharing_curves.csv",
    output:
        report(
            figure_files("sharing_fig4_natural"),
            caption="../report/sharing_fig4_natural.rst",
            category=SHARING_CATEGORY,
            subcategory="Figures",
        ),
    params:
        curves=config["sharing"]["natural"],
        patches="digits",
        script="scripts/figure_sharing_curves.py",
    log:
        f"{LOGS}/sharing/figure_natural.log",
    conda:
        "../../envs/environment.yaml"
    script:
        "../../scripts/figure_sharing_curves.py"


FAMILY_OUTPUTS["sharing"] = {
    "figures": figure_files("sharing_fig1_curves")
    + figure_files("sharing_fig2_frequency")
    + figure_files("sharing_fig3_walsh")
    + figure_files("sharing_fig4_natural"),
    "tex_tables": table_files("sharing_final_loss", "sharing_walsh_summary", suffixes=("tex",)),
}
