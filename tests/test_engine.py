"""The training engine: determinism, ensembles, resume, optimizers, divergence."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
SMALL = {"d": 6, "steps": 400, "eval_every": 50}


def train(tmp: Path, seeds, hparams=SMALL, checkpoint_seconds=3600.0, variant="d6"):
    """Train through the same function the Snakemake job calls; return {seed: run dir}."""
    from theorydl.job import train_variant

    dirs = [tmp / f"seed{s}" for s in seeds]
    train_variant("parity", variant, hparams, seeds, dirs, tmp / "ckpt", checkpoint_seconds, 1)
    return dict(zip(seeds, dirs, strict=True))


def test_on_a_gpu_the_devices_utilization_goes_into_meta(tf, tmp_path, monkeypatch):
    """The engine watches the GPU it trains on (a stand-in nvidia-smi here) and records it."""
    from helpers import fake_nvidia_smi

    from theorydl import runtime

    fake_nvidia_smi(tmp_path, ["55", "65"])
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")  # the job itself claims none
    monkeypatch.setattr(runtime, "process_gpu", lambda tf: "1")
    monkeypatch.setattr(runtime, "gpu_memory_peak_mb", lambda tf: 123.0)
    runs = train(tmp_path / "runs", [0, 1])
    for run in runs.values():
        usage = json.loads((run / "meta.json").read_text())["gpu_usage"]
        assert usage == {"gpu": "1", "utilization_pct": 60.0, "samples": 2, "memory_peak_mb": 123.0}
    assert "--id=1" in (tmp_path / "args").read_text()


def test_same_seed_gives_identical_metrics(tf, tmp_path):
    a = train(tmp_path / "a", [0, 1])
    b = train(tmp_path / "b", [0, 1])
    for seed in (0, 1):
        assert (a[seed] / "metrics.csv").read_bytes() == (b[seed] / "metrics.csv").read_bytes()


def test_seed_in_an_ensemble_equals_seed_alone(tf, tmp_path):
    ensemble = train(tmp_path / "ens", [0, 1, 2])
    alone = train(tmp_path / "one", [1])
    together = pd.read_csv(ensemble[1] / "metrics.csv")
    single = pd.read_csv(alone[1] / "metrics.csv")
    assert together[["step", "split", "metric"]].equals(single[["step", "split", "metric"]])
    assert np.allclose(together.value, single.value, atol=1e-4)
    with np.load(ensemble[1] / "arrays.npz") as e, np.load(alone[1] / "arrays.npz") as s:
        assert np.allclose(e["w1"], s["w1"], atol=1e-4)
        assert np.array_equal(e["subset_mask"], s["subset_mask"])


def test_metrics_are_tidy_and_meta_is_complete(tf, tmp_path):
    run = train(tmp_path, [4])[4]
    metrics = pd.read_csv(run / "metrics.csv")
    assert list(metrics.columns) == ["step", "split", "metric", "value"]
    test_steps = sorted(metrics[metrics.split == "test"].step.unique())
    assert test_steps == list(range(0, 401, 50))
    assert set(metrics.metric) == {"accuracy", "loss"}
    meta = json.loads((run / "meta.json").read_text())
    assert meta["seed"] == 4 and meta["status"] == "ok" and meta["steps_completed"] == 400
    assert meta["hparams"]["d"] == 6 and meta["hparams"]["learning_rate"] == 0.01
    for key in ("versions", "device", "tf_threads", "wall_time_s", "git_commit", "cpu"):
        assert key in meta
    assert set(meta["versions"]) == {"python", "tensorflow", "keras", "numpy"}
    assert meta["gpu_usage"] is None  # trained on CPU: no GPU was watched


def test_a_finished_job_run_again_rewrites_its_runs_from_the_final_checkpoint(tf, tmp_path):
    """A kill after a job wrote its runs but before Snakemake recorded it done makes Snakemake
    delete the runs and start the job again: it must find its final state, not train again."""
    first = train(tmp_path, [0, 1])
    written = {s: (d / "metrics.csv").read_bytes() for s, d in first.items()}
    assert (tmp_path / "ckpt" / "latest").read_text().strip() == "step-400"
    for run in first.values():  # what Snakemake does with an incomplete job's outputs
        for name in ("metrics.csv", "meta.json", "arrays.npz"):
            (run / name).unlink()
    again = train(tmp_path, [0, 1])
    for seed, run in again.items():
        meta = json.loads((run / "meta.json").read_text())
        assert meta["resumed_from_steps"] == [400] and meta["steps_completed"] == 400
        assert (run / "metrics.csv").read_bytes() == written[seed]


def test_a_checkpoint_that_cannot_be_written_says_what_to_do(tf, tmp_path):
    """Like every result: the file, the reason, and that the same command continues."""
    from theorydl.runs import ResultsWriteError

    (tmp_path / "ckpt").write_text("a file where the checkpoint folder goes")
    with pytest.raises(ResultsWriteError, match=r"cannot write .*ckpt/step-400: .*same command"):
        train(tmp_path, [0])


def test_a_checkpoint_of_other_code_is_not_resumed(tf, tmp_path, caplog):
    """A job whose code changed (its rule's code digest) starts from scratch, even from a
    checkpoint of the same settings: resuming would mix two versions of the model."""
    from theorydl.job import train_variant

    dirs = [tmp_path / "seed0"]
    train_variant("parity", "d6", SMALL, [0], dirs, tmp_path / "ckpt", 3600.0, 1, code="old")
    (dirs[0] / "meta.json").unlink()
    with caplog.at_level("WARNING"):
        train_variant("parity", "d6", SMALL, [0], dirs, tmp_path / "ckpt", 3600.0, 1, code="new")
    meta = json.loads((dirs[0] / "meta.json").read_text())
    assert meta["resumed_from_steps"] == [] and meta["code_digest"] == "new"
    assert "belongs to other settings; starting from scratch" in caplog.text


def test_training_learns_an_easy_parity(tf, tmp_path):
    run = train(tmp_path, [0], {"d": 5, "subset_size": 2, "steps": 3000, "eval_every": 500})[0]
    metrics = pd.read_csv(run / "metrics.csv")
    accuracy = metrics[(metrics.split == "test") & (metrics.metric == "accuracy")]
    assert accuracy.value.iloc[0] < 0.75
    assert accuracy.value.iloc[-1] > 0.95


_KILLABLE = """
import sys
sys.path.insert(0, {scripts!r})
from pathlib import Path
from theorydl.job import train_variant
tmp = Path({tmp!r})
train_variant("parity", "d8", {hparams!r}, [0, 1], [tmp / "seed0", tmp / "seed1"],
              tmp / "ckpt", 0.0, 1)
"""


def _run_training_process(tmp: Path, hparams: dict) -> subprocess.Popen:
    code = _KILLABLE.format(scripts=str(REPO / "scripts"), tmp=str(tmp), hparams=hparams)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    return subprocess.Popen([sys.executable, "-c", code], env=env, stderr=subprocess.DEVNULL)


def test_killed_run_resumes_and_ends_with_the_same_numbers(tmp_path):
    hparams = {"d": 8, "steps": 30000, "eval_every": 100}
    uninterrupted = tmp_path / "full"
    _run_training_process(uninterrupted, hparams).wait(timeout=600)

    interrupted = tmp_path / "killed"
    process = _run_training_process(interrupted, hparams)
    pointer = interrupted / "ckpt" / "latest"
    deadline = time.time() + 300
    while time.time() < deadline:  # wait until it is part-way through, then SIGKILL it
        if pointer.exists() and int(pointer.read_text().split("-")[1]) >= 5000:
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    killed_at = int(pointer.read_text().split("-")[1])
    assert 5000 <= killed_at < 30000, "the kill must land mid-run"
    assert not (interrupted / "seed0" / "meta.json").exists()  # nothing looks complete

    assert _run_training_process(interrupted, hparams).wait(timeout=600) == 0
    meta = json.loads((interrupted / "seed0" / "meta.json").read_text())
    assert meta["resumed_from_steps"] and meta["resumed_from_steps"][0] >= 5000
    for seed in ("seed0", "seed1"):
        full = (uninterrupted / seed / "metrics.csv").read_bytes()
        assert (interrupted / seed / "metrics.csv").read_bytes() == full


def test_checkpoint_of_other_settings_is_not_resumed(tf, tmp_path):
    from theorydl import engine
    from theorydl.families.parity.model import ParityConfig, ParityEnsemble

    hparams = {"d": 5, "steps": 200, "eval_every": 50}
    cfg = ParityConfig(**hparams)
    ctx = engine.RunContext("parity", "d5", {0: tmp_path / "seed0"}, tmp_path / "ckpt", 0.0, 1)
    task = ParityEnsemble(cfg, [0])
    checkpoints = engine._Checkpoints(
        ctx.checkpoint_dir,
        engine.tf.train.Checkpoint(loop=engine._Loop(task, engine.SGD([], 0.01))),
        "some-other-fingerprint",
    )
    progress = engine._Progress(
        rows=[(0, 0, "test", "accuracy", 0.123)], diverged_at={}, wall_time_s=1.0, resumed_from=[]
    )
    checkpoints.save(100, progress)
    dirs = train(tmp_path, [0], hparams, variant="d5")
    meta = json.loads((dirs[0] / "meta.json").read_text())
    assert meta["resumed_from_steps"] == []  # started from scratch
    metrics = pd.read_csv(dirs[0] / "metrics.csv")
    assert 0.123 not in metrics.value.to_numpy()


def test_adam_matches_keras_adam(tf):
    """Our Adam is TF1's update, which Keras implements the same way (ε given explicitly)."""
    import keras

    from theorydl import engine

    rng = np.random.default_rng(0)
    start = rng.normal(size=(3, 4)).astype(np.float32)
    grads = [rng.normal(size=(3, 4)).astype(np.float32) for _ in range(20)]
    ours = tf.Variable(start)
    adam = engine.Adam([ours], 0.05, beta1=0.9, beta2=0.99, epsilon=1e-5)
    theirs = keras.Variable(start)
    reference = keras.optimizers.Adam(0.05, beta_1=0.9, beta_2=0.99, epsilon=1e-5)
    for g in grads:
        adam.apply([tf.constant(g)], [ours])
        reference.apply_gradients([(tf.constant(g), theirs)])
    assert np.allclose(ours.numpy(), np.asarray(theirs), atol=1e-6)


def test_diverged_seeds_are_marked_and_stop_the_job_early(tf, tmp_path):
    dirs = train(tmp_path, [0, 1], {"d": 5, "steps": 200, "eval_every": 50, "learning_rate": 1e30})
    for run in dirs.values():
        meta = json.loads((run / "meta.json").read_text())
        assert meta["status"] == "diverged"
        assert meta["diverged_at_step"] is not None
        assert meta["steps_completed"] < 200  # every seed diverged: no point going on
        metrics = pd.read_csv(run / "metrics.csv")
        after = metrics[metrics.step > meta["diverged_at_step"]]
        assert after.value.isna().all()


def test_snapshots_are_kept_at_their_steps(tf, tmp_path):
    from theorydl import engine
    from theorydl.families.parity.model import ParityConfig, ParityEnsemble

    class WithSnapshots(ParityEnsemble):
        def snapshot(self):
            return {"w2": self.w2.numpy()}

    cfg = ParityConfig(d=5, steps=100, eval_every=50)
    task = WithSnapshots(cfg, [0, 1])
    ctx = engine.RunContext(
        "parity", "d5", {0: tmp_path / "s0", 1: tmp_path / "s1"}, tmp_path / "ckpt", 0.0, 1
    )
    schedule = engine.Schedule(100, 50, snapshot_steps=(0, 30, 100))
    engine.train(task, engine.SGD(task.trainable_variables, 0.01), schedule, ctx, {"d": 5})
    with np.load(tmp_path / "s1" / "arrays.npz") as arrays:
        assert {"w2@0", "w2@30", "w2@100"} <= set(arrays.files)
        assert np.array_equal(arrays["w2@100"], arrays["w2"][:, None])
        assert not np.array_equal(arrays["w2@0"], arrays["w2@30"])
    metrics = pd.read_csv(tmp_path / "s1" / "metrics.csv")
    assert sorted(metrics[metrics.split == "test"].step.unique()) == [0, 50, 100]


def test_schedule_stops_at_evaluations_snapshots_and_the_end():
    from theorydl.engine import Schedule

    schedule = Schedule(steps=120, eval_every=50, snapshot_steps=(30, 120))
    stops, step = [], 0
    while step < 120:
        step = schedule.next_stop(step)
        stops.append(step)
    assert stops == [30, 50, 100, 120]
    with pytest.raises(ValueError, match="outside"):
        Schedule(steps=10, eval_every=5, snapshot_steps=(11,))


@pytest.mark.parametrize("fused", [False, True], ids=["adam", "fused"])
def test_adam_updates_a_float64_variable_in_float64(tf, fused):
    """A float64 model is trained in float64 throughout: Adam's step size too (in float32 it
    would be off by about 1e-7 relative, and the variables' dtype mixed with it fails)."""
    from theorydl import engine

    rng = np.random.default_rng(1)
    start = rng.normal(size=(2, 3))
    grads = [rng.normal(size=(2, 3)) for _ in range(30)]
    variable = tf.Variable(start)  # float64
    kind = engine.FusedAdam if fused else engine.Adam
    adam = kind([variable], 0.99, beta1=0.9, beta2=0.999, epsilon=1e-8)
    w, m, v = start.copy(), np.zeros_like(start), np.zeros_like(start)
    for t, g in enumerate(grads, start=1):
        adam.apply([tf.constant(g)], [variable])
        m, v = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g**2
        w -= 0.99 * np.sqrt(1 - 0.999**t) / (1 - 0.9**t) * m / (np.sqrt(v) + 1e-8)
    assert variable.dtype == tf.float64
    assert np.allclose(variable.numpy(), w, rtol=1e-12, atol=1e-12)
