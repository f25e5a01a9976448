"""The smoke scale through a real SLURM cluster (opt-in: THEORYDL_SLURM_TESTS=1; CI runs it).

tests/slurm/cluster.sh starts a one-node cluster on this machine (munge, MariaDB, slurmdbd,
slurmctld, slurmd). The workflow runs with the shipped profile (profiles/slurm), its
account and partitions pointed at that cluster and no GPU asked for; `sacct` then shows what ran.
"""

import datetime as dt
import os
import subprocess
from pathlib import Path

import pytest
import yaml
from helpers import REPO, fresh_copy, snakemake

from theorydl import config as tdl_config

pytestmark = [
    pytest.mark.slurm,
    pytest.mark.skipif(
        os.environ.get("THEORYDL_SLURM_TESTS") != "1",
        reason="opt-in: set THEORYDL_SLURM_TESTS=1 (needs root: it installs and starts SLURM)",
    ),
]
CLUSTER = REPO / "tests" / "slurm" / "cluster.sh"


@pytest.fixture(scope="module")
def cluster():
    subprocess.run([str(CLUSTER), "start"], check=True)
    yield
    subprocess.run([str(CLUSTER), "stop"], check=True)


def cluster_profile(tmp_path: Path, **parity_train) -> Path:
    """The shipped profile, pointed at the test cluster (CPU partition, no GPU)."""
    profile = yaml.safe_load((REPO / "profiles" / "slurm" / "config.yaml").read_text())
    profile["default-resources"].update(slurm_account="theorydl", slurm_partition="cpu")
    for resources in profile["set-resources"].values():
        if "gpu" in resources:
            resources.update(slurm_partition="cpu", gpu=0)
    profile["set-resources"]["parity_train"].update(parity_train)
    directory = tmp_path / "profile"
    directory.mkdir()
    (directory / "config.yaml").write_text(yaml.safe_dump(profile))
    return directory


def sacct_since(start: str) -> list[tuple[str, str]]:
    """(comment, state) of every job since ``start``; Snakemake puts the rule in the comment."""
    out = subprocess.run(
        ["sacct", "-X", "-n", "-P", "-S", start, "-o", "Comment,State"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [tuple(line.split("|")[:2]) for line in out.splitlines() if line.strip()]


def planned_rules(workdir: Path) -> list[str]:
    """The rule of every job of the smoke workflow except `all` (from a forced dry run)."""
    done = snakemake(workdir, "--config", "scale=smoke", "--dry-run", "--forceall")
    stats = done.stdout.split("Job stats:")[1].split("\n\n")[0]
    rules = []
    for line in stats.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit() and parts[0] not in ("all", "total"):
            rules += [parts[0]] * int(parts[1])
    return sorted(rules)


def now() -> str:
    return dt.datetime.now().strftime("%Y-%m-%dT%H:%M:%S")


def measures_time(relative: Path) -> bool:
    """Outputs that hold timings of this machine, which no two runs share: Snakemake's
    benchmarks, the cost tables (runtime_*) and the tables the specs declare as timings (their
    CSV, Markdown, and the run folder of the job that measures them)."""
    timings = tdl_config.timing_tables()
    return (
        "benchmarks" in relative.parts
        or relative.name.startswith("runtime_")
        or relative.stem in timings
        or bool(timings & set(relative.parts))
    )


def test_smoke_scale_through_slurm_equals_a_local_run(cluster, smoke_run, tmp_path):
    workdir = fresh_copy(tmp_path / "repo")
    start = now()
    done = snakemake(
        workdir, "--workflow-profile", str(cluster_profile(tmp_path)), "--config", "scale=smoke"
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]

    jobs = sacct_since(start)
    rules = sorted(comment.split("_wildcards_")[0].removeprefix("rule_") for comment, _ in jobs)
    assert rules == planned_rules(smoke_run)
    assert {state for _, state in jobs} == {"COMPLETED"}  # ...every job but `all`, above

    compared = 0
    for path in sorted((smoke_run / "results" / "smoke").rglob("*")):
        relative = path.relative_to(smoke_run)
        if path.suffix in {".csv", ".md"} and not measures_time(relative):
            assert (workdir / relative).read_bytes() == path.read_bytes(), relative
            compared += 1
    assert compared >= 10
    assert (workdir / "results" / "smoke" / "report" / "report.pdf").stat().st_size > 10_000


def test_job_over_its_time_limit_is_retried_with_more_time_and_resumes(cluster, tmp_path):
    """1 minute for the first attempt, 10 for the retry: the retry resumes the checkpoint."""
    workdir = fresh_copy(tmp_path / "repo")
    (workdir / "long.yaml").write_text(
        yaml.safe_dump(
            {
                "checkpoint_seconds": 5,
                "parity": {
                    "dims": [10],
                    "figure1_dims": [10],
                    # ~2.5 min of training at ~0.1 ms per step: well over the first
                    # attempt's minute, however the job's start-up varies (600 000 steps
                    # once finished inside that minute, and nothing was left to resume).
                    "variant_hparams": {"d10": {"steps": 1_500_000, "eval_every": 50_000}},
                },
            }
        )
    )
    profile = cluster_profile(tmp_path, runtime="1 if attempt == 1 else 10")
    start = now()
    done = snakemake(
        workdir,
        "results/smoke/runs/parity/d10/seed0/metrics.csv",
        "--workflow-profile",
        str(profile),
        "--config",
        "scale=smoke",
        "--configfile",
        "long.yaml",
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    states = [state for comment, state in sacct_since(start) if "parity_train" in comment]
    assert states[0] == "TIMEOUT" and states[-1] == "COMPLETED", states
    assert ".snakemake/slurm_logs/rule_parity_train" in output  # the failed job's log is named
    meta = yaml.safe_load((workdir / "results/smoke/runs/parity/d10/seed0/meta.json").read_text())
    assert meta["resumed_from_steps"], "the retry must resume from the checkpoint"
    assert meta["steps_completed"] == 1_500_000
