"""The flat-activation family in the whole workflow at scale=smoke (shared session run)."""

import json

import pandas as pd
import pytest
from pypdf import PdfReader

pytestmark = pytest.mark.workflow

METHODS = ("non_flat", "end_to_end", "multi_class", "forward_only")
CLAIMS = (
    "flat-forward-only-best",
    "flat-forward-only-rms",
    "flat-forward-only-off",
    "flat-end-to-end-smooth",
    "flat-end-to-end-worse",
    "flat-multi-class-levels",
    "flat-multi-class-boundaries",
    "flat-non-flat-stuck",
    "flat-non-flat-never-better",
)


def test_every_flat_output_exists(smoke_run):
    results = smoke_run / "results" / "smoke"
    for method in METHODS:
        for seed in (0, 1):
            run = results / "runs" / "flat" / method / f"seed{seed}"
            for name in ("metrics.csv", "meta.json", "arrays.npz"):
                assert (run / name).stat().st_size > 0
            meta = json.loads((run / "meta.json").read_text())
            assert meta["hparams"]["method"] == method and meta["hparams"]["steps"] == 300
        assert (results / "benchmarks" / "flat" / f"train_{method}.tsv").exists()
        assert not (results / "checkpoints" / "flat" / method).exists()
    cost = pd.read_csv(results / "runs" / "flat_test_cost" / "test_cost.csv")
    assert sorted(cost.method) == sorted(METHODS) and (cost.seconds_per_prediction > 0).all()
    assert (results / "benchmarks" / "flat" / "test_cost.tsv").exists()
    for table in ("flat_summary", "flat_seeds", "flat_test_cost"):
        for suffix in (".csv", ".md", ".tex"):
            assert (results / "tables" / f"{table}{suffix}").stat().st_size > 0
    costs = pd.read_csv(results / "tables" / "flat_test_cost.csv")
    assert sorted(costs.method) == sorted(METHODS) and (costs.time_per_prediction_ns > 0).all()
    summary = pd.read_csv(results / "tables" / "flat_summary.csv")
    assert not [c for c in summary.columns if "time" in c]  # a timing: flat_test_cost alone
    for figure in ("flat_fig7_step_function", "flat_training_curves"):
        pdf, png = (results / "figures" / f"{figure}{s}" for s in (".pdf", ".png"))
        assert pdf.stat().st_size > 5000 and png.stat().st_size > 5000
        # The PNG names the function that drew it.
        assert f"families/flat/figures.py:{figure[5:]}".encode() in png.read_bytes()


def test_tables_hold_one_row_per_method_and_seed(smoke_run):
    tables = smoke_run / "results" / "smoke" / "tables"
    per_seed = pd.read_csv(tables / "flat_seeds.csv")
    assert sorted(zip(per_seed.method, per_seed.seed, strict=True)) == sorted(
        (m, s) for m in METHODS for s in (0, 1)
    )
    assert per_seed.relative_rms.between(0, 2).all() and per_seed.off_fraction.between(0, 1).all()
    assert (per_seed.budget == 300).all()
    assert (per_seed.budget_share == 0.03).all()  # 300 of the authors' 10 000 steps
    for seed, group in per_seed.groupby("seed"):
        assert sorted(group.error_rank)[0] == 1  # someone is best on every target
        # The four methods of a seed learn one target.
        assert group.b_star.nunique() == 1, seed
    summary = pd.read_csv(tables / "flat_summary.csv")
    assert list(summary.method) == list(METHODS) and (summary.n == 2).all()
    points = pd.read_csv(tables / "flat_fig7_points.csv")
    assert set(points.method) == set(METHODS)
    assert (points.groupby("method").size() == 2560).all()
    assert points.groupby("method").r.apply(lambda r: r.is_monotonic_increasing).all()


def test_flat_claims_are_not_judged_at_smoke_scale(smoke_run):
    claims = pd.read_csv(smoke_run / "results" / "smoke" / "claims.csv").set_index("id")
    for claim in CLAIMS:
        assert claims.loc[claim, "verdict"] == "not judged at this scale", claim
        assert "budget_share" in claims.loc[claim, "reason"]


def test_report_has_the_flat_section(smoke_run):
    reader = PdfReader(smoke_run / "results" / "smoke" / "report" / "report.pdf")
    text = " ".join(page.extract_text() for page in reader.pages)
    assert "Flat activations: learning through a step function" in text
    assert "Paper and authors" in text
