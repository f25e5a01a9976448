"""Run files: written atomically, and read back only if they are the run the config describes."""

import json

import numpy as np
import pandas as pd
import pytest

from theorydl import runs

HPARAMS = {"d": 5, "steps": 100, "learning_rate": 0.01}


@pytest.fixture
def run_dir(tmp_path):
    directory = tmp_path / "runs" / "parity" / "d5" / "seed3"
    metrics = pd.DataFrame(
        {
            "step": [0, 0, 100, 100],
            "split": "test",
            "metric": ["accuracy", "loss"] * 2,
            "value": [0.5, 1.0, 0.9, 0.3],
        }
    )
    meta = {
        "family": "parity",
        "variant": "d5",
        "seed": 3,
        "hparams": HPARAMS,
        "status": "ok",
        "steps_completed": 100,
        "wall_time_s": 1.0,
    }
    runs.write_run(directory, metrics, meta, {"w": np.zeros(3)})
    return directory


def read(directory, **overrides):
    args = dict(family="parity", variant="d5", seed=3, hparams=HPARAMS) | overrides
    return runs.read_run(directory, **args)


def test_round_trip(run_dir):
    run = read(run_dir)
    assert run.curve("test", "accuracy").to_dict() == {0: 0.5, 100: 0.9}
    assert not list(run_dir.glob(".*tmp*"))  # no temporary files left behind


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: (d / "meta.json").unlink(), "meta.json: the file is missing"),
        (lambda d: (d / "meta.json").write_text("{"), "not valid JSON"),
        (lambda d: (d / "metrics.csv").write_text("step,value\n0,1\n"), "columns are"),
        (
            lambda d: (d / "metrics.csv").write_text(
                "step,split,metric,value\n0,test,accuracy,0.5\n"
            ),
            "truncated",
        ),
        (
            lambda d: (d / "metrics.csv").write_text(
                "step,split,metric,value\n0,test,accuracy,nan\n100,test,accuracy,0.9\n"
            ),
            "non-finite values",
        ),
    ],
)
def test_corrupted_files_are_named_with_the_command_to_regenerate(run_dir, edit, message):
    edit(run_dir)
    with pytest.raises(runs.CorruptRunError) as error:
        read(run_dir)
    assert message in str(error.value)
    assert "snakemake --cores all --forcerun" in str(error.value)
    assert "seed3" in str(error.value)


def test_run_of_another_seed_or_setting_is_rejected(run_dir):
    with pytest.raises(runs.CorruptRunError, match="seed is 3, expected 4"):
        read(run_dir, seed=4)
    with pytest.raises(
        runs.CorruptRunError, match=r"learning_rate is 0\.01 but the config says 0\.1"
    ):
        read(run_dir, hparams=HPARAMS | {"learning_rate": 0.1})


def test_meta_is_written_last(run_dir):
    meta = json.loads((run_dir / "meta.json").read_text())
    times = {p.name: p.stat().st_mtime_ns for p in run_dir.iterdir()}
    assert times["meta.json"] >= times["metrics.csv"] >= times["arrays.npz"]
    assert meta["seed"] == 3


def test_failed_write_leaves_the_old_file_and_no_partial_one(tmp_path, monkeypatch):
    target = tmp_path / "table.csv"
    runs.atomic_write_text(target, "old\n")

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(runs.os, "fsync", full_disk)
    with pytest.raises(runs.ResultsWriteError) as error:
        runs.atomic_write_text(target, "new\n")
    assert "No space left on device" in str(error.value) and str(target) in str(error.value)
    assert "run the same command again" in str(error.value)
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["table.csv"]
