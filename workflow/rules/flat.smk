# Failures of Gradient-Based Deep Learning, §5: flat activations, learning through a step
# function four ways (Fig 7).


rule flat_train:
    """Train every seed of one method (non_flat, end_to_end, multi_class, forward_only) as one
    ensemble."""
    output:
        metrics=run_files("flat", "{variant}", "metrics.csv"),
        meta=run_files("flat", "{variant}", "meta.json"),
        arrays=run_files("flat", "{variant}", "arrays.npz"),
    params:
        **training_params("flat"),
    threads: config["tf_threads"]
    resources:
        gpu=gpus_per_job("flat"),
    log:
        f"{LOGS}/flat/train_{{variant}}.log",
    benchmark:
        f"{BENCHMARKS}/flat/train_{{variant}}.tsv"
    conda:
        "../../envs/environment.yaml"
    script:
        "../../scripts/train.py"


rule flat_test_cost:
    """Test cost: time per prediction of each method's model, measured together in one process."""
    output:
        csv=f"{RESULTS}/runs/flat_test_cost/test_cost.csv",
        meta=f"{RESULTS}/runs/flat_test_cost/meta.json",
    params:
        code=code_version("flat"),
        variants=VARIANTS["flat"],
        seed=config["flat"]["seeds"][0],
        rounds=30,
        tf_threads=config["tf_threads"],
    threads: config["tf_threads"]
    log:
        f"{LOGS}/flat/test_cost.log",
    benchmark:
        f"{BENCHMARKS}/flat/test_cost.tsv"
    conda:
        "../../envs/environment.yaml"
    script:
        "../../scripts/flat_test_cost.py"


rule flat_aggregate:
    """Per-seed and per-method tables, the loss curves and the points of Fig 7."""
    input:
        metrics=all_run_files("flat", "metrics.csv"),
        meta=all_run_files("flat", "meta.json"),
        arrays=all_run_files("flat", "arrays.npz"),
        test_cost=rules.flat_test_cost.output.csv,
    output:
        summary=report(
            f"{TABLES}/flat_summary.csv",
            caption="../report/flat_summary.rst",
            category="Flat activations (Failures §5)",
            subcategory="Tables",
        ),
        text=table_files("flat_summary", suffixes=("md", "tex")),
        seeds=table_files("flat_seeds"),
        curves=f"{TABLES}/flat_curves.csv",
        points=f"{TABLES}/flat_fig7_points.csv",
    params:
        code=code_version("flat_analysis", "runs", "tables"),
        variants=VARIANTS["flat"],
        figure7_seed=config["flat"]["figure7_seed"],
    log:
        f"{LOGS}/flat/aggregate.log",
    conda:
        "../../envs/environment.yaml"
    script:
        "../../scripts/aggregate_flat.py"


rule flat_figure_fig7:
    """Fig 7 (a)-(e): label and learned output against r, one representative seed per panel."""
    input:
        points=rules.flat_aggregate.output.points,
    output:
        report(
            figure_files("flat_fig7_step_function"),
            caption="../report/flat_fig7_step_function.rst",
            category="Flat activations (Failures §5)",
            subcategory="Figures",
        ),
    params:
        script="scripts/figure_flat_fig7.py",
    log:
        f"{LOGS}/flat/figure_fig7.log",
    conda:
        "../../envs/environment.yaml"
    script:
        "../../scripts/figure_flat_fig7.py"


rule flat_figure_training:
    """Training loss and test error of the four methods against steps, bands over seeds."""
    input:
        curves=rules.flat_aggregate.output.curves,
    output:
        report(
            figure_files("flat_training_curves"),
            caption="../report/flat_training_curves.rst",
            category="Flat activations (Failures §5)",
            subcategory="Figures",
        ),
    params:
        script="scripts/figure_flat_training.py",
    log:
        f"{LOGS}/flat/figure_training.log",
    conda:
        "../../envs/environment.yaml"
    script:
        "../../scripts/figure_flat_training.py"


FAMILY_OUTPUTS["flat"] = {
    "figures": figure_files("flat_fig7_step_function") + figure_files("flat_training_curves"),
    "tex_tables": table_files("flat_summary", "flat_seeds", suffixes=("tex",)),
}
