# Failures of Gradient-Based Deep Learning, §3.2-3.3: the stocks task, E2E vs decomposition
# (Fig 4), and the second moments of the two gradient estimators.

# d of the trained networks: one for every variant (stocks.check_config makes sure).
STOCKS_D = next(iter(VARIANTS["stocks"].values()))["d"]


rule stocks_train:
    """Train every seed of one (method, k) as one ensemble."""
    output:
        metrics=run_files("stocks", "{variant}", "metrics.csv"),
        meta=run_files("stocks", "{variant}", "meta.json"),
        arrays=run_files("stocks", "{variant}", "arrays.npz"),
    params:
        **training_params("stocks"),
    threads: config["tf_threads"]
    resources:
        gpu=gpus_per_job("stocks"),
    log:
        f"{LOGS}/stocks/train_{{variant}}.log",
    benchmark:
        f"{BENCHMARKS}/stocks/train_{{variant}}.tsv"
    conda:
        "../../envs/environment.yaml"
    script:
        "../../scripts/train.py"


rule stocks_second_moments:
    """§3.3: both estimators' second moments at initialization, exact and measured, for each k."""
    output:
        csv=f"{RESULTS}/runs/stocks_theory/second_moments.csv",
        meta=f"{RESULTS}/runs/stocks_theory/meta.json",
    params:
        code=code_version("stocks_theory", "stocks"),
        ks=config["stocks"]["second_moments"]["ks"],
        init_seeds=config["stocks"]["second_moments"]["init_seeds"],
        samples=config["stocks"]["second_moments"]["samples"],
        d=STOCKS_D,
        tf_threads=config["tf_threads"],
    threads: config["tf_threads"]
    log:
        f"{LOGS}/stocks/second_moments.log",
    benchmark:
        f"{BENCHMARKS}/stocks/second_moments.tsv"
    conda:
        "../../envs/environment.yaml"
    script:
        "../../scripts/stocks_second_moments.py"


rule stocks_aggregate:
    """Per-seed and per-(k, method) tables of the stocks runs, and the second-moment tables."""
    input:
        metrics=all_run_files("stocks", "metrics.csv"),
        meta=all_run_files("stocks", "meta.json"),
        arrays=all_run_files("stocks", "arrays.npz"),
        moments=rules.stocks_second_moments.output.csv,
    output:
        summary=report(
            f"{TABLES}/stocks_summary.csv",
            caption="../report/stocks_summary.rst",
            category="Stocks (Failures §3.2)",
            subcategory="Tables",
        ),
        moments=report(
            f"{TABLES}/stocks_moments.csv",
            caption="../report/stocks_moments_table.rst",
            category="Stocks (Failures §3.2)",
            subcategory="Tables",
        ),
        text=table_files("stocks_summary", "stocks_moments", suffixes=("md", "tex")),
        data=table_files("stocks_seeds", "stocks_moments_fit")
        + table_files("stocks_curves", suffixes=("csv",)),
    params:
        code=code_version("stocks_analysis", "runs", "tables"),
        variants=VARIANTS["stocks"],
    log:
        f"{LOGS}/stocks/aggregate.log",
    conda:
        "../../envs/environment.yaml"
    script:
        "../../scripts/aggregate_stocks.py"


rule stocks_figure_loss:
    """Fig 4: the E2E objective against iterations, E2E vs decomposition, one panel per k."""
    input:
        curves=f"{TABLES}/stocks_curves.csv",
    output:
        report(
            figure_files("stocks_fig4_loss"),
            caption="../report/stocks_fig4_loss.rst",
            category="Stocks (Failures §3.2)",
            subcategory="Figures",
        ),
    params:
        ks=config["stocks"]["figure4_ks"],
        d=STOCKS_D,
        script="scripts/figure_stocks_loss.py",
    log:
        f"{LOGS}/stocks/figure_loss.log",
    conda:
        "../../envs/environment.yaml"
    script:
        "../../scripts/figure_stocks_loss.py"


rule stocks_figure_moments:
    """§3.3: ratio of the estimators' second moments against k, at initialization."""
    input:
        moments=rules.stocks_aggregate.output.moments,
    output:
        report(
            figure_files("stocks_moment_ratio"),
            caption="../report/stocks_moment_ratio.rst",
            category="Stocks (Failures §3.2)",
            subcategory="Figures",
        ),
    params:
        d=STOCKS_D,
        script="scripts/figure_stocks_moments.py",
    log:
        f"{LOGS}/stocks/figure_moments.log",
    conda:
        "../../envs/environment.yaml"
    script:
        "../../scripts/figure_stocks_moments.py"


FAMILY_OUTPUTS["stocks"] = {
    "figures": figure_files("stocks_fig4_loss") + figure_files("stocks_moment_ratio"),
    "tex_tables": table_files(
        "stocks_summary",
        "stocks_seeds",
        "stocks_moments",
        "stocks_moments_fit",
        suffixes=("tex",),
    ),
}
