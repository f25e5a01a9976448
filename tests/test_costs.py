"""Runtime tables from Snakemake benchmark files: parsing, sums, formatting, bad files."""

import math

import pandas as pd
import pytest

from theorydl import costs

HEADER = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"


def write(path, *rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + "".join(rows))
    return path


def test_a_benchmark_file_gives_the_jobs_wall_cpu_and_memory(tmp_path):
    path = write(
        tmp_path / "parity" / "train_d5.tsv", "12.5\t0:00:12\t730.2\t1\t1\t1\t0\t0\t90\t11.0\n"
    )
    assert costs.read_benchmark(path) == {
        "family": "parity",
        "job": "train_d5",
        "wall_s": 12.5,
        "cpu_s": 11.0,
        "max_rss_mb": 730.2,
    }


def test_repeats_keep_the_last_and_dashes_are_missing(tmp_path):
    path = write(
        tmp_path / "flat" / "test_cost.tsv",
        "1.0\t0:00:01\t10\t1\t1\t1\t0\t0\t90\t1.0\n",
        "2.0\t0:00:02\t-\t-\t-\t-\t-\t-\t-\t-\n",
    )
    row = costs.read_benchmark(path)
    assert row["wall_s"] == 2.0 and math.isnan(row["cpu_s"]) and math.isnan(row["max_rss_mb"])


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "benchmark file missing"),
        ("", "not a Snakemake benchmark file"),
        ("a\tb\n1\t2\n", "missing ['cpu_time', 'max_rss', 's']"),
        (HEADER, "missing rows"),
    ],
)
def test_a_broken_benchmark_file_is_named(tmp_path, content, message):
    path = tmp_path / "parity" / "train_d5.tsv"
    if content is not None:
        path.parent.mkdir()
        path.write_text(content)
    with pytest.raises(costs.BenchmarkError, match=r"train_d5\.tsv") as error:
        costs.read_benchmark(path)
    assert message in str(error.value)


def test_family_and_claim_costs_sum_the_jobs_of_each_family(tmp_path):
    paths = [
        write(tmp_path / "parity" / "train_d5.tsv", "10\t0\t100\t1\t1\t1\t0\t0\t90\t9\n"),
        write(tmp_path / "parity" / "train_d10.tsv", "30\t0\t300\t1\t1\t1\t0\t0\t90\t29\n"),
        write(tmp_path / "flat" / "train_a.tsv", "5\t0\t2000\t1\t1\t1\t0\t0\t90\t4\n"),
    ]
    jobs = costs.job_costs(paths, ["parity", "tuples", "flat"])
    assert list(jobs.job) == ["train_d10", "train_d5", "train_a"]
    families = costs.family_costs(jobs, ["parity", "tuples", "flat"]).set_index("family")
    assert list(families.index) == ["parity", "flat", "total"]  # no jobs, no row
    assert families.loc["parity", "wall_s"] == 40 and families.loc["parity", "cpu_s"] == 38
    assert families.loc["parity", "slowest_job"] == "train_d10"
    assert families.loc["total", "wall_s"] == 45 and families.loc["total", "max_rss_mb"] == 2000
    assert families.loc["total", "jobs"] == 3
    claims = pd.DataFrame(
        {"id": ["a", "b", "c"], "family": ["parity", "flat", "sharing"], "verdict": ["x"] * 3}
    )
    per_claim = costs.claim_costs(claims, families.reset_index()).set_index("id")
    assert per_claim.loc["a", "wall_s"] == 40 and per_claim.loc["b", "wall_s"] == 5
    assert math.isnan(per_claim.loc["c", "wall_s"])


@pytest.mark.parametrize(
    "seconds, text",
    [
        (0.4, "0 s"),
        (42.4, "42 s"),
        (65, "1 min 05 s"),
        (3600 * 2 + 7 * 60 + 5, "2 h 07 min"),
        (float("nan"), "—"),
    ],
)
def test_durations_read_as_people_write_them(seconds, text):
    assert costs.duration(seconds) == text


def test_memory_in_megabytes_then_gigabytes():
    assert costs.memory(730.4) == "730 MB"
    assert costs.memory(2048) == "2.0 GB"
