# Failures of Gradient-Based Deep Learning, §3.1 and §3.3: k-tuples of line images, end-to-end
# vs decomposition (Figs 2, 3) and the gradient's signal-to-noise ratio (Fig 5).
# Code: scripts/theorydl/families/tuples/.

training_rules("tuples")


rule tuples_snr:
    """Fig 5: the gradient SNR at one initialization, E2E vs decomposition, for every k."""
    output:
        csv=f"{RESULTS}/runs/tuples_snr/init{{init}}.csv",
        meta=f"{RESULTS}/runs/tuples_snr/init{{init}}.json",
    params:
        # The initialization is the {init} wildcard, which scripts/theory.py passes as `init`.
        **theory_params(
            "tuples",
            "gradient_snr_job",
            ks=config["tuples"]["snr"]["ks"],
            hparams=config["tuples"]["snr"]["hparams"],
        ),
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
        "../../scripts/theory.py"


aggregate_rule(
    "tuples",
    inputs=dict(
        snr_csvs=expand(rules.tuples_snr.output.csv, init=config["tuples"]["snr"]["init_seeds"]),
    ),
)
figure_rule(
    "tuples",
    "fig2_examples",
    inputs={},
    params=dict(tf_threads=config["tf_threads"], seed=config["tuples"]["seeds"][0]),
)
figure_rule(
    "tuples",
    "fig3_accuracy",
    inputs=dict(curves=f"{TABLES}/tuples_curves.csv", seeds=f"{TABLES}/tuples_seeds.csv"),
)
figure_rule("tuples", "fig5_snr", inputs=dict(snr=f"{TABLES}/tuples_snr.csv"))
