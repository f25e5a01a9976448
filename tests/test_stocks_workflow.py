"""The stocks family inside the whole workflow at scale=smoke (the shared session run)."""

import json

import pandas as pd
import pytest
from pypdf import PdfReader

pytestmark = pytest.mark.workflow

VARIANTS = [f"{method}_k{k}" for method in ("e2e", "dec") for k in (10, 100)]


def test_every_stocks_output_exists(smoke_run):
    results = smoke_run / "results" / "smoke"
    for variant in VARIANTS:
        for seed in (0, 1):
            run = results / "runs" / "stocks" / variant / f"seed{seed}"
            for name in ("metrics.csv", "meta.json", "arrays.npz"):
                assert (run / name).stat().st_size > 0
            meta = json.loads((run / "meta.json").read_text())
            assert meta["hparams"]["steps"] == 300 and meta["status"] == "ok"
        assert (results / "benchmarks" / "stocks" / f"train_{variant}.tsv").exists()
    assert (results / "runs" / "stocks_theory" / "second_moments.csv").stat().st_size > 0
    for table in ("stocks_seeds", "stocks_summary", "stocks_moments", "stocks_moments_fit"):
        for suffix in (".csv", ".md", ".tex"):
            assert (results / "tables" / f"{table}{suffix}").stat().st_size > 0
    assert (results / "tables" / "stocks_curves.csv").stat().st_size > 0
    for figure in ("stocks_fig4_loss", "stocks_moment_ratio"):
        pdf, png = (results / "figures" / f"{figure}{s}" for s in (".pdf", ".png"))
        assert pdf.stat().st_size > 5000 and png.stat().st_size > 5000
        # The PNG names the function that drew it.
        assert f"families/stocks/figures.py:{figure[7:]}".encode() in png.read_bytes()
    assert (results / "report" / "generated" / "hparams_stocks.tex").stat().st_size > 0


def test_stocks_tables_hold_every_method_k_and_seed(smoke_run):
    tables = smoke_run / "results" / "smoke" / "tables"
    per_seed = pd.read_csv(tables / "stocks_seeds.csv")
    assert sorted(zip(per_seed.method, per_seed.k, per_seed.seed, strict=True)) == sorted(
        (m, k, s) for m in ("e2e", "dec") for k in (10, 100) for s in (0, 1)
    )
    assert (per_seed.budget == 300).all()
    assert per_seed.final_expected_loss.between(-1, 0).all()
    # At initialization the E2E second moment is k times the Dec one, in every run.
    assert ((per_seed.initial_moment_ratio / per_seed.k - 1).abs() < 0.05).all()
    # With k = 10, both methods solve the task well within the smoke budget.
    assert (per_seed[per_seed.k == 10].final_expected_loss < -0.95).all()
    curves = pd.read_csv(tables / "stocks_curves.csv")
    assert sorted(curves.step.unique()) == [0, 50, 100, 150, 200, 250, 300]
    moments = pd.read_csv(tables / "stocks_moments.csv")
    assert sorted(moments.k.unique()) == [2, 10, 100] and set(moments.init_seed) == {0, 1}


def test_stocks_claims_have_their_verdicts(smoke_run):
    claims = pd.read_csv(smoke_run / "results" / "smoke" / "claims.csv").set_index("id")
    stocks = claims[claims.family == "stocks"]
    assert len(stocks) == 6
    # Smoke runs 300 steps of k = 10 and 100 only: no training claim may pass or fail.
    for claim in (
        "stocks-k10-e2e-learns",
        "stocks-k1000-dec-solves",
        "stocks-k1000-e2e-stuck",
        "stocks-k2000-dec-solves",
        "stocks-k2000-e2e-stuck",
    ):
        assert stocks.loc[claim, "verdict"] == "not judged at this scale", claim
    assert "needs budget ≥ 2 500, ran 300" in stocks.loc["stocks-k10-e2e-learns", "reason"]
    assert stocks.loc["stocks-moment-ratio-linear", "verdict"] == "reproduced"
    assert stocks.loc["stocks-moment-ratio-linear", "seeds_satisfying"] == "2/2"


def test_report_has_the_stocks_section(smoke_run):
    reader = PdfReader(smoke_run / "results" / "smoke" / "report" / "report.pdf")
    text = " ".join(page.extract_text() for page in reader.pages)
    assert "End-to-end vs decomposition: the stocks task" in text
    assert "dec_vs_e2e_stocks.py" in text  # the setup names the authors' script
    for rule in ("stocks_figure_fig4_loss", "stocks_figure_moment_ratio", "stocks_aggregate"):
        assert f"Made by rule {rule}" in text
