# GaLU networks: decoupling gating from linearity (Fiat, Malach, Shalev-Shwartz 2019).
# Code: scripts/theorydl/families/gating/. ReLU and GaLU train by Adam (grouped jobs, the spec's
# jobs()); exact GaLU and hill climbing over its gates train nothing (theory.py).

training_rules("gating")

_gating_spec = tdl_config.family_module("gating")


rule gating_exact_memorise:
    """Fig 2: exact GaLU with random gates and after hill climbing, every (m, d, k) cell and seed."""
    output:
        csv=f"{RESULTS}/runs/gating_theory/memorise.csv",
        meta=f"{RESULTS}/runs/gating_theory/memorise_meta.json",
    params:
        **theory_params(
            "gating",
            "memorise_job",
            cells=[list(cell) for cell in _gating_spec.memorise_cells(config["gating"])],
            seeds=config["gating"]["seeds"],
            hill_climbing_steps=config["gating"]["memorise"]["hill_climbing_steps"],
        ),
    threads: config["tf_threads"]
    resources:
        gpu=0,
    log:
        f"{LOGS}/gating/exact_memorise.log",
    benchmark:
        f"{BENCHMARKS}/gating/exact_memorise.tsv"
    conda:
        "../../envs/environment.yaml"
    script:
        "../../scripts/theory.py"


rule gating_exact_noise:
    """Figs 3-4: exact GaLU on the label-noise regression task, every σ_y and seed."""
    output:
        csv=f"{RESULTS}/runs/gating_theory/noise.csv",
        meta=f"{RESULTS}/runs/gating_theory/noise_meta.json",
    params:
        **theory_params(
            "gating",
            "noise_job",
            setting=_gating_spec.noise_setting(config["gating"]),
            noises=[float(s) for s in config["gating"]["noise"]["noises"]],
            seeds=config["gating"]["seeds"],
        ),
    threads: config["tf_threads"]
    resources:
        gpu=0,
    log:
        f"{LOGS}/gating/exact_noise.log",
    benchmark:
        f"{BENCHMARKS}/gating/exact_noise.tsv"
    conda:
        "../../envs/environment.yaml"
    script:
        "../../scripts/theory.py"


aggregate_rule(
    "gating",
    inputs=dict(
        memorise_csv=rules.gating_exact_memorise.output.csv,
        noise_csv=rules.gating_exact_noise.output.csv,
    ),
)
figure_rule("gating", "fig2_memorise", inputs=dict(runs=f"{TABLES}/gating_memorise_runs.csv"))
figure_rule("gating", "fig3_noise", inputs=dict(runs=f"{TABLES}/gating_noise_runs.csv"))
figure_rule("gating", "fig4_norms", inputs=dict(runs=f"{TABLES}/gating_noise_runs.csv"))
figure_rule(
    "gating",
    "fig5_width",
    inputs=dict(summary=f"{TABLES}/gating_width.csv", probes=f"{TABLES}/gating_width_probes.csv"),
)
figure_rule("gating", "fig1_images", inputs=dict(summary=f"{TABLES}/gating_images.csv"))
