# Failures of Gradient-Based Deep Learning, §4: piecewise-linear curves (Fig 6) and conditioning.


rule curves_train:
    """Train every seed of one learner (fc, conv, conv_whitened, autoencoder) as one ensemble."""
    output:
        metrics=run_files("curves", "{variant}", "metrics.csv"),
        meta=run_files("curves", "{variant}", "meta.json"),
        arrays=run_files("curves", "{variant}", "arrays.npz"),
    params:
        **training_params("curves"),
    threads: config["tf_threads"]
    resources:
        gpu=gpus_per_job("curves"),
    log:
        f"{LOGS}/curves/train_{{variant}}.log",
    benchmark:
        f"{BENCHMARKS}/curves/train_{{variant}}.tsv"
    conda:
        "../../envs/environment.yaml"
    script:
        "../../scripts/train.py"


rule curves_conditioning:
    """Condition numbers against n (W, the 3-tap rows before and after whitening); Theorem 3."""
    output:
        conditioning=f"{RESULTS}/runs/curves_theory/conditioning.csv",
        theorem3=f"{RESULTS}/runs/curves_theory/theorem3.csv",
        meta=f"{RESULTS}/runs/curves_theory/meta.json",
    params:
        code=code_version("curves_theory"),
        conditioning=config["curves"]["conditioning"],
        # Every learner shares n and kinks (checked when the config is read).
        n=lambda wildcards: next(iter(VARIANTS["curves"].values()))["n"],
        kinks=lambda wildcards: next(iter(VARIANTS["curves"].values()))["kinks"],
    log:
        f"{LOGS}/curves/conditioning.log",
    benchmark:
        f"{BENCHMARKS}/curves/conditioning.tsv"
    conda:
        "../../envs/environment.yaml"
    script:
        "../../scripts/curves_conditioning.py"


rule curves_aggregate:
    """Error tables of the decoded curves, Fig 6's data, learning curves, conditioning fits."""
    input:
        metrics=all_run_files("curves", "metrics.csv"),
        meta=all_run_files("curves", "meta.json"),
        arrays=all_run_files("curves", "arrays.npz"),
        conditioning=rules.curves_conditioning.output.conditioning,
        theorem3=rules.curves_conditioning.output.theorem3,
    output:
        errors=report(
            f"{TABLES}/curves_errors.csv",
            caption="../report/curves_errors.rst",
            category="Curves (Failures §4)",
            subcategory="Tables",
        ),
        fit=report(
            f"{TABLES}/curves_conditioning_fit.csv",
            caption="../report/curves_conditioning_fit.rst",
            category="Curves (Failures §4)",
            subcategory="Tables",
        ),
        text=table_files(
            "curves_errors", "curves_conditioning_fit", suffixes=("md", "tex")
        ),
        data=table_files("curves_seed_errors", "curves_fig6_errors", "curves_theorem3")
        + table_files(
            "curves_fig6", "curves_progress", "curves_conditioning", suffixes=("csv",)
        ),
    params:
        code=code_version("curves_analysis", "runs", "tables"),
        variants=VARIANTS["curves"],
        figure_seed=config["curves"]["figure_seed"],
    log:
        f"{LOGS}/curves/aggregate.log",
    conda:
        "../../envs/environment.yaml"
    script:
        "../../scripts/aggregate_curves.py"


rule curves_figure_decoded:
    """Fig 6: two validation curves decoded by each learner at each snapshot."""
    input:
        curves=f"{TABLES}/curves_fig6.csv",
    output:
        report(
            figure_files("curves_fig6_decoded"),
            caption="../report/curves_fig6_decoded.rst",
            category="Curves (Failures §4)",
            subcategory="Figures",
        ),
    params:
        snapshot_steps=lambda wildcards: next(iter(VARIANTS["curves"].values()))[
            "snapshot_steps"
        ],
        budgets=lambda wildcards: {v: h["steps"] for v, h in VARIANTS["curves"].items()},
        figure_seed=config["curves"]["figure_seed"],
        script="scripts/figure_curves_decoded.py",
    log:
        f"{LOGS}/curves/figure_decoded.log",
    conda:
        "../../envs/environment.yaml"
    script:
        "../../scripts/figure_curves_decoded.py"


rule curves_figure_progress:
    """Validation error of the decoded curves against training steps, per learner."""
    input:
        progress=f"{TABLES}/curves_progress.csv",
    output:
        report(
            figure_files("curves_error_vs_steps"),
            caption="../report/curves_error_vs_steps.rst",
            category="Curves (Failures §4)",
            subcategory="Figures",
        ),
    params:
        script="scripts/figure_curves_progress.py",
    log:
        f"{LOGS}/curves/figure_progress.log",
    conda:
        "../../envs/environment.yaml"
    script:
        "../../scripts/figure_curves_progress.py"


rule curves_figure_conditioning:
    """Condition numbers against n on log-log axes, with the fitted slopes."""
    input:
        conditioning=f"{TABLES}/curves_conditioning.csv",
        fit=rules.curves_aggregate.output.fit,
    output:
        report(
            figure_files("curves_condition_numbers"),
            caption="../report/curves_condition_numbers.rst",
            category="Curves (Failures §4)",
            subcategory="Figures",
        ),
    params:
        script="scripts/figure_curves_conditioning.py",
    log:
        f"{LOGS}/curves/figure_conditioning.log",
    conda:
        "../../envs/environment.yaml"
    script:
        "../../scripts/figure_curves_conditioning.py"


FAMILY_OUTPUTS["curves"] = {
    "figures": figure_files("curves_fig6_decoded")
    + figure_files("curves_error_vs_steps")
    + figure_files("curves_condition_numbers"),
    "tex_tables": table_files(
        "curves_errors",
        "curves_fig6_errors",
        "curves_conditioning_fit",
        "curves_theorem3",
        suffixes=("tex",),
    ),
}
