"""The hierarchical family in the whole workflow at scale=smoke (the session's smoke run)."""

from pathlib import Path

import pandas as pd
import pytest
from helpers import assert_figures_drawn, assert_not_judged_at_smoke

pytestmark = pytest.mark.workflow

REPO = Path(__file__).resolve().parents[1]
# config/scales/smoke.yaml: every learner at n = 20 and 40; layerwise and e2e in the sweeps.
SAMPLES = [(learner, n) for learner in ("layerwise", "onestep", "e2e", "fc") for n in (20, 40)]


def test_every_variant_has_its_runs_in_one_job_per_experiment_and_learner(smoke_run):
    results = smoke_run / "results" / "smoke"
    variants = [f"samples-{learner}-n{n}" for learner, n in SAMPLES]
    variants += [
        f"{e}-{learner}-{v}"
        for e, v in (("noise", "s0.5"), ("variants", "v2"))
        for learner in ("layerwise", "e2e")
    ]
    variants += ["fashion-layerwise-n60", "fashion-e2e-n60"]  # Fashion-MNIST, cropped
    runs = results / "runs" / "hierarchical"
    assert sorted(p.name for p in runs.iterdir()) == sorted(variants)
    for variant in variants:
        assert sorted(p.name for p in (runs / variant).iterdir()) == ["seed0", "seed1"]
    jobs = {p.stem for p in (results / "benchmarks" / "hierarchical").iterdir()}
    assert jobs == {
        "train_samples_layerwise",
        "train_samples_onestep",
        "train_samples_e2e",
        "train_samples_fc",
        "train_noise_layerwise",
        "train_noise_e2e",
        "train_variants_layerwise",
        "train_variants_e2e",
        "train_fashion_layerwise",
        "train_fashion_e2e",
    }
    assert not (results / "checkpoints" / "hierarchical").exists() or not any(
        (results / "checkpoints" / "hierarchical").iterdir()
    )


def test_tables_hold_every_run_level_and_learner(smoke_run):
    tables = smoke_run / "results" / "smoke" / "tables"
    runs = pd.read_csv(tables / "hierarchical_runs.csv")
    assert len(runs) == (len(SAMPLES) + 4 + 2) * 2
    assert runs.test_accuracy.between(0, 1).all() and runs.steps.eq(40).all()
    clusters = pd.read_csv(tables / "hierarchical_cluster_runs.csv")
    clustering = (4 + 2) * 2  # layerwise and onestep at two sizes, layerwise in two sweeps; seeds
    assert len(clusters) == clustering * 2 * 2  # two levels, learned and raw
    assert clusters[["nmi", "purity", "homogeneity"]].stack().between(0, 1 + 1e-9).all()
    assert set(clusters.clusters) == {16}  # twice the 8 classes of each level
    checks = pd.read_csv(tables / "hierarchical_checks.csv").set_index("learner")
    assert list(checks.index) == ["layerwise", "onestep", "e2e", "fc"]
    assert checks.loc[["e2e", "fc"], "min_homogeneity"].isna().all()  # they do not cluster
    assert checks.loc[["layerwise", "onestep"], "min_homogeneity"].notna().all()
    fashion = pd.read_csv(tables / "hierarchical_fashion.csv").set_index("learner")
    assert list(fashion.index) == ["layerwise", "e2e"]  # no clusters: not in the cluster tables
    assert fashion.gap_to_e2e.isna().loc["e2e"] and fashion.gap_to_e2e.notna().loc["layerwise"]
    needed = pd.read_csv(tables / "hierarchical_samples_needed.csv")
    assert set(needed.learner) == {"layerwise", "onestep", "e2e", "fc"}


def test_figures_are_drawn_and_no_claim_is_judged_at_smoke(smoke_run):
    names = ["generation", "accuracy_vs_samples", "clusters_vs_samples", "sweeps", "fashion"]
    assert_figures_drawn(smoke_run, "hierarchical", names)
    assert_not_judged_at_smoke(smoke_run, REPO, "hierarchical", 9)
