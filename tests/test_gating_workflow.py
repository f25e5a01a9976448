"""The GaLU family in the whole workflow at scale=smoke (the session's smoke run)."""

import json

import numpy as np
import pandas as pd
import pytest
from helpers import assert_figures_drawn, assert_not_judged_at_smoke
from pypdf import PdfReader

pytestmark = pytest.mark.workflow

CELLS = [(64, 8, 4), (64, 8, 8)]  # the smoke grid's cells with k·d ≤ m
NOISES = [0.0, 1.0]


def test_every_variant_has_its_runs_and_every_job_its_benchmark(smoke_run):
    results = smoke_run / "results" / "smoke"
    variants = [f"memorise-{lr}-m{m}-d{d}-k{k}" for lr in ("relu", "galu") for m, d, k in CELLS]
    variants += [
        f"noise-{task}-{lr}-s{s:g}"
        for task in ("regression", "classification")
        for lr in ("relu", "galu")
        for s in NOISES
    ]
    variants += ["width-relu-o2", "width-galu-o2"]
    variants += [
        "images-mnist-relu-k4-lr0.001",
        "images-mnist-galu0-k4-lr0.001-a1",
        "images-mnist-linear-k4-lr0.001",
    ]
    assert sorted(p.name for p in (results / "runs" / "gating").iterdir()) == sorted(variants)
    for variant in variants:
        # Fig 1 trains the first `repeats` seeds (1 at smoke), the others every seed.
        seeds = [0] if variant.startswith("images") else [0, 1]
        found = sorted(p.name for p in (results / "runs" / "gating" / variant).iterdir())
        assert found == [f"seed{s}" for s in seeds]
        meta = json.loads(
            (results / "runs" / "gating" / variant / f"seed{seeds[-1]}" / "meta.json").read_text()
        )
        assert meta["hparams"]["steps"] == 200 and meta["ensemble_seeds"] == seeds
    jobs = ("memorise_relu_m64", "noise_classification_galu", "width_galu_o2")
    jobs += ("images_mnist_galu0_k4",)
    for job in (*jobs, "exact_memorise", "exact_noise"):
        name = job if job.startswith("exact") else f"train_{job}"
        assert (results / "benchmarks" / "gating" / f"{name}.tsv").exists()


def test_tables_hold_every_learner_and_the_reference_lines(smoke_run):
    tables = smoke_run / "results" / "smoke" / "tables"
    runs = pd.read_csv(tables / "gating_memorise_runs.csv")
    assert len(runs) == 4 * len(CELLS) * 2  # 4 learners × cells × 2 seeds
    assert set(runs.learner) == {"exact", "hill_climbing", "galu", "relu"}
    summary = pd.read_csv(tables / "gating_memorise.csv")
    assert sorted(set(summary.ratio)) == [0.5, 1.0]
    assert (summary.line == 1 - summary.ratio).all()
    exact = summary[summary.learner == "exact"].set_index("ratio").train_mse_mean
    assert exact[1.0] < 0.02 and 0.2 < exact[0.5] < 0.8  # kd = m memorises; kd = m/2 halves
    climbed = summary[summary.learner == "hill_climbing"].set_index("ratio").train_mse_mean
    assert climbed[0.5] <= exact[0.5] + 1e-12  # hill climbing never does worse
    noise = pd.read_csv(tables / "gating_noise.csv")
    assert len(noise) == 2 * len(NOISES) + 2 * len(NOISES) + len(NOISES)  # + exact (regression)
    classification = noise[noise.task == "classification"]
    assert (
        classification.memoriser_error == 2 * classification.flip * (1 - classification.flip)
    ).all()
    exact_noise = noise[noise.learner == "exact"].set_index("noise")
    assert exact_noise.sum_w2_mean[1.0] > exact_noise.sum_w2_mean[0.0]
    checks = pd.read_csv(tables / "gating_noise_checks.csv")
    assert set(zip(checks.task, checks.learner, strict=True)) == {
        ("regression", "relu"),
        ("regression", "galu"),
        ("regression", "exact"),
        ("classification", "relu"),
        ("classification", "galu"),
    }


def test_the_width_searches_are_tabled_probe_by_probe(smoke_run):
    tables = smoke_run / "results" / "smoke" / "tables"
    probes = pd.read_csv(tables / "gating_width_probes.csv")
    # Smoke searches [1, 8]: at most ⌊log2 8⌋ + 2 = 5 widths per learner, each with both seeds.
    for learner in ("relu", "galu"):
        mine = probes[probes.learner == learner]
        assert set(mine.seed) == {0, 1} and 1 <= mine.probe.nunique() <= 5
        assert mine[mine.probe == 0].k.unique().tolist() == [4]  # the middle of [1, 8] first
        per_seed = mine.groupby("probe").train_mse.mean()
        assert np.allclose(per_seed, mine.groupby("probe").mean_train_mse.first())
    summary = pd.read_csv(tables / "gating_width.csv").set_index("learner")
    assert set(summary.index) == {"relu", "galu"} and (summary.outputs == 2).all()
    for learner, row in summary.iterrows():
        mine = probes[(probes.learner == learner) & (probes.seed == 0)]
        fits = mine[mine.mean_train_mse < row.target_mse].k
        expected = fits.min() if len(fits) else np.nan
        assert (np.isnan(expected) and np.isnan(row.minimal_width)) or row.minimal_width == expected
        assert row.widths_tried == " ".join(map(str, mine.k))


def test_the_images_are_whitened_on_the_training_part_and_selected_both_ways(smoke_run):
    from theorydl.families.gating import data, spec

    cfg = spec.GatingConfig(experiment="images", dataset="mnist", pca_dims=8)
    images = data.whitened_images(cfg, smoke_run / "results" / "smoke" / "datasets")
    assert images.x_train.shape[1] == 8
    assert len(images.y_train) + len(images.y_validation) == 8000  # the subset's training split
    assert abs(len(images.y_validation) - 800) <= 10  # 10 %, rounded class by class
    cov = np.cov(images.x_train.astype(np.float64), rowvar=False, bias=True)
    assert np.allclose(cov, np.eye(8), atol=1e-4)
    assert np.abs(images.x_test.mean(axis=0)).max() < 0.2  # the same transform, not refitted
    tables = smoke_run / "results" / "smoke" / "tables"
    chosen = pd.read_csv(tables / "gating_images.csv")
    assert set(zip(chosen.learner, chosen.selection, strict=True)) == {
        (learner, selection)
        for learner in ("relu", "galu0", "linear")
        for selection in ("test", "validation")
    }
    runs = pd.read_csv(tables / "gating_images_runs.csv")
    assert len(runs) == 3 and (runs.seed == 0).all()
    for _, row in chosen.iterrows():
        mine = runs[runs.learner == row.learner]
        assert np.isclose(row.test_error_mean, mine.test_error.mean())


def test_figures_are_drawn_and_name_their_function(smoke_run):
    figures = ["fig1_images", "fig2_memorise", "fig3_noise", "fig4_norms", "fig5_width"]
    assert_figures_drawn(smoke_run, "gating", figures)


def test_every_gating_claim_says_it_is_not_judged_at_smoke_scale(smoke_run, repo):
    assert_not_judged_at_smoke(smoke_run, repo, "gating", 29)


def test_report_has_the_gating_section(smoke_run):
    reader = PdfReader(smoke_run / "results" / "smoke" / "report" / "report.pdf")
    text = " ".join(page.extract_text() for page in reader.pages)
    assert "Decoupling gating from linearity" in text
    assert "2p(1" in text
