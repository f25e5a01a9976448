"""The whole workflow at scale=smoke, in a fresh copy of the repository (minutes)."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from helpers import fresh_copy, snakemake
from pypdf import PdfReader

from theorydl import config as tdl_config

pytestmark = pytest.mark.workflow

REPO = Path(__file__).resolve().parents[1]
SMOKE = ["--config", "scale=smoke"]


def test_every_expected_output_exists(smoke_run):
    results = smoke_run / "results" / "smoke"
    for d in (5, 10):
        for seed in (0, 1):
            run = results / "runs" / "parity" / f"d{d}" / f"seed{seed}"
            for name in ("metrics.csv", "meta.json", "arrays.npz"):
                assert (run / name).stat().st_size > 0
            assert json.loads((run / "meta.json").read_text())["hparams"]["steps"] == 300
    for table in ("parity_seeds", "parity_summary", "parity_gradvar", "parity_gradvar_fit"):
        for suffix in (".csv", ".md", ".tex"):
            assert (results / "tables" / f"{table}{suffix}").stat().st_size > 0
    for figure in ("parity_fig1_accuracy", "parity_steps_to_99", "parity_gradient_variance"):
        pdf, png = (results / "figures" / f"{figure}{s}" for s in (".pdf", ".png"))
        assert pdf.stat().st_size > 5000 and png.stat().st_size > 5000
        # The PNG names the function that drew it.
        assert f"families/parity/figures.py:{figure[7:]}".encode() in png.read_bytes()
    for rule in ("train_d5", "train_d10", "gradient_variance"):
        assert (results / "benchmarks" / "parity" / f"{rule}.tsv").exists()
    assert not (results / "checkpoints" / "parity" / "d5").exists()


def test_tables_hold_one_row_per_seed_and_dimension(smoke_run):
    per_seed = pd.read_csv(smoke_run / "results" / "smoke" / "tables" / "parity_seeds.csv")
    assert sorted(zip(per_seed.d, per_seed.seed, strict=True)) == [(5, 0), (5, 1), (10, 0), (10, 1)]
    assert per_seed.final_accuracy.between(0, 1).all()
    assert (per_seed.budget == 300).all()
    gradvar = pd.read_csv(smoke_run / "results" / "smoke" / "tables" / "parity_gradvar.csv")
    assert sorted(gradvar.d.unique()) == [4, 5, 6, 7, 8, 9]
    assert (gradvar.ratio <= 1).all()


def test_claims_table_has_a_verdict_per_claim(smoke_run):
    claims = pd.read_csv(smoke_run / "results" / "smoke" / "claims.csv").set_index("id")
    verdicts = claims.verdict.to_dict()
    # Smoke runs 300 steps: every training claim must say so rather than pass or fail.
    for claim in (
        "parity-d5-learns",
        "parity-d10-learns",
        "parity-d30-chance",
        "parity-d30-never-learns",
    ):
        assert verdicts[claim] == "not judged at this scale"
    assert verdicts["parity-gradvar-bound"] == "reproduced"
    assert verdicts["parity-gradvar-halves"] == "reproduced"
    assert claims.loc["parity-gradvar-bound", "seeds_satisfying"] == "12/12"
    assert "| parity-d5-learns |" in (smoke_run / "results" / "smoke" / "claims.md").read_text()


SECTIONS = (
    "How to read this report",
    "Claims",
    "Where each published figure is",
    "Parities: non-informative gradients",
    "End-to-end vs decomposition: tuples of line images",
    "End-to-end vs decomposition: the stocks task",
    "Architecture and conditioning: piecewise-linear curves",
    "Flat activations: learning through a step function",
    "Weight sharing is crucial to successful optimization",
    "Cost and hardware",
)


def test_report_pdf_has_every_section_in_order(smoke_run):
    reader = PdfReader(smoke_run / "results" / "smoke" / "report" / "report.pdf")
    assert len(reader.pages) >= 20
    text = " ".join(" ".join(page.extract_text().split()) for page in reader.pages)
    positions = [text.find(heading) for heading in SECTIONS]
    assert -1 not in positions, [h for h, p in zip(SECTIONS, positions, strict=True) if p < 0]
    assert positions == sorted(positions)
    assert "smoke" in text
    assert "??" not in text  # every \\ref resolved
    assert "Made by rule" in text and "results/smoke/runs/" in text


def test_every_file_the_report_includes_exists_and_is_not_empty(smoke_run):
    results = smoke_run / "results" / "smoke"
    search = [results / "figures", results / "tables", results / "report" / "generated"]
    included = []
    for tex in sorted((smoke_run / "paper").glob("*.tex")):
        source = tex.read_text()
        included += re.findall(r"\\includegraphics(?:\[[^]]*\])?\{([^}]+)\}", source)
        included += [
            name
            for name in re.findall(r"\\input\{([^}]+)\}", source)
            if not (smoke_run / "paper" / name).exists()  # the sections themselves
        ]
    assert len(included) >= 40
    for name in included:
        found = [d / name for d in search if (d / name).exists()]
        assert found, f"{name} is included by the report but no job made it"
        assert found[0].stat().st_size > 100, name


def test_runtime_tables_cost_every_benchmarked_job(smoke_run):
    results = smoke_run / "results" / "smoke"
    benchmarks = sorted(results.glob("benchmarks/*/*.tsv"))
    jobs = pd.read_csv(results / "tables" / "runtime_jobs.csv")
    assert sorted(zip(jobs.family, jobs.job, strict=True)) == sorted(
        (b.parent.name, b.stem) for b in benchmarks
    )
    assert (jobs.wall_s > 0).all() and (jobs.max_rss_mb > 50).all()
    # On a GPU, a run's usage joins its job's row by the job name meta.json records.
    named = {(b.parent.name, b.stem) for b in benchmarks}
    for meta_path in results.glob("runs/*/*/seed*/meta.json"):
        meta = json.loads(meta_path.read_text())
        assert (meta["family"], meta["job"]) in named, meta_path
        assert meta["gpu_usage"] is None  # this machine has no GPU
    assert jobs[["gpu_util_pct", "gpu_memory_mb"]].isna().all().all()
    families = pd.read_csv(results / "tables" / "runtime_families.csv").set_index("family")
    assert list(families.index) == [
        "parity",
        "tuples",
        "stocks",
        "curves",
        "flat",
        "sharing",
        "gating",
        "hierarchical",
        "datasets",  # the dataset jobs (fetch and convert) are costed too
        "total",
    ]
    assert families.loc["total", "wall_s"] == pytest.approx(jobs.wall_s.sum())
    per_claim = pd.read_csv(results / "tables" / "runtime_claims.csv")
    claims = pd.read_csv(results / "claims.csv")
    # Each family's verdict counts are those of the claims table.
    for family, mine in claims.groupby("family"):
        judged = mine.verdict.isin(["reproduced", "not reproduced"]).sum()
        reproduced = (mine.verdict == "reproduced").sum()
        assert families.loc[family, ["claims", "judged", "reproduced"]].tolist() == [
            len(mine),
            judged,
            reproduced,
        ], family
    assert list(per_claim.id) == list(claims.id)
    # Each claim is charged the jobs behind its rows: never more than its family's...
    per_family = families.wall_s.to_dict()
    for row in per_claim.itertuples():
        assert row.wall_s <= per_family[row.family] + 1e-9 or row.jobs == 0, row.id
    # ...one job for a claim on one variant, and none where its rows are not run at this scale
    # (smoke trains d = 5 and 10 of parity, no Fashion-MNIST).
    jobs_of = per_claim.set_index("id").jobs
    assert jobs_of["parity-d5-learns"] == 1 and jobs_of["parity-gradvar-bound"] == 1
    assert jobs_of["parity-d30-chance"] == 0 and jobs_of["gating-images-fashion-linear"] == 0
    unrun = per_claim[per_claim.jobs == 0]
    assert not unrun.family.isin(["tuples", "curves", "flat"]).any()  # smoke runs all of theirs
    assert per_claim[per_claim.jobs > 0].wall_s.notna().all()


def test_second_run_does_nothing(smoke_run):
    done = snakemake(smoke_run, "--cores", "2", *SMOKE, "--dry-run")
    assert done.returncode == 0
    assert "Nothing to be done" in done.stdout + done.stderr


def planned_jobs(done) -> dict[str, int]:
    """Rule → job count from a dry run's job stats table."""
    lines = (done.stdout + done.stderr).splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("job ") and "count" in line)
    counts = {}
    for line in lines[start + 2 :]:
        name, _, count = line.partition(" ")
        if name == "total" or not count.strip().isdigit():
            break
        counts[name] = int(count)
    return counts


def planned_after_edit(smoke_run, tmp_path, relative, old=None, new=None) -> dict[str, int]:
    """Rule → job count that a dry run plans after one edit of a file in a finished smoke run:
    ``old`` replaced by ``new``, or by default a statement that changes nothing appended."""
    workdir = shutil.copytree(smoke_run, tmp_path / "repo", symlinks=True)
    source = workdir / relative
    text = source.read_text()
    if old is None:
        edited = text + "\n_NO_OP = None  # an edit that changes no result\n"
    else:
        assert text.count(old) == 1, f"{old!r} is not unique in {relative}"
        edited = text.replace(old, new)
    source.write_text(edited)
    done = snakemake(workdir, "--cores", "1", *SMOKE, "--dry-run")
    assert done.returncode == 0, done.stderr[-3000:]
    return planned_jobs(done) if "Nothing to be done" not in done.stdout else {}


def training_rules(planned):
    return {r for r in planned if r.endswith("_train") or "_train_" in r}


REPORT_RULES = {"all", "manifest", "report_pdf"}


def test_a_finished_run_plans_nothing(smoke_run, tmp_path):
    assert planned_after_edit(smoke_run, tmp_path, "README.md", "# theorydl", "# theorydl") == {}


def test_editing_a_family_module_reruns_that_family_only(smoke_run, tmp_path):
    planned = planned_after_edit(smoke_run, tmp_path, "scripts/theorydl/families/flat/model.py")
    assert training_rules(planned) == {"flat_train"}
    assert planned["flat_train"] == 4  # every flat variant, no other family's
    assert {"flat_aggregate", "claims"} <= set(planned)
    assert not any(r.startswith(("parity_", "tuples_", "sharing_", "curves_")) for r in planned)


def test_editing_the_plot_style_redraws_every_figure_and_trains_nothing(smoke_run, tmp_path):
    planned = planned_after_edit(smoke_run, tmp_path, "scripts/theorydl/plotting.py")
    figures = {
        "{}_figure_{}".format(*pdf.stem.split("_", 1))
        for pdf in (smoke_run / "results" / "smoke" / "figures").glob("*.pdf")
    }
    assert len(figures) >= 17
    assert {r: n for r, n in planned.items() if r in figures} == dict.fromkeys(figures, 1)
    assert set(planned) - figures <= REPORT_RULES


def test_editing_the_claims_code_rejudges_and_trains_nothing(smoke_run, tmp_path):
    planned = planned_after_edit(smoke_run, tmp_path, "scripts/theorydl/claims.py")
    assert "claims" in planned
    assert set(planned) <= {"claims", "claims_by_scale", "costs", "report_inputs"} | REPORT_RULES


def test_editing_the_random_streams_retrains_every_job(smoke_run, tmp_path):
    planned = planned_after_edit(smoke_run, tmp_path, "scripts/theorydl/runtime.py")
    jobs = sorted((smoke_run / "results" / "smoke" / "benchmarks").glob("*/train_*.tsv"))
    assert sum(planned[r] for r in training_rules(planned)) == len(jobs) >= 25


def test_editing_one_figure_redraws_that_figure_alone(smoke_run, tmp_path):
    planned = planned_after_edit(
        smoke_run,
        tmp_path,
        "scripts/theorydl/families/parity/figures.py",
        "pd.read_csv(inputs.curves)",
        'pd.read_csv(inputs.curves, sep=",")',
    )
    assert set(planned) - REPORT_RULES == {"parity_figure_fig1_accuracy"}


def test_parsing_the_workflow_imports_no_tensorflow(tmp_path):
    workdir = fresh_copy(tmp_path / "repo")
    probe = (
        "import sys\n"
        "from snakemake.cli import main\n"
        "try:\n"
        "    main(['--dry-run', '--cores', '1', '--config', 'scale=smoke', '--quiet', 'all'])\n"
        "except SystemExit as stop:\n"
        "    assert stop.code in (0, None), stop.code\n"
        "print('tensorflow' in sys.modules, 'theorydl.families.parity.spec' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=workdir, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == "False True"


def test_cores_do_not_change_the_numbers(smoke_run, tmp_path):
    other = fresh_copy(tmp_path / "repo")
    targets = [
        f"results/smoke/runs/parity/d{d}/seed{s}/metrics.csv" for d in (5, 10) for s in (0, 1)
    ]
    targets.append("results/smoke/tables/flat_summary.csv")  # flat holds a timing table too
    done = snakemake(other, *targets, "--cores", "1", *SMOKE)
    assert done.returncode == 0, done.stderr[-3000:]
    for target in targets:
        assert (other / target).read_bytes() == (smoke_run / target).read_bytes()
    # Every table this run made is the same as the other run's, but those the specs declare
    # as timings of this machine (TIMINGS): no list of exceptions here.
    timings = tdl_config.timing_tables()
    tables = sorted((other / "results" / "smoke" / "tables").iterdir())
    compared = [t for t in tables if t.stem not in timings]
    assert len(compared) >= 8 and len(compared) < len(tables)
    for table in compared:
        assert table.read_bytes() == (smoke_run / table.relative_to(other)).read_bytes(), table


def test_without_tex_auto_skips_the_pdf_and_on_refuses(tmp_path):
    workdir = fresh_copy(tmp_path / "repo")
    bin_dir = tmp_path / "bin"  # this PATH, less latexmk
    bin_dir.mkdir()
    for directory in os.environ["PATH"].split(os.pathsep):
        for program in Path(directory).glob("*") if Path(directory).is_dir() else []:
            link = bin_dir / program.name
            if program.name != "latexmk" and not link.exists():
                link.symlink_to(program)
    env = {"PATH": str(bin_dir)}
    planned = snakemake(workdir, "--cores", "1", *SMOKE, "--dry-run", env=env)
    assert planned.returncode == 0, planned.stderr[-3000:]
    assert "report_pdf" not in planned.stdout and "claims" in planned.stdout
    refused = snakemake(
        workdir, "--cores", "1", "--config", "scale=smoke", "report=on", "--dry-run", env=env
    )
    assert refused.returncode != 0
    assert "latexmk is not installed" in refused.stdout + refused.stderr


def test_manifest_records_every_output_and_verify_checks_it(smoke_run, tmp_path):
    manifest = json.loads((smoke_run / "results" / "smoke" / "manifest.json").read_text())
    files = manifest["files"]
    metrics = "results/smoke/runs/parity/d5/seed0/metrics.csv"
    assert files[metrics]["rule"] == "parity_train"
    assert files["results/smoke/tables/parity_summary.csv"]["rule"] == "parity_aggregate"
    assert files["results/smoke/report/report.pdf"]["rule"] == "report_pdf"
    assert len(files[metrics]["sha256"]) == 64
    assert manifest["config"]["scale"] == "smoke"
    assert not any(
        name.startswith(("results/smoke/logs", "results/smoke/benchmarks")) for name in files
    )
    assert snakemake(smoke_run, "verify", "--cores", "1", *SMOKE).returncode == 0

    copy = tmp_path / "repo"
    shutil.copytree(smoke_run, copy, symlinks=True)
    (copy / "results/smoke/tables/parity_seeds.csv").write_text("edited\n")
    done = snakemake(copy, "verify", "--cores", "1", *SMOKE)
    assert done.returncode != 0
    report = (copy / "results/smoke/logs/verify.log").read_text()
    assert (
        "changed: results/smoke/tables/parity_seeds.csv (made by rule parity_aggregate)" in report
    )
    assert "changed: results/smoke/figures" not in report  # verify rebuilt nothing


def gpu_slots(done: subprocess.CompletedProcess) -> dict[str, set[int]]:
    """Rule → the ``gpu`` resource values of its planned jobs, from a dry run's listing."""
    slots: dict[str, set[int]] = {}
    rule = None
    for line in done.stdout.splitlines():
        if line.startswith("rule "):
            rule = line.split()[1].rstrip(":")
        elif "resources:" in line and "gpu=" in line:
            slots.setdefault(rule, set()).add(int(line.split("gpu=")[1].split(",")[0]))
    return slots


def test_with_gpus_visible_the_cpu_families_take_none(tmp_path):
    workdir = fresh_copy(tmp_path / "repo")
    gpus = {"CUDA_VISIBLE_DEVICES": "0,1"}
    done = snakemake(workdir, "--cores", "4", *SMOKE, "--dry-run", env=gpus)
    assert done.returncode == 0, done.stderr[-3000:]
    slots = gpu_slots(done)
    sharing = {rule for rule in slots if rule.startswith("sharing_train_")}
    assert len(sharing) >= 5
    gating = {rule for rule in slots if rule.startswith("gating_train_")}
    width = {rule for rule in gating if rule.startswith("gating_train_width_")}
    assert len(width) == 2 and len(gating - width) >= 5
    hierarchical = {rule for rule in slots if rule.startswith("hierarchical_train_")}
    assert len(hierarchical) == 10
    cpu_rules = ["parity_train", *sharing, *(gating - width), *hierarchical]
    for rule in cpu_rules:  # config.yaml's cpu_families
        assert slots[rule] == {0}, rule
    # ... but for GaLU's width searches, whose widest networks gain from a GPU (spec.wants_gpu).
    gpu_rules = ("tuples_train", "stocks_train", "curves_train", "flat_train", "tuples_snr")
    for rule in (*gpu_rules, *width):
        assert slots[rule] == {1}, rule
    everything = snakemake(
        workdir, "--cores", "4", *SMOKE, "cpu_families=[]", "--dry-run", env=gpus
    )
    assert everything.returncode == 0, everything.stderr[-3000:]
    assert gpu_slots(everything)["parity_train"] == {1}
    without = snakemake(
        workdir, "--cores", "4", *SMOKE, "--dry-run", env={"CUDA_VISIBLE_DEVICES": ""}
    )
    assert set().union(*gpu_slots(without).values()) <= {0}


def planned_from_scratch(workdir, *config):
    """Rule → job count of a dry run of everything, as if nothing had been run."""
    done = snakemake(workdir, "--cores", "1", "--dry-run", "--forceall", "--config", *config)
    assert done.returncode == 0, done.stderr[-3000:]
    return planned_jobs(done), done.stdout


SHARED_RULES = {"claims", "claims_by_scale", "costs", "report_inputs", "report_pdf", "manifest"}
SHARED_RULES |= {"dataset", "datasets_figure_examples"}  # every run draws the real images


def test_a_selection_of_one_family_plans_only_that_familys_jobs(tmp_path):
    workdir = fresh_copy(tmp_path / "repo")
    planned, _ = planned_from_scratch(workdir, "scale=smoke", "families=stocks")
    own = {r for r in planned if r.startswith("stocks_")}
    assert {"stocks_train", "stocks_aggregate", "stocks_second_moments"} <= own
    assert set(planned) - own <= SHARED_RULES | {"all"}


def test_each_scale_writes_under_its_own_root(tmp_path):
    workdir = fresh_copy(tmp_path / "repo")
    outputs = {}
    for scale in ("smoke", "quick"):
        _, printed = planned_from_scratch(workdir, f"scale={scale}")
        paths = {
            path.strip()
            for line in printed.splitlines()
            if line.strip().startswith(("output:", "log:", "benchmark:"))
            for path in line.split(":", 1)[1].split(",")
        }
        assert paths and all(p.startswith(f"results/{scale}/") for p in paths), scale
        outputs[scale] = paths
    assert not outputs["smoke"] & outputs["quick"]


def test_the_cost_tables_are_built_without_tex_and_the_html_report_builds(smoke_run, tmp_path):
    workdir = shutil.copytree(smoke_run, tmp_path / "repo", symlinks=True)
    planned, _ = planned_from_scratch(workdir, "scale=smoke", "report=off")
    assert "costs" in planned and "report_pdf" not in planned
    done = snakemake(workdir, "--report", "report.html", *SMOKE)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (workdir / "report.html").stat().st_size > 100_000
