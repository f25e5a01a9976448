# Failures of Gradient-Based Deep Learning, §5: flat activations, learning through a step
# function four ways (Fig 7). Code: scripts/theorydl/families/flat/.

training_rules("flat")


rule flat_test_cost:
    """Test cost: time per prediction of each method's model, measured together in one process."""
    output:
        csv=f"{RESULTS}/runs/flat_test_cost/test_cost.csv",
        meta=f"{RESULTS}/runs/flat_test_cost/meta.json",
    params:
        **theory_params(
            "flat",
            "test_cost_job",
            variants=VARIANTS["flat"],
            seed=config["flat"]["seeds"][0],
            rounds=tdl_config.family_module("flat").TEST_COST_ROUNDS,
        ),
    threads: config["tf_threads"]
    resources:
        gpu=0,
    log:
        f"{LOGS}/flat/test_cost.log",
    benchmark:
        f"{BENCHMARKS}/flat/test_cost.tsv"
    conda:
        "../../envs/environment.yaml"
    script:
        "../../scripts/theory.py"


aggregate_rule(
    "flat",
    inputs=dict(test_cost_csv=rules.flat_test_cost.output.csv),
    args=dict(figure_seed=config["flat"]["figure7_seed"]),
)
figure_rule("flat", "fig7_step_function", inputs=dict(points=f"{TABLES}/flat_fig7_points.csv"))
figure_rule("flat", "training_curves", inputs=dict(curves=f"{TABLES}/flat_curves.csv"))
