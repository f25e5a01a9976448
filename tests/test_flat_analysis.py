"""Aggregation of the step-function runs: the error statistics, the cross-method comparison,
the representative seed of each Fig 7 panel, and the share of stuck runs."""

import math

import numpy as np
import pandas as pd
import pytest

from theorydl.families.flat import analysis as fa


def test_wilson_interval_matches_known_values():
    low, high = fa.wilson_interval(5, 10)
    assert low == pytest.approx(0.2366, abs=1e-3) and high == pytest.approx(0.7634, abs=1e-3)
    low, high = fa.wilson_interval(0, 10)
    assert low == 0.0 and high == pytest.approx(0.2775, abs=1e-3)
    assert fa.wilson_interval(10, 10)[0] == pytest.approx(0.7225, abs=1e-3)
    assert all(math.isnan(v) for v in fa.wilson_interval(0, 0))


def test_boundary_error_share_counts_one_step_misses():
    steps = np.array([0.0, 0.1, 0.15, 1.0])
    label = np.array([0.0, 0.1, 0.15, 1.0, 0.1])
    prediction = np.array([0.0, 0.15, 0.15, 0.1, 0.1])  # one miss by one step, one by two
    assert fa.boundary_error_share(prediction, label, steps) == 0.5
    assert math.isnan(fa.boundary_error_share(label, label, steps))  # nothing wrong
    assert math.isnan(fa.boundary_error_share(prediction + 0.01, label, steps))  # not steps


def test_levels_count_distinct_outputs_and_those_off_the_label():
    label = np.array([0.0, 0.0, 1.0, 1.0])
    assert fa.spurious_levels(np.array([0.0, 1.0, 1.0, 0.0]), label) == 0
    assert fa.spurious_levels(np.array([0.0, 0.5, 0.7, 1.0]), label) == 2
    smooth = np.linspace(0, 1, 1000)
    assert len(fa.distinct_levels(smooth, 1.0)) == 1000
    assert len(fa.distinct_levels(np.repeat([0.0, 0.3], 50), 1.0)) == 2


def per_seed_rows(errors: dict[str, list[float]], budgets=None) -> pd.DataFrame:
    authors = {
        "non_flat": 10_000,
        "end_to_end": 10_000,
        "multi_class": 10_000,
        "forward_only": 5_000,
    }
    rows = []
    for method, values in errors.items():
        for seed, value in enumerate(values):
            budget = (budgets or authors)[method]
            rows.append(
                {column: np.nan for column in fa.TABLES["flat_seeds"]}
                | {
                    "method": method,
                    "seed": seed,
                    "relative_rms": value,
                    "budget": budget,
                    "authors_budget": authors[method],
                    "constant": int(value > 0.2),
                }
            )
    return pd.DataFrame(rows)


def test_compare_methods_ranks_each_seed_and_measures_the_gap_to_forward_only():
    table = fa.compare_methods(
        per_seed_rows(
            {
                "non_flat": [0.3, 0.04],
                "end_to_end": [0.03, 0.03],
                "multi_class": [0.02, 0.01],
                "forward_only": [0.01, 0.015],
            }
        )
    )
    forward = table[table.method == "forward_only"].set_index("seed")
    assert forward.error_rank.to_dict() == {0: 1, 1: 2}  # multi-class wins seed 1
    mc = table[table.method == "multi_class"].set_index("seed")
    np.testing.assert_allclose(mc.excess_over_forward_only, [0.01, -0.005])
    assert (table.budget_share == 1.0).all()
    assert list(table.method.unique()) == list(fa.METHODS)  # Fig 7's order


def test_budget_share_is_the_shortest_method_of_the_seed():
    errors = {m: [0.1, 0.2] for m in fa.METHODS}
    short = {"non_flat": 10_000, "end_to_end": 10_000, "multi_class": 300, "forward_only": 5_000}
    table = fa.compare_methods(per_seed_rows(errors, short))
    assert (table.budget_share == 0.03).all()
    missing = per_seed_rows({m: [0.1] for m in fa.METHODS if m != "end_to_end"})
    assert (fa.compare_methods(missing).budget_share == 0.0).all()  # a method not run: no judging


def test_representative_seed_is_the_median_by_error_or_the_configured_one():
    table = per_seed_rows({"end_to_end": [0.05, 0.01, 0.03, 0.02], "forward_only": [0.3, 0.1, 0.2]})
    assert fa.representative_seeds(table, None) == {"end_to_end": 3, "forward_only": 2}
    assert fa.representative_seeds(table, 1) == {"end_to_end": 1, "forward_only": 1}


def test_summary_reports_the_stuck_share_with_its_interval():
    errors = {m: [0.01] * 10 for m in fa.METHODS}
    errors["non_flat"] = [0.3] * 6 + [0.04] * 4
    table = fa.compare_methods(per_seed_rows(errors))
    table["status"] = "ok"
    summary = fa.summarise(table).set_index("method")
    assert "time_per_prediction_ns" not in summary  # a timing: in flat_test_cost alone
    row = summary.loc["non_flat"]
    assert row.constant_count == 6 and row.constant_share == 0.6
    assert row.constant_share_low == pytest.approx(fa.wilson_interval(6, 10)[0])
    assert summary.loc["forward_only"].constant_count == 0


def test_zoom_window_centres_on_the_boundary_with_the_most_errors():
    r = np.linspace(0, 1, 2000)
    label = np.where(r < 0.3, 0.0, np.where(r < 0.7, 1.0, 2.0))
    prediction = label.copy()
    prediction[(r > 0.69) & (r < 0.71)] = 1.0  # errors at the second boundary only
    points = pd.DataFrame({"r": r, "label": label, "prediction": prediction})
    window = fa.zoom_window(points, width=101)
    assert len(window) == 101
    assert window.r.min() < 0.7 < window.r.max()
    assert set(window.label) == {1.0, 2.0}


def test_beaten_seeds_name_the_winner():
    errors = {
        "non_flat": [0.3, 0.3],
        "end_to_end": [0.03, 0.03],
        "multi_class": [0.02, 0.0241],
        "forward_only": [0.01, 0.0243],
    }
    table = fa.compare_methods(per_seed_rows(errors))
    assert fa.beaten_seeds(table) == "seed 1: multi-class 0.0241, forward-only 0.0243"
    table = fa.compare_methods(per_seed_rows({**errors, "forward_only": [0.01, 0.01]}))
    assert fa.beaten_seeds(table) == "no seed"


def test_test_costs_are_a_table_of_their_own_in_nanoseconds():
    cost = pd.DataFrame({"method": ["forward_only"], "seconds_per_prediction": [2e-7]})
    costs = fa.prediction_costs(cost).set_index("method")
    assert list(costs.index) == list(fa.METHODS)
    assert costs.loc["forward_only"].time_per_prediction_ns == pytest.approx(200)
    assert math.isnan(costs.loc["end_to_end"].time_per_prediction_ns)  # not measured
