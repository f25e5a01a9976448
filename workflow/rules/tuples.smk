# Failures of Gradient-Based Deep Learning, §3.1 and §3.3: k-tuples of line images, end-to-end
# vs decomposition (Figs 2, 3) and the gradient's signal-to-noise ratio (Fig 5).


rule tuples_train:
    """Train every seed of one (method, k) in one job."""
    output:
        metrics=run_files("tuples", "{variant}", "metrics.csv"),
        meta=run_files("tuples", "{variant}", "meta.json"),
        arrays=run_files("tuples", "{variant}", "arrays.npz"),
    params:
        **training_params("tuples"),
    threads: config["tf_threads"]
    resources:
        gpu=gpus_per_job("tuples"),
    log:
        f"{LOGS}/tuples/train_{{variant}}.log",
    benchmark:
        f"{BENCHMARKS}/tuples/train_{{variant}}.tsv"
    conda:
        "../../envs/environment.yaml"
    script:
        "../../scripts/train.py"


rule tuples_snr:
    """Fig 5: the gradient SNR at one initialization, E2E vs decomposition, for every k."""
    output:
        csv=f"{RESULTS}/runs/tuples_snr/init{{init}}.csv",
        meta=f"{RESULTS}/runs/tuples_snr/init{{init}}.json",
    params:
        code=code_version("tuples_snr", "tuples"),
        ks=config["tuples"]["snr"]["ks"],
        hparams=config["tuples"]["snr"]["hparams"],
        tf_threads=config["tf_threads"],
        jobs_per_gpu=config["jobs_per_gpu"],
        lock_dir=".snakemake/gpu-locks",
    wildcard_constraints:
        init=r"\d+",
    threads: config["tf_threads"]
    resources:
        gpu=GPU_PER_TRAINING_JOB,
    log:
        f"{LOGS}/tuples/snr_init{{init}}.log",
    benchmark:
        f"{BENCHMARKS}/tuples/snr_init{{init}}.tsv"
    conda:
        "../../envs/environment.yaml"
    script:
        "../../scripts/tuples_gradient_snr.py"


rule tuples_aggregate:
    """Per-seed and per-(method, k) tables of the tuple runs, and the SNR tables."""
    input:
        metrics=all_run_files("tuples", "metrics.csv"),
        meta=all_run_files("tuples", "meta.json"),
        arrays=all_run_files("tuples", "arrays.npz"),
        snr=expand(rules.tuples_snr.output.csv, init=config["tuples"]["snr"]["init_seeds"]),
    output:
        summary=report(
            f"{TABLES}/tuples_summary.csv",
            caption="../report/tuples_summary.rst",
            category="Tuples (Failures §3.1, §3.3)",
            subcategory="Tables",
        ),
        snr=report(
            f"{TABLES}/tuples_snr_summary.csv",
            caption="../report/tuples_snr_summary.rst",
            category="Tuples (Failures §3.1, §3.3)",
            subcategory="Tables",
        ),
        text=table_files("tuples_summary", "tuples_snr_summary", suffixes=("md", "tex")),
        data=table_files("tuples_seeds", "tuples_snr")
        + table_files("tuples_curves", suffixes=("csv",)),
    params:
        code=code_version("tuples_analysis", "runs", "tables"),
        variants=VARIANTS["tuples"],
    log:
        f"{LOGS}/tuples/aggregate.log",
    conda:
        "../../envs/environment.yaml"
    script:
        "../../scripts/aggregate_tuples.py"


rule tuples_figure_examples:
    """Fig 2: example line images, top row label +1, bottom row label -1 (from the generator)."""
    output:
        report(
            figure_files("tuples_fig2_examples"),
            caption="../report/tuples_fig2_examples.rst",
            category="Tuples (Failures §3.1, §3.3)",
            subcategory="Figures",
        ),
    params:
        tf_threads=config["tf_threads"],
        seed=config["tuples"]["seeds"][0],
        script="scripts/figure_tuples_examples.py",
    log:
        f"{LOGS}/tuples/figure_examples.log",
    conda:
        "../../envs/environment.yaml"
    script:
        "../../scripts/figure_tuples_examples.py"


rule tuples_figure_accuracy:
    """Fig 3: tuple test accuracy against iterations, E2E (red) vs decomposition (blue), per k."""
    input:
        curves=f"{TABLES}/tuples_curves.csv",
        seeds=f"{TABLES}/tuples_seeds.csv",
    output:
        report(
            figure_files("tuples_fig3_accuracy"),
            caption="../report/tuples_fig3_accuracy.rst",
            category="Tuples (Failures §3.1, §3.3)",
            subcategory="Figures",
        ),
    params:
        script="scripts/figure_tuples_accuracy.py",
    log:
        f"{LOGS}/tuples/figure_accuracy.log",
    conda:
        "../../envs/environment.yaml"
    script:
        "../../scripts/figure_tuples_accuracy.py"


rule tuples_figure_snr:
    """Fig 5: gradient SNR at initialization against k, E2E (red) vs decomposition (blue)."""
    input:
        snr=f"{TABLES}/tuples_snr.csv",
    output:
        report(
            figure_files("tuples_fig5_snr"),
            caption="../report/tuples_fig5_snr.rst",
            category="Tuples (Failures §3.1, §3.3)",
            subcategory="Figures",
        ),
    params:
        script="scripts/figure_tuples_snr.py",
    log:
        f"{LOGS}/tuples/figure_snr.log",
    conda:
        "../../envs/environment.yaml"
    script:
        "../../scripts/figure_tuples_snr.py"


FAMILY_OUTPUTS["tuples"] = {
    "figures": figure_files("tuples_fig2_examples")
    + figure_files("tuples_fig3_accuracy")
    + figure_files("tuples_fig5_snr"),
    "tex_tables": table_files(
        "tuples_summary", "tuples_seeds", "tuples_snr", "tuples_snr_summary", suffixes=("tex",)
    ),
}
