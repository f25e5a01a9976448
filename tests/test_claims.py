"""Claims: loading, the four verdicts, and never passing on missing data."""

import math

import numpy as np
import pandas as pd
import pytest

from theorydl import claims, config


def claim(**overrides):
    fields = dict(
        id="c",
        family="parity",
        figure="Fig 1",
        statement="s",
        published="p",
        table="parity_seeds",
        metric="steps_to_99",
        statistic="median",
        comparison="<=",
        value=5000.0,
        where={"d": 5},
        requires={"budget": 5000},
        min_seeds=3,
    )
    return claims.Claim(**{**fields, **overrides})


def seeds_table(steps, budget=5000, d=5):
    return pd.DataFrame({"d": d, "seed": range(len(steps)), "budget": budget, "steps_to_99": steps})


def test_reproduced_with_the_median_and_per_seed_count():
    result = claims.judge(claim(), seeds_table([2000, 3000, math.inf, 4000, 2500]))
    assert result["verdict"] == claims.REPRODUCED
    assert result["measured"] == 3000
    assert result["seeds_satisfying"] == "4/5"


def test_not_reproduced_when_the_median_misses():
    result = claims.judge(claim(), seeds_table([2000, math.inf, math.inf, 9000, 2500]))
    assert result["verdict"] == claims.NOT_REPRODUCED
    assert result["seeds_satisfying"] == "2/5"


def test_short_runs_are_not_judged_never_reproduced():
    result = claims.judge(claim(), seeds_table([100, 100, 100], budget=300))
    assert result["verdict"] == claims.NOT_JUDGED
    assert "needs budget ≥ 5 000, ran 300" in result["reason"]


def test_rows_absent_at_this_scale_are_not_judged():
    result = claims.judge(claim(where={"d": 30}), seeds_table([100, 100, 100]))
    assert result["verdict"] == claims.NOT_JUDGED


def test_seeds_and_budget_behind_a_verdict_are_recorded():
    result = claims.judge(claim(), seeds_table([2000, 3000, 4000], budget=5000))
    assert (result["seeds"], result["budget"]) == (3, 5000)


def test_a_family_left_out_of_the_run_is_not_run_and_its_table_not_read(tmp_path):
    pd.DataFrame({"d": [5] * 3, "seed": range(3), "budget": 5000, "steps_to_99": 100}).to_csv(
        tmp_path / "parity_seeds.csv", index=False
    )
    checked = [claim(id="a"), claim(id="b", family="stocks", table="stocks_seeds")]
    results = claims.evaluate(checked, tmp_path, families=["parity"]).set_index("id")
    assert results.loc["a", "verdict"] == claims.REPRODUCED
    assert results.loc["b", "verdict"] == claims.NOT_RUN  # stocks_seeds.csv does not exist
    assert "not in this run's selection" in results.loc["b", "reason"]


def test_side_by_side_lists_every_scale_and_says_where_verdicts_differ():
    short = claims.judge(claim(), seeds_table([100, 100, 100], budget=300))
    full = claims.judge(claim(), seeds_table([2000, 3000, 4000]))
    other = claims.judge(claim(id="d", family="stocks"), None)
    by_scale = {
        "quick": pd.DataFrame([short, other], columns=claims.COLUMNS),
        "paper": pd.DataFrame([full, {**other}], columns=claims.COLUMNS),
    }
    table = claims.side_by_side(by_scale).set_index("id")
    assert table.loc["c", "quick_verdict"] == claims.NOT_JUDGED
    assert table.loc["c", "paper_verdict"] == claims.REPRODUCED
    assert table.loc["c", "paper_measured"] == 3000 and table.loc["c", "paper_seeds"] == 3
    assert table.loc["c", "differs"] and "needs budget" in table.loc["c", "why"]
    assert not table.loc["d", "differs"]  # not run at either scale: nothing to compare
    shown = claims.side_by_side_display(table.reset_index(), ["quick", "paper"])
    assert shown.loc[0, "paper"].startswith("reproduced: 3 000 (3 seeds, budget 5 000)")


def test_too_few_usable_seeds_is_not_evaluated():
    table = seeds_table([1000, np.nan, np.nan, np.nan])  # three diverged seeds
    result = claims.judge(claim(), table)
    assert result["verdict"] == claims.NOT_EVALUATED
    assert "1 of 4 rows have a value" in result["reason"]


@pytest.mark.parametrize(
    ("comparison", "value", "tolerance", "x", "holds"),
    [
        ("within", 0.5, 0.05, 0.54, True),
        ("within", 0.5, 0.05, 0.56, False),
        (">=", 0.9, 0.0, 0.9, True),
        ("<", 1.0, 0.0, 1.0, False),
        ("<=", 1.0, 0.1, 1.05, True),
    ],
)
def test_comparisons(comparison, value, tolerance, x, holds):
    assert claim(comparison=comparison, value=value, tolerance=tolerance).holds(x) is holds


def test_claims_file_is_valid_and_names_existing_columns(repo):
    loaded = claims.load_claims(
        repo / "config" / "claims.yaml",
        repo / "workflow" / "schemas" / "claims.schema.yaml",
        config.known_tables(),
    )
    assert {c.id for c in loaded} >= {
        "parity-d5-learns",
        "parity-d10-learns",
        "parity-d30-chance",
        "parity-gradvar-bound",
    }


def test_claim_naming_a_missing_metric_is_rejected(repo, tmp_path):
    text = (
        (repo / "config" / "claims.yaml")
        .read_text()
        .replace("metric: steps_to_99", "metric: steps_to_100", 1)
    )
    (tmp_path / "claims.yaml").write_text(text)
    with pytest.raises(claims.ClaimsError, match="has no column 'steps_to_100'"):
        claims.load_claims(
            tmp_path / "claims.yaml",
            repo / "workflow" / "schemas" / "claims.schema.yaml",
            config.known_tables(),
        )
