# Failures of Gradient-Based Deep Learning, §2: parities (Fig 1) and Theorem 1.
# Code: scripts/theorydl/families/parity/.

training_rules("parity")


rule parity_gradient_variance:
    """Theorem 1: the exact variance across parity targets of the gradient at initialization."""
    output:
        csv=f"{RESULTS}/runs/parity_theory/gradient_variance.csv",
        meta=f"{RESULTS}/runs/parity_theory/meta.json",
    params:
        **theory_params(
            "parity",
            "gradient_variance_job",
            dims=config["parity"]["gradient_variance"]["dims"],
            init_seeds=config["parity"]["gradient_variance"]["init_seeds"],
            # One width for every d (parity's check_config refuses a per-variant width_factor).
            width_factor=shared_hparam("parity", "width_factor"),
        ),
    threads: config["tf_threads"]
    resources:
        gpu=0,
    log:
        f"{LOGS}/parity/gradient_variance.log",
    benchmark:
        f"{BENCHMARKS}/parity/gradient_variance.tsv"
    conda:
        "../../envs/environment.yaml"
    script:
        "../../scripts/theory.py"


aggregate_rule(
    "parity",
    inputs=dict(gradvar_csv=rules.parity_gradient_variance.output.csv),
    args=dict(figure1_dims=config["parity"]["figure1_dims"]),
)
figure_rule(
    "parity",
    "fig1_accuracy",
    inputs=dict(curves=f"{TABLES}/parity_curves.csv"),
    params=dict(dims=config["parity"]["figure1_dims"]),
)
figure_rule("parity", "steps_to_99", inputs=dict(seeds=f"{TABLES}/parity_seeds.csv"))
figure_rule("parity", "gradient_variance", inputs=dict(gradvar=f"{TABLES}/parity_gradvar.csv"))
