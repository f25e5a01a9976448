# Failures of Gradient-Based Deep Learning, §4: piecewise-linear curves (Fig 6) and conditioning.
# Code: scripts/theorydl/families/curves/.

training_rules("curves")


rule curves_conditioning:
    """Condition numbers against n (W, the 3-tap rows before and after whitening); Theorem 3."""
    output:
        conditioning=f"{RESULTS}/runs/curves_theory/conditioning.csv",
        theorem3=f"{RESULTS}/runs/curves_theory/theorem3.csv",
        meta=f"{RESULTS}/runs/curves_theory/meta.json",
    params:
        **theory_params(
            "curves",
            "conditioning_job",
            dims=config["curves"]["conditioning"]["dims"],
            distributions=config["curves"]["conditioning"]["distributions"],
            seeds=config["curves"]["conditioning"]["seeds"],
            curves=config["curves"]["conditioning"]["curves"],
            # Every learner shares n and kinks (curves' check_config refuses them per learner).
            n=shared_hparam("curves", "n"),
            kinks=shared_hparam("curves", "kinks"),
        ),
    resources:
        gpu=0,
    log:
        f"{LOGS}/curves/conditioning.log",
    benchmark:
        f"{BENCHMARKS}/curves/conditioning.tsv"
    conda:
        "../../envs/environment.yaml"
    script:
        "../../scripts/theory.py"


aggregate_rule(
    "curves",
    inputs=dict(
        conditioning_csv=rules.curves_conditioning.output.conditioning,
        theorem3_csv=rules.curves_conditioning.output.theorem3,
    ),
    args=dict(figure_seed=config["curves"]["figure_seed"]),
)
figure_rule(
    "curves",
    "fig6_decoded",
    inputs=dict(curves=f"{TABLES}/curves_fig6.csv"),
    params=dict(
        snapshot_steps=shared_hparam("curves", "snapshot_steps"),
        budgets={v: h["steps"] for v, h in VARIANTS["curves"].items()},
        figure_seed=config["curves"]["figure_seed"],
    ),
)
figure_rule("curves", "error_vs_steps", inputs=dict(progress=f"{TABLES}/curves_progress.csv"))
figure_rule(
    "curves",
    "condition_numbers",
    inputs=dict(
        conditioning=f"{TABLES}/curves_conditioning.csv",
        fit=f"{TABLES}/curves_conditioning_fit.csv",
    ),
)
