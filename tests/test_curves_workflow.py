"""Curves (Failures §4) in the whole workflow at scale=smoke (the session's shared smoke run)."""

import json

import pandas as pd
import pytest
from pypdf import PdfReader

pytestmark = pytest.mark.workflow

LEARNERS = ("fc", "conv", "conv_whitened", "autoencoder")
TRAINING_CLAIMS = (
    "curves-whitened-exact-500",
    "curves-conv-inexact-500",
    "curves-conv-exact-50000",
    "curves-fc-inexact-50000",
    "curves-autoencoder-inexact",
)


def test_every_curves_output_exists(smoke_run):
    results = smoke_run / "results" / "smoke"
    for learner in LEARNERS:
        for seed in (0, 1):
            run = results / "runs" / "curves" / learner / f"seed{seed}"
            meta = json.loads((run / "meta.json").read_text())
            assert meta["hparams"]["learner"] == learner and meta["steps_completed"] == 300
            assert (run / "metrics.csv").stat().st_size > 0
        assert (results / "benchmarks" / "curves" / f"train_{learner}.tsv").exists()
        assert not (results / "checkpoints" / "curves" / learner).exists()
    for name in ("conditioning.csv", "theorem3.csv", "meta.json"):
        assert (results / "runs" / "curves_theory" / name).stat().st_size > 0
    for table in ("curves_errors", "curves_conditioning_fit", "curves_fig6_errors"):
        for suffix in (".csv", ".md", ".tex"):
            assert (results / "tables" / f"{table}{suffix}").stat().st_size > 0
    for figure in ("curves_fig6_decoded", "curves_error_vs_steps", "curves_condition_numbers"):
        pdf, png = (results / "figures" / f"{figure}{s}" for s in (".pdf", ".png"))
        assert pdf.stat().st_size > 5000 and png.stat().st_size > 5000
        # The PNG names the function that drew it.
        assert f"figures.py:{figure.removeprefix('curves_')}".encode() in png.read_bytes()
    assert (results / "report" / "generated" / "hparams_curves.tex").exists()


def test_tables_hold_every_learner_seed_and_snapshot(smoke_run):
    tables = smoke_run / "results" / "smoke" / "tables"
    per_seed = pd.read_csv(tables / "curves_seed_errors.csv")
    assert len(per_seed) == 4 * 2 * 3
    assert sorted(per_seed.step.unique()) == [50, 150, 300]
    assert (per_seed.relative_rms > 0).all() and (
        per_seed.relative_max >= per_seed.relative_rms
    ).all()
    final = per_seed[per_seed["last"]].groupby("learner").relative_rms.median()
    assert final["conv_whitened"] < final["conv"]  # whitening helps even in 300 steps
    fit = pd.read_csv(tables / "curves_conditioning_fit.csv")
    assert set(fit.quantity) == {"fc_gram", "conv_covariance", "conv_whitened"}
    figure = pd.read_csv(tables / "curves_fig6.csv")
    assert set(figure.curve) == {"A", "B"} and set(figure.learner) == set(LEARNERS)


def test_claim_verdicts_at_smoke_scale(smoke_run):
    claims = pd.read_csv(smoke_run / "results" / "smoke" / "claims.csv").set_index("id")
    for claim in TRAINING_CLAIMS:  # 300 steps: nothing to judge, never "reproduced"
        assert claims.loc[claim, "verdict"] == "not judged at this scale"
    assert claims.loc["curves-fc-condition-slope", "verdict"] == "reproduced"
    assert claims.loc["curves-conv-condition-slope", "verdict"] == "reproduced"
    assert claims.loc["curves-conv-condition-slope", "seeds_satisfying"] == "2/2"


def test_report_has_the_curves_section(smoke_run):
    reader = PdfReader(smoke_run / "results" / "smoke" / "report" / "report.pdf")
    text = " ".join(page.extract_text() for page in reader.pages)
    assert "Architecture and conditioning: piecewise-linear curves" in text
    assert "Decoded outputs of the four learners" in text and "Paper and authors" in text
