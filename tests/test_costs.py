"""Runtime tables from Snakemake benchmark files: parsing, sums, formatting, bad files."""

import json
import math

import pandas as pd
import pytest

from theorydl import costs

HEADER = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"


def write(path, *rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + "".join(rows))
    return path


def job_table(folder, families, *jobs):
    """The cost table of ``jobs`` (family, name, wall_s, max_rss_mb, cpu_s), each written as
    its benchmark file under ``folder``."""
    paths = [
        write(folder / family / f"{name}.tsv", f"{wall}\t0\t{rss}\t1\t1\t1\t0\t0\t90\t{cpu}\n")
        for family, name, wall, rss, cpu in jobs
    ]
    return costs.job_costs(paths, families)


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
    jobs = job_table(
        tmp_path,
        ["parity", "tuples", "flat"],
        ("parity", "train_d5", 10, 100, 9),
        ("parity", "train_d10", 30, 300, 29),
        ("flat", "train_a", 5, 2000, 4),
    )
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
    charged = {
        "a": [("parity", "train_d5"), ("parity", "train_d10")],
        "b": [("flat", "train_a")],
        "c": [("sharing", "train_never_ran")],
    }
    per_claim = costs.claim_costs(claims, jobs, charged).set_index("id")
    assert per_claim.loc["a", "wall_s"] == 40 and per_claim.loc["a", "jobs"] == 2
    assert per_claim.loc["b", "wall_s"] == 5 and per_claim.loc["b", "max_rss_mb"] == 2000
    assert math.isnan(per_claim.loc["c", "wall_s"]) and per_claim.loc["c", "jobs"] == 0


def test_a_familys_row_counts_its_claims_judged_and_reproduced(tmp_path):
    jobs = job_table(
        tmp_path,
        ["parity", "flat", "datasets"],
        ("parity", "train_d5", 10, 100, 9),
        ("flat", "train_a", 5, 2000, 4),
        ("datasets", "mnist", 2, 50, 1),
    )
    verdicts = pd.DataFrame(
        {
            "family": ["parity"] * 4 + ["flat", "sharing"],
            "verdict": [
                "reproduced",
                "reproduced",
                "not reproduced",
                "not judged at this scale",
                "not evaluated",
                "not run",  # a family left out of the run: not in the table, not in the total
            ],
        }
    )
    families = costs.family_costs(jobs, ["parity", "flat", "datasets"], verdicts)
    counts = families.set_index("family")[["claims", "judged", "reproduced"]]
    assert counts.loc["parity"].tolist() == [4, 3, 2]
    assert counts.loc["flat"].tolist() == [1, 0, 0]
    assert counts.loc["datasets"].isna().all()  # no claims of its own
    assert counts.loc["total"].tolist() == [5, 3, 2]
    shown = costs.display(families).set_index("family")["claims reproduced"]
    assert shown["parity"] == "2 of 3 judged (4 claims)" and shown["datasets"] == ""
    # Without a claims table, the column is left out.
    assert "claims reproduced" not in costs.display(costs.family_costs(jobs, ["parity"]))


def test_a_claim_is_charged_the_jobs_behind_its_rows_alone():
    parity = {f"d{d}": {"d": d, "steps": 100} for d in (5, 10, 30)}
    one_each = {v: [v] for v in parity}
    theory = ["gradient_variance"]
    # A claim that reads one variant: that variant's job, not the family's.
    assert costs.claim_jobs("parity", "parity_seeds", {"d": 30}, parity, one_each, theory) == [
        ("parity", "train_d30")
    ]
    # A table of the theory alone (declared in the spec's TABLE_READS).
    assert costs.claim_jobs("parity", "parity_gradvar_fit", {}, parity, one_each, theory) == [
        ("parity", "gradient_variance")
    ]
    # GaLU: a row that compares learners (the width checks) is charged both searches of that
    # table and no other experiment's job; Fig 1's rows charge their dataset's job too.
    gating = {
        "width-relu-o8": {"experiment": "width", "learner": "relu", "outputs": 8},
        "width-galu-o8": {"experiment": "width", "learner": "galu", "outputs": 8},
        "memorise-galu-m256-d8-k8": {"experiment": "memorise", "learner": "galu"},
        "images-mnist-relu-k16-lr0.001": {
            "experiment": "images",
            "learner": "relu",
            "dataset": "mnist",
        },
        "images-fashion_mnist-relu-k16-lr0.001": {
            "experiment": "images",
            "learner": "relu",
            "dataset": "fashion_mnist",
        },
    }
    jobs = {name.replace("-", "_"): [name] for name in gating}
    found = costs.claim_jobs(
        "gating", "gating_width_checks", {"learner": "galu"}, gating, jobs, ["exact_memorise"]
    )
    assert sorted(found) == [("gating", "train_width_galu_o8"), ("gating", "train_width_relu_o8")]
    found = costs.claim_jobs(
        "gating",
        "gating_images_checks",
        {"dataset": "mnist", "selection": "test"},
        gating,
        jobs,
        [],
    )
    assert found == [("gating", "train_images_mnist_relu_k16_lr0.001"), ("datasets", "mnist")]


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


def write_meta(path, family, job, variant, usage, wall_time_s=10.0):
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {"family": family, "job": job, "variant": variant, "wall_time_s": wall_time_s}
    path.write_text(json.dumps({**meta, "gpu_usage": usage}))
    return path


def test_gpu_usage_joins_each_job_and_weighs_variants_by_their_time(tmp_path):
    """Seeds of a variant share a measurement; a job of two variants weighs them by time."""
    gpu = {"gpu": "0", "samples": 20}
    metas = [
        write_meta(
            tmp_path / f"a/s{s}.json",
            "tuples",
            "train_k1",
            "k1",
            {**gpu, "utilization_pct": 80.0, "memory_peak_mb": 900.0},
        )
        for s in (0, 1)
    ] + [
        write_meta(
            tmp_path / "b.json",
            "flat",
            "train_g",
            "v1",
            {**gpu, "utilization_pct": 10.0, "memory_peak_mb": 100.0},
            30.0,
        ),
        write_meta(
            tmp_path / "c.json",
            "flat",
            "train_g",
            "v2",
            {**gpu, "utilization_pct": 50.0, "memory_peak_mb": 300.0},
            10.0,
        ),
        write_meta(tmp_path / "d.json", "parity", "train_d5", "d5", None),  # trained on CPU
    ]
    usage = costs.gpu_usage(metas).set_index("job")
    assert list(usage.index) == ["train_k1", "train_g"]
    assert usage.loc["train_k1", "gpu_util_pct"] == 80.0
    assert usage.loc["train_g", "gpu_util_pct"] == pytest.approx(20.0)  # (10·30 + 50·10) / 40
    assert usage.loc["train_g", "gpu_memory_mb"] == 300.0

    paths = [
        write(tmp_path / "tuples" / "train_k1.tsv", "100\t0\t100\t1\t1\t1\t0\t0\t90\t9\n"),
        write(tmp_path / "flat" / "train_g.tsv", "300\t0\t100\t1\t1\t1\t0\t0\t90\t9\n"),
        write(tmp_path / "parity" / "train_d5.tsv", "50\t0\t100\t1\t1\t1\t0\t0\t90\t9\n"),
    ]
    jobs = costs.job_costs(paths, ["parity", "tuples", "flat"], usage.reset_index())
    assert math.isnan(jobs.set_index("job").loc["train_d5", "gpu_util_pct"])
    families = costs.family_costs(jobs, ["parity", "tuples", "flat"]).set_index("family")
    assert math.isnan(families.loc["parity", "gpu_util_pct"])
    # The total weighs the GPU jobs by wall time: (80·100 + 20·300) / 400.
    assert families.loc["total", "gpu_util_pct"] == pytest.approx(35.0)
    assert families.loc["total", "gpu_memory_mb"] == 900.0
    shown = costs.display(families.reset_index()).set_index("family")
    assert shown.loc["tuples", "GPU busy"] == "80%" and shown.loc["parity", "GPU busy"] == "—"
    assert shown.loc["total", "GPU memory"] == "900 MB"


def test_tables_of_a_cpu_run_have_no_gpu_columns(tmp_path):
    paths = [write(tmp_path / "parity" / "train_d5.tsv", "10\t0\t100\t1\t1\t1\t0\t0\t90\t9\n")]
    metas = [write_meta(tmp_path / "m.json", "parity", "train_d5", "d5", None)]
    jobs = costs.job_costs(paths, ["parity"], costs.gpu_usage(metas))
    assert set(costs.GPU_COLUMNS) <= set(jobs.columns)  # the CSV keeps them, empty
    for frame in (jobs, costs.family_costs(jobs, ["parity"])):
        shown = costs.display(frame)
        assert "GPU busy" not in shown and "GPU memory" not in shown
