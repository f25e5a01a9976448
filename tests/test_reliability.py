"""Reliability: killed runs resume, interrupted jobs are redone, broken inputs never become
figures or verdicts, a full or read-only disk keeps finished work, divergence is shown."""

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from helpers import fresh_copy, snakemake
from pypdf import PdfReader

pytestmark = pytest.mark.workflow
SMOKE = ["--config", "scale=smoke"]
LONG_D10 = {  # one d = 10 job long enough to be killed half-way (about 20 s on one core)
    "checkpoint_seconds": 0.5,
    "parity": {
        "dims": [10],
        "figure1_dims": [10],
        "variant_hparams": {"d10": {"steps": 120_000, "eval_every": 2_000}},
    },
}
METRICS = "results/smoke/runs/parity/d10/seed0/metrics.csv"


def start_snakemake(workdir: Path, *args: str) -> subprocess.Popen:
    """Snakemake in its own process group, so that a kill takes its jobs with it."""
    return subprocess.Popen(
        [sys.executable, "-m", "snakemake", *args],
        cwd=workdir,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"),
    )


def kill_when(process: subprocess.Popen, ready, timeout: float = 600) -> None:
    """SIGKILL the whole process group as soon as ``ready()`` holds."""
    deadline = time.time() + timeout
    while not ready():
        assert process.poll() is None, "snakemake ended before the kill"
        assert time.time() < deadline, "timed out waiting to kill"
        time.sleep(0.01)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def copy_of(run: Path, target: Path) -> Path:
    shutil.copytree(run, target, symlinks=True)
    return target


def test_workflow_killed_mid_training_resumes_to_the_same_numbers(tmp_path):
    reference = fresh_copy(tmp_path / "reference")
    (reference / "long.yaml").write_text(yaml.safe_dump(LONG_D10))
    done = snakemake(reference, METRICS, "--cores", "1", *SMOKE, "--configfile", "long.yaml")
    assert done.returncode == 0, done.stderr[-3000:]

    killed = fresh_copy(tmp_path / "killed")
    (killed / "long.yaml").write_text(yaml.safe_dump(LONG_D10))
    process = start_snakemake(killed, METRICS, "--cores", "1", *SMOKE, "--configfile", "long.yaml")
    pointer = killed / "results/smoke/checkpoints/parity/d10/latest"
    at_step = random.Random().randint(10_000, 90_000)  # a random point, past some checkpoints
    kill_when(
        process, lambda: pointer.exists() and int(pointer.read_text().split("-")[1]) >= at_step
    )
    assert not (killed / METRICS).exists()  # nothing that looks complete

    # As Snakemake's message after a kill says: release its lock, then run the same command.
    assert snakemake(killed, "--unlock", *SMOKE, "--configfile", "long.yaml").returncode == 0
    done = snakemake(killed, METRICS, "--cores", "1", *SMOKE, "--configfile", "long.yaml")
    assert done.returncode == 0, done.stderr[-3000:]
    meta = yaml.safe_load((killed / METRICS).with_name("meta.json").read_text())
    assert meta["resumed_from_steps"] and meta["resumed_from_steps"][0] >= at_step
    # The job's log says which of the two it did (a start from scratch would say so too).
    log = (killed / "results/smoke/logs/parity/train_d10.log").read_text()
    assert f"resumed parity/d10 at step {meta['resumed_from_steps'][0]}" in log
    assert "from scratch" not in log
    for seed in (0, 1):
        path = f"results/smoke/runs/parity/d10/seed{seed}/metrics.csv"
        assert (killed / path).read_bytes() == (reference / path).read_bytes()


def test_workflow_killed_after_a_job_wrote_its_runs_trains_nothing_again(tmp_path):
    """A kill between a training job's end and Snakemake's record of it: Snakemake deletes the
    runs and starts the job again, which must rewrite them from its final checkpoint. (When the
    job removed its checkpoint on finishing, this rerun trained from step 0: issue 22.)"""
    workdir = fresh_copy(tmp_path / "repo")
    (workdir / "long.yaml").write_text(yaml.safe_dump(LONG_D10))
    args = [METRICS, "--cores", "1", *SMOKE, "--configfile", "long.yaml"]
    process = start_snakemake(workdir, *args)
    runs = workdir / "results/smoke/runs/parity/d10"
    kill_when(process, (runs / "seed1" / "meta.json").exists)  # the job's very last write
    written = {s: (runs / f"seed{s}" / "metrics.csv").read_bytes() for s in (0, 1)}

    assert snakemake(workdir, "--unlock", *SMOKE, "--configfile", "long.yaml").returncode == 0
    planned = snakemake(workdir, *args, "--dry-run")
    assert "parity_train" in planned.stdout  # not recorded done: Snakemake runs it again
    done = snakemake(workdir, *args)
    assert done.returncode == 0, done.stderr[-3000:]
    meta = yaml.safe_load((runs / "seed0" / "meta.json").read_text())
    assert meta["resumed_from_steps"] == [120_000]
    log = (workdir / "results/smoke/logs/parity/train_d10.log").read_text()
    assert "resumed parity/d10 at step 120000" in log and "from scratch" not in log
    for seed in (0, 1):
        assert (runs / f"seed{seed}" / "metrics.csv").read_bytes() == written[seed]

    # The family's tables are built: its jobs' final checkpoints are removed then.
    done = snakemake(workdir, "results/smoke/tables/parity_summary.csv", *args[1:])
    assert done.returncode == 0, done.stderr[-3000:]
    assert not (workdir / "results/smoke/checkpoints/parity/d10").exists()


def test_interrupted_aggregation_leaves_nothing_taken_as_complete(smoke_run, tmp_path):
    workdir = copy_of(smoke_run, tmp_path / "repo")
    log = workdir / "results/smoke/logs/parity/aggregate.log"
    log.unlink()
    process = start_snakemake(workdir, "--cores", "1", *SMOKE, "--forcerun", "parity_aggregate")
    kill_when(process, log.exists)  # the job has started: its first act is to open its log
    tables = ["parity_summary", "parity_seeds", "parity_gradvar", "parity_by_degree"]
    for name in tables:  # gone or never rewritten, so nothing half-made can pass for complete
        assert not (workdir / f"results/smoke/tables/{name}.csv").exists()
    assert snakemake(workdir, "--unlock", *SMOKE).returncode == 0
    wanted = [f"results/smoke/tables/{name}.csv" for name in tables]
    planned = snakemake(workdir, *wanted, "--cores", "1", *SMOKE, "--dry-run")
    assert "parity_aggregate" in planned.stdout  # asked for, the tables are made again
    done = snakemake(workdir, *wanted, "--cores", "1", *SMOKE)
    assert done.returncode == 0, done.stderr[-3000:]
    for path in wanted:
        assert (workdir / path).read_bytes() == (smoke_run / path).read_bytes()


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda p: p.write_text(p.read_text()[: len(p.read_text()) // 2]), "truncated"),
        (lambda p: p.write_text(p.read_text().replace("value", "val", 1)), "columns are"),
        (
            lambda p: p.with_name("meta.json").write_text(
                p.with_name("meta.json").read_text().replace('"seed": 1', '"seed": 7')
            ),
            "seed is 7, expected 1",
        ),
    ],
    ids=["truncated", "renamed-column", "wrong-seed"],
)
def test_corrupted_run_stops_aggregation_with_the_file_and_the_fix(
    smoke_run, tmp_path, damage, message
):
    workdir = copy_of(smoke_run, tmp_path / "repo")
    damage(workdir / "results/smoke/runs/parity/d5/seed1/metrics.csv")
    figure = workdir / "results/smoke/figures/parity_fig1_accuracy.png"
    before = figure.read_bytes()
    done = snakemake(workdir, "--cores", "1", *SMOKE, "--forcerun", "parity_aggregate")
    assert done.returncode != 0
    log = (workdir / "results/smoke/logs/parity/aggregate.log").read_text()
    assert message in log
    assert "results/smoke/runs/parity/d5/seed1" in log and "snakemake --cores all --forcerun" in log
    assert figure.read_bytes() == before  # no figure was redrawn from broken data


def test_diverged_runs_are_shown_not_averaged_in(tmp_path):
    workdir = fresh_copy(tmp_path / "repo")
    (workdir / "blowup.yaml").write_text(
        yaml.safe_dump(
            {
                "parity": {
                    "variant_hparams": {
                        "d5": {"steps": 300, "eval_every": 20, "learning_rate": 1.0e30}
                    }
                }
            }
        )
    )
    targets = [
        "results/smoke/tables/parity_summary.csv",
        "results/smoke/figures/parity_fig1_accuracy.pdf",
    ]
    done = snakemake(workdir, *targets, "--cores", "2", *SMOKE, "--configfile", "blowup.yaml")
    assert done.returncode == 0, done.stderr[-3000:]
    per_seed = pd.read_csv(workdir / "results/smoke/tables/parity_seeds.csv")
    d5 = per_seed[per_seed.d == 5]
    assert (d5.status == "diverged").all() and d5.final_accuracy.isna().all()
    summary = pd.read_csv(workdir / "results/smoke/tables/parity_summary.csv").set_index("d")
    assert summary.loc[5, "diverged"] == 2 and summary.loc[10, "diverged"] == 0
    assert (
        "| 5 | 2 | 300 | — | 2 |"
        in (workdir / "results/smoke/tables/parity_summary.md").read_text()
    )
    legend = (
        PdfReader(workdir / "results/smoke/figures/parity_fig1_accuracy.pdf")
        .pages[0]
        .extract_text()
    )
    assert "d = 5 (2 diverged)" in legend


def _mount(args: list[str]) -> bool:
    return subprocess.run(["mount", *args], capture_output=True).returncode == 0


needs_mount = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("mount") is None, reason="needs root to mount a tmpfs"
)


def fill_up(directory: Path) -> Path:
    """Write zeros into ``directory`` until its file system has no space left."""
    filler = directory / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError:  # ENOSPC: full
        return filler
    finally:
        os.close(fd)


@needs_mount
def test_full_disk_gives_a_clear_error_and_a_rerun_recovers(smoke_run, tmp_path):
    """results/smoke/ on a small file system that fills up while a new variant trains."""
    workdir = copy_of(smoke_run, tmp_path / "repo")
    results, saved = workdir / "results" / "smoke", workdir / "results.saved"
    results.rename(saved)
    results.mkdir()
    size_mb = sum(f.stat().st_size for f in saved.rglob("*") if f.is_file()) // 2**20 + 16
    if not _mount(["-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", str(results)]):
        saved.rename(results)
        pytest.skip("mounting a tmpfs is not permitted here")
    try:
        shutil.copytree(saved, results, dirs_exist_ok=True)
        (workdir / "more.yaml").write_text(yaml.safe_dump({"parity": {"dims": [5, 6, 10]}}))
        filler = fill_up(results)
        done = snakemake(workdir, "--cores", "1", *SMOKE, "--configfile", "more.yaml")
        output = done.stdout + done.stderr
        assert done.returncode != 0
        assert "No space left on device" in output and "run the same command again" in output
        for kept in (
            "results/smoke/runs/parity/d5/seed0/metrics.csv",
            "results/smoke/tables/parity_seeds.csv",
        ):
            assert (workdir / kept).read_bytes() == (smoke_run / kept).read_bytes()
        filler.unlink()  # space is back: the same command finishes the job
        assert snakemake(workdir, "--unlock", *SMOKE).returncode == 0
        done = snakemake(workdir, "--cores", "1", *SMOKE, "--configfile", "more.yaml")
        assert done.returncode == 0, done.stderr[-3000:]
        assert (results / "runs/parity/d6/seed1/meta.json").exists()
    finally:
        subprocess.run(["umount", str(results)], check=True)


@needs_mount
def test_read_only_results_give_a_clear_error_and_keep_the_tables(smoke_run, tmp_path):
    workdir = copy_of(smoke_run, tmp_path / "repo")
    tables = workdir / "results/smoke/tables"
    before = {p.name: p.read_bytes() for p in tables.iterdir()}
    if not (
        _mount(["--bind", str(tables), str(tables)])
        and _mount(["-o", "remount,ro,bind", str(tables)])
    ):
        subprocess.run(["umount", str(tables)], capture_output=True)
        pytest.skip("read-only bind mounts are not permitted here")
    try:
        done = snakemake(workdir, "--cores", "1", *SMOKE, "--forcerun", "parity_aggregate")
    finally:
        subprocess.run(["umount", str(tables)], check=True)
    assert done.returncode != 0  # Snakemake refuses before running anything, and says why
    output = done.stdout + done.stderr  # names the first rule whose tables it would overwrite
    assert "Write-protected output files for rule" in output and "results/smoke/tables/" in output
    assert {p.name: p.read_bytes() for p in tables.iterdir()} == before
