"""Tuple tables: the parity ceiling, per-seed rows, summaries and the SNR tables."""

import numpy as np
import pandas as pd
import pytest

from theorydl.families.tuples import analysis
from theorydl.runs import Run


def test_parity_ceiling():
    assert analysis.parity_ceiling(0.9, 1) == pytest.approx(0.9)
    assert analysis.parity_ceiling(1.0, 4) == pytest.approx(1.0)
    assert analysis.parity_ceiling(0.5, 3) == pytest.approx(0.5)
    # a = 0.95: right iff an even number of the 3 guesses are wrong.
    exact = 0.95**3 + 3 * 0.95 * 0.05**2
    assert analysis.parity_ceiling(0.95, 3) == pytest.approx(exact)


def fake_run(tmp_path, seed, accuracies, image_accuracies, status="ok"):
    steps = np.arange(len(accuracies)) * 100
    rows = [(s, "test", "accuracy", a) for s, a in zip(steps, accuracies, strict=True)]
    rows += [(s, "test", "image_accuracy", a) for s, a in zip(steps, image_accuracies, strict=True)]
    metrics = pd.DataFrame(rows, columns=["step", "split", "metric", "value"])
    return Run(tmp_path, metrics, {"seed": seed, "status": status, "wall_time_s": 1.0})


def test_seed_row_reads_the_final_evaluations_and_the_ceiling(tmp_path):
    accuracy = [0.5, 0.6, 0.8, 0.84, 0.84, 0.84, 0.84, 0.84]
    image = [0.5, 0.9, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95]
    row = analysis.seed_row(
        fake_run(tmp_path, 3, accuracy, image),
        {"k": 3, "method": "dec", "steps": 700, "batch_size": 64},
    )
    assert row["final_accuracy"] == pytest.approx(0.84)
    assert row["final_image_accuracy"] == pytest.approx(0.95)
    assert row["ceiling_gap"] == pytest.approx(0.84 - analysis.parity_ceiling(0.95, 3))
    assert row["steps_to_learn"] == 200.0
    never = analysis.seed_row(
        fake_run(tmp_path, 4, [0.5] * 8, [0.5] * 8),
        {"k": 3, "method": "e2e", "steps": 700, "batch_size": 64},
    )
    assert never["steps_to_learn"] == float("inf")


def test_end_to_end_image_accuracy_counts_up_to_the_sign_of_n1(tmp_path):
    """An E2E run whose N(1) learned the flipped sign classifies tuples as well as one that did
    not; its image accuracy (and so its ceiling) must say so. Decomposition's labels fix the
    sign, so its accuracy is taken as measured."""
    accuracy, flipped = [0.5] + [0.92] * 5, [0.5] + [0.07] * 5  # the last 5 count
    rows = {
        method: analysis.seed_row(
            fake_run(tmp_path, 0, accuracy, flipped),
            {"k": 1, "method": method, "steps": 300, "batch_size": 64},
        )
        for method in ("e2e", "dec")
    }
    assert rows["e2e"]["final_image_accuracy"] == pytest.approx(0.93)
    assert rows["e2e"]["parity_ceiling"] == pytest.approx(0.93)
    assert rows["e2e"]["ceiling_gap"] == pytest.approx(0.92 - 0.93)
    assert rows["dec"]["final_image_accuracy"] == pytest.approx(0.07)


def test_summary_counts_learned_and_diverged_seeds(tmp_path):
    hparams = {"k": 2, "method": "e2e", "steps": 700, "batch_size": 64}
    rows = [
        analysis.seed_row(fake_run(tmp_path, 0, [0.5, 0.8, 0.9], [0.5, 0.9, 0.95]), hparams),
        analysis.seed_row(fake_run(tmp_path, 1, [0.5, 0.5, 0.5], [0.5, 0.5, 0.5]), hparams),
        analysis.seed_row(fake_run(tmp_path, 2, [0.5, 0.5, 0.5], [0.5] * 3, "diverged"), hparams),
    ]
    per_seed = pd.DataFrame(rows, columns=analysis.TABLES["tuples_seeds"])
    summary = analysis.summarise(per_seed)
    assert list(summary.columns) == analysis.TABLES["tuples_summary"]
    row = summary.iloc[0]
    assert (row.n, row.learned, row.diverged) == (3, 1, 1)
    # Final accuracy: the mean of the last evaluations; the diverged seed (NaN) is left out.
    assert row.final_accuracy_mean == pytest.approx(((0.5 + 0.8 + 0.9) / 3 + 0.5) / 2)
    display = analysis.summary_display(per_seed, summary)
    assert display.loc[0, "seeds"] == "3 (1 diverged)"


def test_snr_tables_pair_the_methods_and_give_the_floor():
    raw = pd.DataFrame(
        [
            (k, seed, method, 1000 * k, 1e-3 if method == "dec" else 1e-3 / 10**k, 0.0, 0.0, 1.0)
            for k in (1, 2)
            for seed in (0, 1)
            for method in ("e2e", "dec")
        ],
        columns=["k", "init_seed", "method", "tuples", "snr", "snr_script", "signal", "noise"],
    )
    table, summary = analysis.snr_tables(raw)
    assert list(table.columns) == analysis.TABLES["tuples_snr"]
    assert table.ratio.tolist() == pytest.approx([0.1, 0.1, 0.01, 0.01])
    assert table.floor.tolist() == pytest.approx([1e-3, 1e-3, 5e-4, 5e-4])
    assert summary.inits.tolist() == [2, 2]
    assert summary.ratio_median.tolist() == pytest.approx([0.1, 0.01])
