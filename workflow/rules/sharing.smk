# Weight sharing is crucial to successful optimization (2017): the same network with and
# without shared filters, across target frequencies (shared / local / dense).
# Code: scripts/theorydl/families/sharing/.
#
# Training jobs group variants (one experiment and one target and g regime, or one Walsh
# layout, per job: the spec's jobs()) so that TensorFlow starts once per job; every variant
# still trains all its seeds as one ensemble and writes its own run directories. One rule per
# job, sharing_train_<job>, because a job's outputs are a list of variants no wildcard can spell.

training_rules("sharing")


_sharing_experiments = tdl_config.family_module("sharing").experiment_variants(config["sharing"])

aggregate_rule(
    "sharing",
    args=dict(
        block=config["sharing"],
        # The variants of Figs 1 and 4, whose loss curves go to sharing_curves.
        curve_variants=_sharing_experiments["curves"] + _sharing_experiments["natural"],
    ),
)
figure_rule(
    "sharing",
    "fig1_curves",
    inputs=dict(curves=f"{TABLES}/sharing_curves.csv"),
    params=dict(curves=config["sharing"]["curves"]),
)
figure_rule(
    "sharing",
    "fig2_frequency",
    inputs=dict(runs=f"{TABLES}/sharing_runs.csv"),
    params=dict(
        omega_sweep=config["sharing"]["omega_sweep"], mix_sweep=config["sharing"]["mix_sweep"]
    ),
)
figure_rule(
    "sharing",
    "fig3_walsh",
    inputs=dict(
        curves=f"{TABLES}/sharing_walsh_curves.csv", seeds=f"{TABLES}/sharing_walsh_seeds.csv"
    ),
    params=dict(walsh=config["sharing"]["walsh"]),
)
figure_rule(
    "sharing",
    "fig4_natural",
    inputs=dict(curves=f"{TABLES}/sharing_curves.csv"),
    params=dict(natural=config["sharing"]["natural"]),
)
