# Failures of Gradient-Based Deep Learning, §2: parities (Fig 1) and Theorem 1.


rule parity_train:
    """Train every seed of one input dimension d as one ensemble."""
    output:
        metrics=run_files("parity", "{variant}", "metrics.csv"),
        meta=run_files("parity", "{variant}", "meta.json"),
        arrays=run_files("parity", "{variant}", "arrays.npz"),
    params:
        **training_params("parity"),
    threads: config["tf_threads"]
    resources:
        gpu=gpus_per_job("parity"),
    log:
        f"{LOGS}/parity/train_{{variant}}.log",
    benchmark:
        f"{BENCHMARKS}/parity/train_{{variant}}.tsv"
    conda:
        "../../envs/environment.yaml"
    script:
        "../../scripts/train.py"


rule parity_gradient_variance:
    """Theorem 1: the exact variance across parity targets of the gradient at initialization."""
    output:
        csv=f"{RESULTS}/runs/parity_theory/gradient_variance.csv",
        meta=f"{RESULTS}/runs/parity_theory/meta.json",
    params:
        code=code_version("parity_theory", "parity"),
        dims=config["parity"]["gradient_variance"]["dims"],
        init_seeds=config["parity"]["gradient_variance"]["init_seeds"],
        width_factor=lambda wildcards: next(iter(VARIANTS["parity"].values()))["width_factor"],
        tf_threads=config["tf_threads"],
    threads: config["tf_threads"]
    log:
        f"{LOGS}/parity/gradient_variance.log",
    benchmark:
        f"{BENCHMARKS}/parity/gradient_variance.tsv"
    conda:
        "../../envs/environment.yaml"
    script:
        "../../scripts/parity_gradient_variance.py"


rule parity_aggregate:
    """Per-seed and per-d tables of the parity runs, and the Theorem 1 tables."""
    input:
        metrics=all_run_files("parity", "metrics.csv"),
        meta=all_run_files("parity", "meta.json"),
        arrays=all_run_files("parity", "arrays.npz"),
        gradvar=rules.parity_gradient_variance.output.csv,
    output:
        summary=report(
            f"{TABLES}/parity_summary.csv",
            caption="../report/parity_summary.rst",
            category="Parity (Failures §2)",
            subcategory="Tables",
        ),
        gradvar=report(
            f"{TABLES}/parity_gradvar.csv",
            caption="../report/parity_gradvar.rst",
            category="Parity (Failures §2)",
            subcategory="Tables",
        ),
        text=table_files("parity_summary", "parity_gradvar", suffixes=("md", "tex")),
        data=table_files("parity_seeds", "parity_by_degree", "parity_gradvar_fit")
        + table_files("parity_curves", suffixes=("csv",)),
    params:
        code=code_version("parity_analysis", "runs", "tables"),
        variants=VARIANTS["parity"],
        figure1_dims=config["parity"]["figure1_dims"],
    log:
        f"{LOGS}/parity/aggregate.log",
    conda:
        "../../envs/environment.yaml"
    script:
        "../../scripts/aggregate_parity.py"


rule parity_figure_accuracy:
    """Fig 1: test accuracy against training iterations for the paper's dimensions."""
    input:
        curves=f"{TABLES}/parity_curves.csv",
    output:
        report(
            figure_files("parity_fig1_accuracy"),
            caption="../report/parity_fig1_accuracy.rst",
            category="Parity (Failures §2)",
            subcategory="Figures",
        ),
    params:
        dims=config["parity"]["figure1_dims"],
        script="scripts/figure_parity_accuracy.py",
    log:
        f"{LOGS}/parity/figure_accuracy.log",
    conda:
        "../../envs/environment.yaml"
    script:
        "../../scripts/figure_parity_accuracy.py"


rule parity_figure_steps:
    """Steps to 99% accuracy against d and against the parity's degree, censored at the budget."""
    input:
        seeds=f"{TABLES}/parity_seeds.csv",
    output:
        report(
            figure_files("parity_steps_to_99"),
            caption="../report/parity_steps_to_99.rst",
            category="Parity (Failures §2)",
            subcategory="Figures",
        ),
    params:
        script="scripts/figure_parity_steps.py",
    log:
        f"{LOGS}/parity/figure_steps.log",
    conda:
        "../../envs/environment.yaml"
    script:
        "../../scripts/figure_parity_steps.py"


rule parity_figure_gradvar:
    """Theorem 1: gradient variance across targets against the bound G²/2^d."""
    input:
        gradvar=rules.parity_aggregate.output.gradvar,
    output:
        report(
            figure_files("parity_gradient_variance"),
            caption="../report/parity_gradient_variance.rst",
            category="Parity (Failures §2)",
            subcategory="Figures",
        ),
    params:
        script="scripts/figure_parity_gradvar.py",
    log:
        f"{LOGS}/parity/figure_gradvar.log",
    conda:
        "../../envs/environment.yaml"
    script:
        "../../scripts/figure_parity_gradvar.py"


FAMILY_OUTPUTS["parity"] = {
    "figures": figure_files("parity_fig1_accuracy")
    + figure_files("parity_steps_to_99")
    + figure_files("parity_gradient_variance"),
    "tex_tables": table_files(
        "parity_summary",
        "parity_seeds",
        "parity_by_degree",
        "parity_gradvar",
        "parity_gradvar_fit",
        suffixes=("tex",),
    ),
}
