"""Device claims (distinct GPUs for concurrent jobs, none on CPU machines, none under SLURM)
and the GPU utilization sampler."""

import ast
import os
import subprocess
import sys
import textwrap
import time

from helpers import fake_nvidia_smi

from theorydl import runtime


def test_no_gpu_means_no_claim(tmp_path, monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert runtime.claim_gpu(tmp_path) is None
    assert not any(tmp_path.iterdir())


def test_concurrent_jobs_claim_distinct_gpus(tmp_path, repo):
    """Two live processes on a 2-GPU machine get GPU 0 and GPU 1 (one slot per GPU)."""
    code = textwrap.dedent(f"""
        import os, sys, time
        sys.path.insert(0, {str(repo / "scripts")!r})
        from pathlib import Path
        from theorydl import runtime
        print(runtime.claim_gpu(Path({str(tmp_path)!r})), flush=True)
        print(os.environ["CUDA_VISIBLE_DEVICES"], flush=True)
        time.sleep(3)
    """)
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="0,1")
    env.pop("SLURM_JOB_ID", None)
    procs = [
        subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    claimed = sorted(p.communicate(timeout=60)[0].split()[0] for p in procs)
    assert claimed == ["0", "1"]


def test_slurm_bound_gpu_is_used_without_locks(tmp_path, monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3")
    monkeypatch.setenv("SLURM_JOB_ID", "42")
    assert runtime.claim_gpu(tmp_path) == "3"
    assert not any(tmp_path.iterdir())


def test_a_job_that_wants_no_gpu_hides_them_all(tmp_path, monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    monkeypatch.delenv("SLURM_JOB_ID", raising=False)
    assert runtime.claim_gpu(tmp_path, wanted=False) is None
    assert os.environ["CUDA_VISIBLE_DEVICES"] == "" and runtime.visible_gpus() == []
    assert not any(tmp_path.iterdir())  # no slot taken from the jobs that want one


def test_stream_keys_differ_by_seed_and_stream():
    a, b, c = (runtime.stream_key(0, "x"), runtime.stream_key(1, "x"), runtime.stream_key(0, "y"))
    assert a.shape == (2,) and a.dtype.name == "int64"
    assert len({tuple(a), tuple(b), tuple(c)}) == 3
    assert tuple(a) == tuple(runtime.stream_key(0, "x"))


def test_gpu_monitor_averages_the_samples_of_its_gpu(tmp_path):
    program = fake_nvidia_smi(tmp_path, ["40", "[N/A]", "80", "90"])
    with runtime.GpuMonitor("3", interval_ms=250, program=str(program)) as monitor:
        deadline = time.monotonic() + 20
        while len(monitor.samples) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
    assert monitor.summary() == {"gpu": "3", "utilization_pct": 70.0, "samples": 3}
    args = (tmp_path / "args").read_text().split()
    assert "--id=3" in args and "--loop-ms=250" in args
    assert "--query-gpu=utilization.gpu" in args
    assert monitor._process.poll() is not None  # the sampler is stopped with the job


def test_gpu_monitor_without_a_gpu_or_without_nvidia_smi_says_so(tmp_path):
    with runtime.GpuMonitor(None) as monitor:
        pass
    assert monitor.summary() is None
    with runtime.GpuMonitor("0", program=str(tmp_path / "missing")) as monitor:
        pass
    assert monitor.summary() == {"gpu": "0", "utilization_pct": None, "samples": 0}


def test_every_job_that_uses_tensorflow_claims_a_gpu_or_hides_them():
    """A job that sets TensorFlow up without either would land on GPU 0 of a GPU machine,
    beside the jobs that claimed it and unaccounted for by Snakemake's gpu resource."""
    scripts = runtime.REPO_ROOT / "scripts"
    job = (scripts / "theorydl" / "job.py").read_text()  # every training job
    assert 0 <= job.index("claim_gpu(") < job.index("setup_tensorflow(")
    theory = (scripts / "theory.py").read_text()  # every theory job, before its module loads
    assert 0 <= theory.index("claim_gpu(") < theory.index("import_module(")
    # Figures take no gpu slot: a figure function that sets TensorFlow up hides the GPUs first.
    checked = 0
    for figures in sorted((scripts / "theorydl" / "families").glob("*/figures.py")):
        source = figures.read_text()
        for node in ast.parse(source).body:
            text = ast.get_source_segment(source, node) or ""
            if isinstance(node, ast.FunctionDef) and "setup_tensorflow(" in text:
                assert 0 <= text.find("hide_gpus(") < text.index("setup_tensorflow("), node.name
                checked += 1
    assert checked >= 1  # tuples' example images
