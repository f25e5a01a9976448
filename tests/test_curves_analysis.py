"""Curves (Failures §4): aggregation into tables, Fig 6's curve choice, the report's values."""

import numpy as np
import pandas as pd
import pytest

from theorydl.families.curves import analysis as ca
from theorydl.families.curves import theory as ct


def test_the_paper_like_curves_are_found():
    p = np.zeros((4, 100))
    p[0, [38, 47, 76]] = [1.0, -3.0, 3.0]  # B's slopes (1, −2, 1) at A's kinks: neither
    p[1, [38, 47, 76]] = [1.0, -2.0, 2.0]  # slopes 1, −1, 1 with kinks at x = 37, 46, 75: A
    p[2, [12, 52, 54]] = [1.0, -3.0, 3.0]  # slopes 1, −2, 1 with kinks at x = 11, 51, 53: B
    p[3, [40, 48, 70]] = [1.0, -2.0, 2.0]  # A's pattern, kinks further off
    assert ca.paper_like_curves(p) == {"A": 1, "B": 2}
    kinks, slopes = ca.kink_signature(p[2])
    assert list(kinks) == [11, 51, 53] and list(slopes) == [1.0, -2.0, 1.0]


def test_without_the_pattern_the_nearest_kinks_win():
    p = np.zeros((2, 100))
    p[0, [20, 30, 40]] = [0.5, 0.2, -0.4]
    p[1, [36, 47, 77]] = [0.1, 0.3, -0.9]
    assert ca.paper_like_curves(p)["A"] == 1


def test_conditioning_fit_recovers_power_laws():
    n = np.array([10, 20, 40, 80, 160])
    table = pd.concat(
        [
            pd.DataFrame(
                {
                    "quantity": "fc_gram",
                    "distribution": "exact",
                    "n": n,
                    "sample_seed": np.nan,
                    "condition_number": 1.3 * n**4.0,
                }
            ),
            pd.DataFrame(
                {
                    "quantity": "conv_covariance",
                    "distribution": "code",
                    "n": n,
                    "sample_seed": 0,
                    "condition_number": 0.1 * n**3.0,
                }
            ),
        ]
    )
    fit = ca.conditioning_fit(table).set_index("quantity")
    assert fit.slope["fc_gram"] == pytest.approx(4.0)
    assert fit.slope_upper_half["conv_covariance"] == pytest.approx(3.0)
    assert 10 ** fit.intercept["fc_gram"] == pytest.approx(1.3)
    assert list(fit.index) == ["fc_gram", "conv_covariance"]  # the figure's order


@pytest.fixture(scope="module")
def aggregated(tf, tmp_path_factory):
    """Two learners and the float64 twin of one trained briefly, then aggregated as the
    workflow does."""
    from dataclasses import asdict

    from theorydl import engine
    from theorydl.families.curves import model as curves

    root = tmp_path_factory.mktemp("curves")
    variants, run_dirs = {}, []
    trained = {"fc": {}, "conv_whitened": {}, "conv_whitened_float64": {"dtype": "float64"}}
    for variant, extra in trained.items():
        cfg = curves.CurvesConfig(
            learner=variant.removesuffix("_float64"),
            train_curves=300,
            validation_curves=30,
            steps=40,
            eval_every=20,
            snapshot_steps=[20, 40],
            **extra,
        )
        dirs = {s: root / "runs" / variant / f"seed{s}" for s in (0, 1)}
        ctx = engine.RunContext("curves", variant, dirs, root / "ckpt" / variant, 1e9, 1)
        curves.run(cfg, [0, 1], ctx)
        variants[variant] = asdict(cfg)
        run_dirs += list(dirs.values())
    conditioning = ct.conditioning_rows([10, 20, 40], ["code"], [0, 1], curves=200, k=3)
    conditioning.to_csv(root / "conditioning.csv", index=False)
    theorem = pd.DataFrame([{**ct.theorem3(n), "trained": n == 100} for n in (10, 20, 40, 100)])
    theorem.to_csv(root / "theorem3.csv", index=False)
    tables = root / "tables"
    ca.aggregate(run_dirs, variants, 0, root / "conditioning.csv", root / "theorem3.csv", tables)
    return tables


def test_tables_have_their_columns_and_rows(aggregated):
    for name, columns in ca.TABLES.items():
        assert list(pd.read_csv(aggregated / f"{name}.csv").columns) == columns
    per_seed = pd.read_csv(aggregated / "curves_seed_errors.csv")
    assert len(per_seed) == 2 * 2 * 2  # learners × seeds × snapshots
    assert list(per_seed.learner.unique()) == ["fc", "conv_whitened"]  # Fig 6's order
    assert per_seed[per_seed["last"]].step.unique().tolist() == [40]
    summary = pd.read_csv(aggregated / "curves_errors.csv")
    assert (summary.curves == 60).all() and (summary.seeds == 2).all()
    # The summary's mean over all curves is the mean of the per-seed means (equal pools).
    mine = per_seed.groupby(["learner", "step"]).relative_rms.mean()
    for row in summary.itertuples():
        assert row.relative_rms_mean == pytest.approx(mine[row.learner, row.step])
    figure = pd.read_csv(aggregated / "curves_fig6.csv")
    assert len(figure) == 2 * 2 * 2 * 100  # learners × curves × snapshots × x
    assert "not run" not in (aggregated / "curves_fig6_errors.md").read_text()


def test_the_float64_twin_is_the_same_run_and_only_in_the_precision_table(aggregated):
    precision = pd.read_csv(aggregated / "curves_precision.csv")
    assert list(zip(precision.dtype, precision.seed, strict=True)) == [
        ("float32", 0),
        ("float32", 1),
        ("float64", 0),
        ("float64", 1),
    ]
    assert (precision.learner == "conv_whitened").all() and (precision.evaluations == 1).all()
    # After 40 steps on the same batches the two precisions have the same filter to within
    # float32's rounding: the twin differs in its arithmetic alone.
    f32, f64 = (
        precision[precision.dtype == d].median_rms.to_numpy() for d in ("float32", "float64")
    )
    assert np.allclose(f32, f64, rtol=1e-3)
    with np.load(aggregated.parent / "runs/conv_whitened_float64/seed0/arrays.npz") as arrays:
        assert arrays["filter"].dtype == np.float64 and arrays["decoded@40"].dtype == np.float64
    shown = (aggregated / "curves_precision.md").read_text()
    assert "float64" in shown and "conv. + whitening" in shown


def test_snapshot_errors_match_the_logged_evaluation(aggregated, tf):
    """The TF metric at the last step and the numpy error of the last snapshot agree."""
    progress = pd.read_csv(aggregated / "curves_progress.csv")
    per_seed = pd.read_csv(aggregated / "curves_seed_errors.csv")
    logged = progress[progress.step == 40].set_index(["learner", "seed"]).relative_rms
    kept = per_seed[per_seed.step == 40].set_index(["learner", "seed"]).relative_rms
    assert np.allclose(logged.sort_index(), kept.sort_index(), rtol=1e-4)


def test_report_values_exist_for_learners_not_run(aggregated):
    block = {"seeds": [0, 1], "figure_seed": 0}
    values = ca.report_values(aggregated, block)
    assert values["curves.autoencoder.budget"] == "not run"
    assert values["curves.fc.budget"] == "40"
    assert values["curves.theorem3.n"] == 100
    assert "10^{7}" in values["curves.theorem3.steps"].tex
    assert values["curves.slope.conv-covariance.paper"] == "not run"
    assert values["curves.conv-whitened.unstable"].endswith(" of 2")  # step 40 of 40, 2 seeds
    assert values["curves.conv.unstable"] == "not run"
    assert values["curves.conv-whitened.float64.unstable"].endswith(" of 2")
    assert values["curves.conv.float64.median"] == "not run"  # no float64 twin
    assert values["curves.conv-whitened.float64.median"] != "not run"
