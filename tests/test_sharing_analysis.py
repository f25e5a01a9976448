"""The weight-sharing tables: paired comparisons, the C trend, the Walsh degrees."""

import math

import numpy as np
import pandas as pd

from theorydl.families.sharing import analysis


def runs_table(rows):
    base = {
        "target": "mixed",
        "g": "known",
        "patches": "gaussian",
        "omega": 2.0,
        "mix": 1.0,
        "epochs": 100,
    }
    return pd.DataFrame([{**base, **row} for row in rows])


def test_paired_rows_compare_architectures_of_the_same_seed():
    table = runs_table(
        [
            {"architecture": "shared", "seed": 0, "final_loss": 0.01},
            {"architecture": "local", "seed": 0, "final_loss": 1.1},
            {"architecture": "dense", "seed": 0, "final_loss": 1.3},
            {"architecture": "shared", "seed": 1, "final_loss": 0.02},
            {"architecture": "local", "seed": 1, "final_loss": 0.9},
        ]
    )
    paired = analysis.paired_table(table).set_index("seed")
    assert list(paired.columns[: len(analysis.SETTING)]) == analysis.SETTING
    assert paired.loc[0, "best"] == 0.01 and paired.loc[0, "worst"] == 1.3
    assert paired.loc[0, "worst_shared_local"] == 1.1
    assert math.isclose(paired.loc[0, "gap"], 1.09)
    assert math.isnan(paired.loc[1, "dense"]) and paired.loc[1, "worst"] == 0.9


def test_paired_rows_keep_settings_without_omega_apart():
    table = runs_table(
        [
            {"architecture": "shared", "seed": 0, "final_loss": 0.0, "target": "low"},
            {"architecture": "local", "seed": 0, "final_loss": 0.01, "target": "low"},
            {"architecture": "shared", "seed": 0, "final_loss": 0.0, "omega": 1.0},
            {"architecture": "local", "seed": 0, "final_loss": 0.02, "omega": 1.0},
        ]
    )
    table.loc[table.target == "low", ["omega", "mix"]] = np.nan
    paired = analysis.paired_table(table)
    assert len(paired) == 2
    assert paired.set_index("target").loc["low", "worst"] == 0.01


def test_mix_trend_fits_the_gap_against_log2_c():
    rows = []
    for mix, gap in ((0.25, 0.8), (1.0, 0.6), (4.0, 0.4)):
        rows.append({"mix": mix, "seed": 0, "gap": gap, "epochs": 100})
    paired = pd.DataFrame(
        [{**r, "target": "mixed", "patches": "gaussian", "omega": 2.0, "g": "known"} for r in rows]
    )
    trend = analysis.mix_trend(paired, {"omega": 2, "mixes": [0.25, 1, 4]})
    assert len(trend) == 1
    assert math.isclose(trend.gap_slope.iloc[0], -0.1)  # 0.2 less per factor 4 = 2 octaves
    assert trend.gap_smallest_mix.iloc[0] == 0.8 and trend.gap_largest_mix.iloc[0] == 0.4


def degrees_table(fractions, reached, d=10, seed=0, layout="disjoint", arch="local"):
    return pd.DataFrame(
        {
            "layout": layout,
            "architecture": arch,
            "d": d,
            "epochs": 100,
            "seed": seed,
            "degree": range(1, len(fractions) + 1),
            "fraction": fractions,
            "epochs_to_half": reached,
            "final_loss": 0.3,
        }
    )


def test_walsh_seed_statistics():
    inf = float("inf")
    degrees = degrees_table([0.97, 0.9, 0.6, 0.01], [1.0, 3.0, 40.0, inf])
    row = analysis.walsh_seeds(degrees).iloc[0]
    assert row.highest_degree == 3 and row.degrees_learned == 3 and row.degrees == 4
    assert math.isclose(row.min_fraction, 0.01)
    assert row.order_violations == 0
    skipped = degrees_table([0.9, 0.1, 0.7, 0.2], [2.0, inf, 9.0, inf])
    row = analysis.walsh_seeds(skipped).iloc[0]
    assert row.highest_degree == 3 and row.degrees_learned == 2
    assert row.order_violations == 1  # degree 3 reached 0.5 while degree 2 never did


def test_walsh_trend_compares_the_smallest_and_largest_d():
    inf = float("inf")
    degrees = pd.concat(
        [
            degrees_table([0.9, 0.9, 0.9, 0.9], [1, 2, 3, 4], d=5),
            degrees_table([0.9, 0.9, 0.9, 0.1], [1, 2, 3, inf], d=10),
            degrees_table([0.9, 0.8, 0.1, 0.0], [1, 2, inf, inf], d=50),
        ]
    )
    trend = analysis.walsh_trend(analysis.walsh_seeds(degrees)).iloc[0]
    assert (trend.smallest_d, trend.largest_d) == (5, 50)
    assert (trend.highest_at_smallest_d, trend.highest_at_largest_d, trend.degree_drop) == (4, 2, 2)


def test_first_epoch_at_least_is_censored_when_never_reached():
    curve = pd.Series([0.1, 0.4, 0.6, 0.3], index=[0, 1, 2, 3])
    assert analysis.first_epoch_at_least(curve, 0.5) == 2.0
    assert analysis.first_epoch_at_least(curve, 0.9) == float("inf")
