# Hierarchical generative models (Malach & Shalev-Shwartz 2018), reconstructed: hierarchical
# digits, the layer-wise algorithm against end-to-end and fully connected training.
# Code: scripts/theorydl/families/hierarchical/. One training job per experiment and learner
# (the spec's jobs()); the generation figure needs no training (data.py, numpy).

training_rules("hierarchical")

_hierarchical_spec = tdl_config.family_module("hierarchical")

aggregate_rule("hierarchical")
figure_rule(
    "hierarchical",
    "generation",
    inputs={},
    params=dict(model=_hierarchical_spec.model_sizes(VARIANTS["hierarchical"])),
)
figure_rule(
    "hierarchical", "accuracy_vs_samples", inputs=dict(runs=f"{TABLES}/hierarchical_runs.csv")
)
figure_rule(
    "hierarchical",
    "clusters_vs_samples",
    inputs=dict(clusters=f"{TABLES}/hierarchical_cluster_runs.csv"),
)
figure_rule("hierarchical", "sweeps", inputs=dict(runs=f"{TABLES}/hierarchical_runs.csv"))
figure_rule("hierarchical", "fashion", inputs=dict(runs=f"{TABLES}/hierarchical_runs.csv"))
