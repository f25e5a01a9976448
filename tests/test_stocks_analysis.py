"""Stocks aggregation and claims on hand-made tables: statistics, fits and verdicts."""

import numpy as np
import pandas as pd
import pytest

from theorydl import claims as tdl_claims
from theorydl import config as tdl_config
from theorydl.families.stocks import analysis


def test_first_step_at_most_is_censored_when_never_reached():
    curve = pd.Series([0.0, -0.5, -0.95, -0.99], index=[0, 100, 200, 300])
    assert analysis.first_step_at_most(curve, -0.9) == 200
    assert analysis.first_step_at_most(curve, -1.0) == float("inf")


def test_moment_fit_finds_slope_one_when_the_ratio_is_k():
    ks = np.array([2, 10, 100, 1000])
    raw = pd.DataFrame(
        {
            "k": np.tile(ks, 2),
            "init_seed": np.repeat([0, 1], 4),
            "samples": 100,
            "exact_e2e": np.tile(2.0 / ks, 2),
            "exact_dec": np.tile(2.0 / ks**2, 2),
            "measured_e2e": np.tile(2.0 / ks, 2) * 1.05,  # sampling noise, the same factor
            "measured_dec": np.tile(2.0 / ks**2, 2),
            "mean_gradient_sq": 1e-9,
        }
    )
    table, fit = analysis.moments_tables(raw)
    assert list(table.columns) == analysis.TABLES["stocks_moments"]
    np.testing.assert_allclose(table.exact_ratio, table.k)
    np.testing.assert_allclose(fit.slope_exact, 1.0)
    np.testing.assert_allclose(fit.slope_measured, 1.0)
    np.testing.assert_allclose(fit.max_relative_deviation_from_k, 0.0, atol=1e-12)


def seeds_table(rows):
    """A stocks_seeds table from (method, k, budget, final_expected_loss) rows, 3 seeds each."""
    records = []
    for method, k, budget, loss in rows:
        for seed in range(3):
            records.append(
                {
                    "method": method,
                    "k": k,
                    "seed": seed,
                    "budget": budget,
                    "status": "ok",
                    "final_loss": loss,
                    "final_expected_loss": loss + 0.01 * seed,
                    "half_budget_expected_loss": loss / 2,
                    "final_right_stock_accuracy": -loss,
                    "final_top_stock_mass": 0.99,
                    "steps_to_solved": 1800.0 if loss <= -0.9 else float("inf"),
                    "initial_moment_ratio": float(k),
                    "wall_time_s": 1.0,
                }
            )
    return pd.DataFrame(records, columns=analysis.TABLES["stocks_seeds"])


@pytest.fixture(scope="module")
def stocks_claims(repo):
    claims = tdl_claims.load_claims(
        repo / "config" / "claims.yaml",
        repo / "workflow" / "schemas" / "claims.schema.yaml",
        tdl_config.known_tables(),
    )
    return {c.id: c for c in claims if c.family == "stocks"}


def test_claims_reproduce_on_the_papers_numbers(stocks_claims):
    table = seeds_table(
        [
            ("e2e", 10, 2500, -1.0),
            ("dec", 1000, 2500, -1.0),
            ("e2e", 1000, 2500, -0.29),
            ("dec", 2000, 2500, -0.999),
            ("e2e", 2000, 2500, -0.24),
        ]
    )
    for claim_id in (
        "stocks-k10-e2e-learns",
        "stocks-k1000-dec-solves",
        "stocks-k1000-e2e-stuck",
        "stocks-k2000-dec-solves",
        "stocks-k2000-e2e-stuck",
    ):
        verdict = tdl_claims.judge(stocks_claims[claim_id], table)
        assert verdict["verdict"] == tdl_claims.REPRODUCED, claim_id
        assert verdict["seeds_satisfying"] == "3/3"


def test_claims_fail_when_e2e_learns_or_dec_does_not(stocks_claims):
    table = seeds_table([("e2e", 1000, 2500, -0.8), ("dec", 1000, 2500, -0.5)])
    for claim_id in ("stocks-k1000-e2e-stuck", "stocks-k1000-dec-solves"):
        verdict = tdl_claims.judge(stocks_claims[claim_id], table)
        assert verdict["verdict"] == tdl_claims.NOT_REPRODUCED, claim_id


def test_short_or_missing_runs_are_not_judged(stocks_claims):
    short = seeds_table([("dec", 1000, 300, -1.0), ("e2e", 1000, 300, -0.1)])
    for claim_id in ("stocks-k1000-dec-solves", "stocks-k1000-e2e-stuck"):
        verdict = tdl_claims.judge(stocks_claims[claim_id], short)
        assert verdict["verdict"] == tdl_claims.NOT_JUDGED
    missing = tdl_claims.judge(stocks_claims["stocks-k2000-dec-solves"], short)
    assert missing["verdict"] == tdl_claims.NOT_JUDGED


def test_summary_has_one_row_per_k_and_method_with_the_papers_value():
    per_seed = seeds_table([("e2e", 1000, 2500, -0.3), ("dec", 1000, 2500, -1.0)])
    summary = analysis.summarise(per_seed)
    assert list(summary.columns) == analysis.TABLES["stocks_summary"]
    assert list(zip(summary.k, summary.method, strict=True)) == [(1000, "dec"), (1000, "e2e")]
    assert summary.set_index("method").published_final_loss.to_dict() == {
        "dec": -1.0,
        "e2e": -0.29,
    }
    assert summary.set_index("method").reached_solved.to_dict() == {"dec": 3, "e2e": 0}
    display = analysis.summary_display(per_seed, summary)
    assert display["steps to L ≤ −0.9"].tolist() == ["1 800 (3/3)", "> 2 500 (0/3)"]
