# Failures of Gradient-Based Deep Learning, §3.2-3.3: the stocks task, E2E vs decomposition
# (Fig 4), and the second moments of the two gradient estimators.
# Code: scripts/theorydl/families/stocks/.

# d of the trained networks: one for every variant (stocks' check_config makes sure).
STOCKS_D = shared_hparam("stocks", "d")

training_rules("stocks")


rule stocks_second_moments:
    """§3.3: both estimators' second moments at initialization, exact and measured, for each k."""
    output:
        csv=f"{RESULTS}/runs/stocks_theory/second_moments.csv",
        meta=f"{RESULTS}/runs/stocks_theory/meta.json",
    params:
        **theory_params(
            "stocks",
            "second_moments_job",
            d=STOCKS_D,
            ks=config["stocks"]["second_moments"]["ks"],
            init_seeds=config["stocks"]["second_moments"]["init_seeds"],
            samples=config["stocks"]["second_moments"]["samples"],
        ),
    threads: config["tf_threads"]
    resources:
        gpu=0,
    log:
        f"{LOGS}/stocks/second_moments.log",
    benchmark:
        f"{BENCHMARKS}/stocks/second_moments.tsv"
    conda:
        "../../envs/environment.yaml"
    script:
        "../../scripts/theory.py"


aggregate_rule("stocks", inputs=dict(moments_csv=rules.stocks_second_moments.output.csv))
figure_rule(
    "stocks",
    "fig4_loss",
    inputs=dict(curves=f"{TABLES}/stocks_curves.csv"),
    params=dict(ks=config["stocks"]["figure4_ks"], d=STOCKS_D),
)
figure_rule(
    "stocks",
    "moment_ratio",
    inputs=dict(moments=f"{TABLES}/stocks_moments.csv"),
    params=dict(d=STOCKS_D),
)
