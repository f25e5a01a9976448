"""The weight-sharing family in the whole workflow at scale=smoke (the session's smoke run)."""

import json

import pandas as pd
import pytest
from helpers import assert_figures_drawn, assert_not_judged_at_smoke
from pypdf import PdfReader

pytestmark = pytest.mark.workflow

SMOKE_JOBS = [
    "curves_mixed_known",
    "curves_mixed_learned",
    "mix_sweep_mixed_known",
    "walsh_disjoint",
    "walsh_nested",
    "natural_digits_mixed_known",
    "natural_mnist_mixed_known",
]


def test_every_variant_has_its_runs_and_every_job_its_benchmark(smoke_run):
    results = smoke_run / "results" / "smoke"
    variants = [
        f"{setting}-{arch}"
        for setting in ("mixed-w2-c1-known", "mixed-w2-c1-learned", "mixed-w2-c2-known")
        for arch in ("shared", "local", "dense")
    ]
    variants += [f"walsh-disjoint-d{d}-{a}" for d in (5, 10) for a in ("shared", "local")]
    variants += [f"walsh-nested-d10-{a}" for a in ("shared", "local")]
    variants += [
        f"{source}-mixed-w2-c1-known-{a}"
        for source in ("digits", "mnist")
        for a in ("shared", "local", "dense")
    ]
    assert sorted(p.name for p in (results / "runs" / "sharing").iterdir()) == sorted(variants)
    for variant in variants:
        for seed in (0, 1):
            run = results / "runs" / "sharing" / variant / f"seed{seed}"
            for name in ("metrics.csv", "meta.json", "arrays.npz"):
                assert (run / name).stat().st_size > 0
            meta = json.loads((run / "meta.json").read_text())
            assert meta["hparams"]["epochs"] == 2 and meta["ensemble_seeds"] == [0, 1]
            assert meta["variant"] == variant and meta["scale"] == "smoke"
    for job in SMOKE_JOBS:
        assert (results / "benchmarks" / "sharing" / f"train_{job}.tsv").exists()
    assert not (results / "checkpoints" / "sharing").exists() or not any(
        (results / "checkpoints" / "sharing").iterdir()
    )


def test_tables_pair_the_architectures_of_each_seed(smoke_run):
    tables = smoke_run / "results" / "smoke" / "tables"
    paired = pd.read_csv(tables / "sharing_paired.csv")
    assert len(paired) == 5 * 2  # 5 settings (3 Gaussian, 1 digits, 1 MNIST) × 2 seeds
    assert set(paired.patches) == {"gaussian", "digits", "mnist"}
    assert paired[["shared", "local", "dense"]].notna().all().all()
    assert (paired.best <= paired.worst).all()
    final = pd.read_csv(tables / "sharing_final_loss.csv")
    assert set(final.architecture) == {"shared", "local", "dense"} and (final.n == 2).all()
    walsh = pd.read_csv(tables / "sharing_walsh_seeds.csv")
    assert len(walsh) == (2 + 1) * 2 * 2  # (disjoint d 5, 10; nested d 10) × 2 arch × 2 seeds
    assert walsh.highest_degree.between(0, 4).all() and (walsh.degrees == 4).all()
    trend = pd.read_csv(tables / "sharing_walsh_trend.csv")
    assert set(zip(trend.smallest_d, trend.largest_d, strict=True)) == {(5, 10)}
    for name in ("sharing_final_loss", "sharing_walsh_summary"):
        assert r"\begin{tabular}" in (tables / f"{name}.tex").read_text()


def test_figures_are_drawn_and_name_their_function(smoke_run):
    assert_figures_drawn(
        smoke_run, "sharing", ["fig1_curves", "fig2_frequency", "fig3_walsh", "fig4_natural"]
    )


def test_every_sharing_claim_says_it_is_not_judged_at_smoke_scale(smoke_run, repo):
    assert_not_judged_at_smoke(smoke_run, repo, "sharing", 23)


def test_report_has_the_sharing_section(smoke_run):
    reader = PdfReader(smoke_run / "results" / "smoke" / "report" / "report.pdf")
    text = " ".join(page.extract_text() for page in reader.pages)
    assert "Weight sharing is crucial to successful optimization" in text
    assert "reconstruction" in text
