"""The scale benchmark: its job-time and GPU arithmetic, its op count, and one real probe.

No timing is asserted: the probe's numbers are checked for their shape and their sense.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import benchmark_scale as bs
import pytest

from theorydl import config as tdl_config
from theorydl import runtime


def _probe(**changes) -> bs.Probe:
    fields = dict(
        family="flat",
        variant="end_to_end",
        seeds=20,
        steps=10_000,
        eval_every=200,
        startup_s=10.0,
        step_ms=20.0,
        eval_ms=500.0,
        timed_steps=200,
        ops_per_step=300,
        ops_per_eval=150,
        peak_mb=1000.0,
    )
    return bs.Probe(**(fields | changes))


def test_a_job_is_start_up_steps_and_evaluations():
    probe = _probe()
    assert probe.evaluations == 51  # step 0, then every 200 steps to 10 000
    assert probe.job_seconds == pytest.approx(10 + 10_000 * 0.020 + 51 * 0.5)
    assert _probe(steps=10_100).evaluations == 52  # and the last step, off the interval


def test_the_gpu_estimate_is_launches_plus_arithmetic():
    probe = _probe(step_ms=10.0, eval_ms=0.0, ops_per_eval=0)
    # 300 launches of 10 µs; 10 ms at 100 GFLOP/s is 1 GFLOP, 0.1 ms at 10 TFLOP/s.
    per_step = 300 * 10e-6 + 1e9 / 10e12
    found = bs.gpu_seconds(probe, cpu_peak_gflops=100.0, launch_us=10.0, effective_tflops=10.0)
    assert found == pytest.approx(10.0 + 10_000 * per_step)
    assert found < probe.job_seconds


def test_a_job_probed_on_a_gpu_keeps_its_measured_time():
    measured = _probe(device="GPU", gpu_util_pct=63.4)
    found = bs.gpu_seconds(measured, cpu_peak_gflops=100.0, launch_us=10.0, effective_tflops=10.0)
    assert found == measured.job_seconds
    assert bs.gpu_busy(measured) == "63%"
    assert bs.gpu_busy(_probe(device="GPU")) == "—"  # nvidia-smi gave no sample
    assert bs.gpu_busy(_probe()) == "est."


def test_a_measurement_process_finds_nvidia_smi_and_keeps_the_gpu_choice(monkeypatch, tmp_path):
    """Probes run in fresh processes; they need PATH (nvidia-smi) and CUDA_VISIBLE_DEVICES."""
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2")
    assert bs.run_isolated("os", "environ['PATH']").startswith(str(tmp_path))
    assert bs.run_isolated("os", "environ['CUDA_VISIBLE_DEVICES']") == "2"


def test_kernel_ops_count_the_loop_body_and_leave_out_host_ops(tf):
    x = tf.Variable(tf.ones([4, 4]))

    @tf.function
    def loop(n):
        for _ in tf.range(n):
            x.assign(tf.nn.relu(tf.matmul(x, x)) * 0.5)
        return x.read_value()

    concrete = loop.get_concrete_function(tf.TensorSpec([], tf.int64))
    body = bs.kernel_ops(concrete, "while_body")
    assert 3 <= body <= 6  # MatMul, Relu, Mul, the assignment, the loop counter's add
    everything = bs.kernel_ops(concrete, None)
    assert everything >= 1 and everything != body


def test_sparse_variable_ops_find_a_gather_from_the_variable_itself(tf):
    w = tf.Variable(tf.ones([3, 4]))
    rows = tf.constant([0, 2])
    from_variable = tf.function(lambda: tf.gather(w, rows)).get_concrete_function()
    from_value = tf.function(lambda: tf.gather(tf.convert_to_tensor(w), rows))
    sparse = bs.SPARSE_VARIABLE_OPS
    assert bs.ops_named(sparse, from_variable) == ("ResourceGather",)
    assert bs.ops_named(sparse, from_value.get_concrete_function()) == ()

    @tf.function
    def in_a_loop():  # loop bodies live in the graph's function library
        return tf.map_fn(lambda i: tf.reduce_sum(tf.gather(w, i)), tf.range(3), dtype=tf.float32)

    assert bs.ops_named(sparse, in_a_loop.get_concrete_function()) == ("ResourceGather",)


def test_gpu_nondeterministic_ops_find_a_scatter_but_not_its_dense_replacement(tf):
    """stocks once set each row's right-stock return with a scatter: under op determinism a GPU
    runs that on the host, a round trip inside every training step."""
    signs = tf.ones([4, 5])
    y = tf.constant([0, 3, 1, 4])

    @tf.function
    def scatter(n):
        for _ in tf.range(n):
            signs_n = tf.tensor_scatter_nd_update(
                signs, tf.stack([tf.range(4), y], 1), -signs[:, 0]
            )
        return signs_n

    @tf.function
    def select(n):
        for _ in tf.range(n):
            signs_n = tf.where(tf.range(5) == y[:, None], -1.0, signs)
        return signs_n

    spec = tf.TensorSpec([], tf.int32)
    nondeterministic = bs.GPU_NONDETERMINISTIC_OPS
    assert bs.ops_named(nondeterministic, scatter.get_concrete_function(spec)) == (
        "TensorScatterUpdate",
    )
    assert bs.ops_named(nondeterministic, select.get_concrete_function(spec)) == ()
    assert tf.reduce_all(scatter(tf.constant(1)) == select(tf.constant(1)))


@pytest.fixture(scope="module")
def smoke_probes() -> dict[tuple[str, str], bs.Probe]:
    """Every smoke training variant probed, each in a fresh process, two at a time (~3 min)."""
    jobs = [
        (family, variant)
        for family, variants in bs.resolved_config("smoke")["_variants"].items()
        for variant in variants
    ]
    with ThreadPoolExecutor(2) as pool:
        probes = pool.map(lambda job: bs.probe("smoke", *job, seconds=0.05), jobs)
    return dict(zip(jobs, probes, strict=True))


@pytest.mark.parametrize("family", tdl_config.FAMILIES)
def test_a_probe_measures_a_smoke_job_as_the_workflow_builds_it(family, smoke_probes):
    """One smoke job per family, built by the family's own code in a fresh process."""
    config = bs.resolved_config("smoke")
    assert config["scale"] == "smoke"
    assert config["_variants"] != bs.resolved_config("paper")["_variants"]
    variant = next(iter(config["_variants"][family]))
    probe = smoke_probes[family, variant]
    hparams = config["_variants"][family][variant]
    assert probe.seeds == len(tdl_config.variant_seeds(family, config[family], hparams))
    if "steps" in hparams:  # sharing's budget is in epochs
        assert probe.steps == hparams["steps"]
    assert probe.timed_steps >= min(probe.eval_every, probe.steps)
    assert probe.step_ms > 0 and probe.eval_ms > 0 and probe.startup_s > 0
    assert 100 < probe.peak_mb < 2048  # TensorFlow alone is a few hundred MB
    assert probe.ops_per_step > 10 and probe.ops_per_eval > 5
    assert probe.job_seconds > probe.startup_s
    wanted = family not in config["cpu_families"] or tdl_config.wants_gpu(family, hparams)
    on_gpu = bool(runtime.visible_gpus()) and wanted
    assert probe.device == ("GPU" if on_gpu else "CPU")
    if not on_gpu:
        assert probe.gpu_util_pct is None and probe.gpu_peak_mb is None


def test_no_training_job_has_a_sparse_variable_read_or_an_op_a_gpu_cannot_run_deterministically(
    smoke_probes,
):
    """Every training variant's step and evaluation, as its family builds them. A sparse read of
    a variable makes every later step copy it; an op of :data:`GPU_NONDETERMINISTIC_OPS` runs
    on the host (a round trip per step) or stops the job, on a GPU only, where CI never runs.
    The variants differ in model and loss (curves' four models, flat's four losses, ...), so
    each is probed."""
    assert len(smoke_probes) >= 30
    flagged = {
        (p.family, p.variant, field): getattr(p, field)
        for p in smoke_probes.values()
        for field, _, _ in bs.OP_CHECKS
        if getattr(p, field)
    }
    assert flagged == {}
