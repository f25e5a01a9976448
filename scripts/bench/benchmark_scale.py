"""Benchmark: what every training job of a scale costs, from a few measured steps of each.

For each training variant of the resolved configuration (the paper scale by default), in a
fresh process as a workflow job would run it: build the family's task, optimizer and schedule
with the family's own ``run`` (the engine's ``train`` is swapped for a probe), trace, time whole
evaluation intervals of the compiled loop for about ``--seconds``, and time the evaluation.
Printed per variant and per family:

- the *estimated job time* on this machine: start-up (TensorFlow import, building, tracing) +
  steps × step time + evaluations × evaluation time;
- the *peak resident memory* of the process. A job's memory is reached once the task is built
  and its loop traced and run: only the metric rows and snapshot arrays grow after that, a few
  MB even at the paper's budgets;
- the *TensorFlow ops per training step* (the loop body's kernels, host-only ops left out), and
  from it a *GPU estimate* (see :func:`gpu_seconds`): an estimate, not a measurement;
- on a machine with a GPU, the jobs run where the workflow would run them (families in
  ``cpu_families`` on a CPU core, but for the variants their spec wants on a GPU; the others on
  a GPU, one probe per device at a time): their job time *is* then measured on the GPU, with
  how busy the device was (``nvidia-smi``) and the GPU memory the job held;
- a warning for any variant whose step or evaluation reads a variable sparsely (see
  :data:`SPARSE_VARIABLE_OPS`) or uses an op that a GPU cannot run under op determinism (see
  :data:`GPU_NONDETERMINISTIC_OPS`).

    python scripts/bench/benchmark_scale.py                         # paper scale, every family
    python scripts/bench/benchmark_scale.py --families tuples --seconds 5
    python scripts/bench/benchmark_scale.py --scale quick --json results/benchmark_scale_quick.json
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import resource
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

STARTED = time.perf_counter()  # the probe's start-up is timed from here, as a job's from launch

BENCH = Path(__file__).resolve().parent  # the benchmarks import each other
SCRIPTS = BENCH.parent  # and the theorydl package
ROOT = SCRIPTS.parent
sys.path[:0] = [str(BENCH), str(SCRIPTS)]

from benchmark_engine import run_isolated  # noqa: E402 (needs BENCH on the path)

from theorydl.costs import duration  # noqa: E402

# Ops of a step graph that launch no device kernel: they only pass handles and tensors along.
HOST_OPS = frozenset(
    {"Const", "Identity", "IdentityN", "NoOp", "ReadVariableOp", "VarHandleOp", "Placeholder"}
    | {"_Arg", "_Retval", "StopGradient", "Shape", "Reshape", "Squeeze", "ExpandDims"}
)
# GPU model (assumptions, printed with the estimate and settable from the command line):
# TensorFlow's executor spends ~5–20 µs per op launching a small kernel on a GPU; the tiny
# kernels of these models reach a small share of an H100's 67 TFLOP/s float32 peak.
GPU_LAUNCH_US = 10.0
GPU_EFFECTIVE_TFLOPS = 10.0
# Op-name prefixes of sparse reads and updates of a resource variable. The first one switches
# the variable to copy-on-read mode for good: from then on every dense read, as in each
# training step, copies the whole variable. A stocks evaluation that gathered one seed's
# weights from the variable made every later training step 1.5-1.8 times slower.
SPARSE_VARIABLE_OPS = ("ResourceGather", "ResourceScatter", "ResourceSparseApply")
# Op-name prefixes of ops whose GPU kernels check TensorFlow's op determinism (which every job
# turns on): the scatters then run on the host, a device-to-host round trip inside every step,
# and the others raise UnimplementedError, so the job would stop on a GPU and only there.
GPU_NONDETERMINISTIC_OPS = (
    "Scatter",
    "TensorScatter",
    "ResourceScatter",
    "Bincount",
    "DenseBincount",
    "SoftmaxCrossEntropyWithLogits",  # the raw op; tf.nn's wrappers avoid it under determinism
    "SparseTensorDenseMatMul",
    "DepthwiseConv2dNativeBackpropFilter",
    "ResizeNearestNeighborGrad",
    "CropAndResizeGrad",
    "AdjustContrastv2",
    "FakeQuantWithMinMaxVarsGradient",
)
# The op checks of every probe: the Probe field that lists what was found, the op-type prefixes
# it looks for, and the warning's reason.
OP_CHECKS = (
    (
        "sparse_variable_ops",
        SPARSE_VARIABLE_OPS,
        "every later dense read of that variable copies it",
    ),
    (
        "gpu_nondeterministic_ops",
        GPU_NONDETERMINISTIC_OPS,
        "a GPU runs them on the host or refuses them under op determinism",
    ),
)


@dataclass(frozen=True)
class Probe:
    """What one variant's probe measured, per ensemble step (all seeds at once)."""

    family: str
    variant: str
    seeds: int
    steps: int
    eval_every: int
    startup_s: float  # import, build, trace and the first interval and evaluation
    step_ms: float
    eval_ms: float
    timed_steps: int
    ops_per_step: int
    ops_per_eval: int
    peak_mb: float
    # Ops of OP_CHECKS found in the step or the evaluation; best none.
    sparse_variable_ops: tuple[str, ...] = ()
    gpu_nondeterministic_ops: tuple[str, ...] = ()
    device: str = "CPU"  # "GPU" where the job ran on one (a GPU machine, a GPU family)
    gpu_util_pct: float | None = None  # nvidia-smi, while the steps were timed
    gpu_peak_mb: float | None = None  # what TensorFlow's GPU allocator held at most
    # Networks the variant trains one after another (a search's probes, at most); the probe
    # times the first, and each is counted at its cost.
    trainings: int = 1

    @property
    def evaluations(self) -> int:
        """Evaluations of a whole run: at step 0, every ``eval_every`` steps and at the end."""
        return 1 + math.ceil(self.steps / self.eval_every)

    @property
    def job_seconds(self) -> float:
        """The estimated wall time of the whole job on the probing machine."""
        training = self.steps * self.step_ms / 1e3 + self.evaluations * self.eval_ms / 1e3
        return self.startup_s + self.trainings * training


def kernel_ops(concrete: Any, body_marker: str | None) -> int:
    """Ops that launch a kernel in the graph of ``concrete``, or in the body of its loop (the
    library function whose name contains ``body_marker``): one training step."""
    graph_def = concrete.graph.as_graph_def()
    if body_marker is None:
        nodes = list(graph_def.node)
    else:
        bodies = [f for f in graph_def.library.function if body_marker in f.signature.name]
        nodes = [node for body in bodies for node in body.node_def]
    return sum(node.op not in HOST_OPS for node in nodes)


def ops_named(prefixes: tuple[str, ...], *concretes: Any) -> tuple[str, ...]:
    """The ops of these graphs (loop bodies and branches included) whose type starts with one
    of ``prefixes``, by type: e.g. :data:`SPARSE_VARIABLE_OPS`."""
    found = set()
    for concrete in concretes:
        graph_def = concrete.graph.as_graph_def()
        nodes = [*graph_def.node, *(n for f in graph_def.library.function for n in f.node_def)]
        found |= {node.op for node in nodes if node.op.startswith(prefixes)}
    return tuple(sorted(found))


class Measured(Exception):
    """Raised by the stand-in for ``engine.train`` once it has measured: whatever the family's
    ``run`` would do after its first training (a search reading its probe back) is skipped."""


def probe_train(seconds: float) -> tuple[dict[str, Any], Any]:
    """A stand-in for ``engine.train`` that measures instead of training, and the dict it fills."""
    found: dict[str, Any] = {}

    def probe(task: Any, optimizer: Any, schedule: Any, ctx: Any, hparams: Any) -> None:
        import tensorflow as tf

        from theorydl import engine, runtime

        loop = engine._Loop(task, optimizer)
        chunk = min(schedule.eval_every, schedule.steps)
        n = tf.constant(chunk, tf.int64)
        loop.evaluate()
        loop.advance(n).numpy()
        found["startup_s"] = time.perf_counter() - STARTED
        with runtime.GpuMonitor(runtime.process_gpu(tf), interval_ms=200) as monitor:
            timed, start = 0, time.perf_counter()
            while timed == 0 or (time.perf_counter() - start < seconds and timed < schedule.steps):
                loop.advance(n).numpy()
                timed += chunk
            found["step_ms"] = 1e3 * (time.perf_counter() - start) / timed
        usage = runtime.gpu_usage(monitor, tf)
        found["device"] = "CPU" if usage is None else "GPU"
        found["gpu_util_pct"] = usage and usage["utilization_pct"]
        found["gpu_peak_mb"] = usage and usage["memory_peak_mb"]
        found["timed_steps"] = timed
        start = time.perf_counter()
        for _ in range(3):
            {name: value.numpy() for name, value in loop.evaluate().items()}
        found["eval_ms"] = 1e3 * (time.perf_counter() - start) / 3
        step_graph = loop.advance.get_concrete_function(tf.TensorSpec([], tf.int64))
        found["ops_per_step"] = kernel_ops(step_graph, "while_body")
        eval_graph = loop.evaluate.get_concrete_function()
        found["ops_per_eval"] = kernel_ops(eval_graph, None)
        for field, prefixes, _ in OP_CHECKS:
            found[field] = ops_named(prefixes, step_graph, eval_graph)
        found["steps"], found["eval_every"] = schedule.steps, schedule.eval_every
        found["seeds"] = len(task.seeds)
        raise Measured

    return found, probe


def resolved_config(scale: str) -> dict[str, Any]:
    """The workflow's configuration at ``scale``, validated and with every variant resolved."""
    import yaml

    from theorydl import config

    base = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    return config.resolve(base, {"scale": scale}, ROOT)


def run_probe(scale: str, family: str, variant: str, seconds: float) -> str:
    """Probe one variant in this process (a fresh one, from :func:`probe`); its JSON."""
    cfg = resolved_config(scale)
    from theorydl import config, runtime

    hparams = cfg["_variants"][family][variant]
    # As the workflow places jobs: a family in cpu_families sees no GPU (but for the variants
    # its spec wants on one), any other claims one, alone (one slot per device, shared with
    # workflow jobs), so that its time is its own.
    on_gpu = family not in cfg["cpu_families"] or config.wants_gpu(family, hparams)
    runtime.claim_gpu(ROOT / ".snakemake" / "gpu-locks", jobs_per_gpu=1, wanted=on_gpu)
    runtime.setup_tensorflow(cfg["tf_threads"])
    from theorydl import engine

    module = config.family_module(family, "model")
    seeds = config.variant_seeds(family, cfg[family], hparams)
    found, stand_in = probe_train(seconds)
    train, engine.train = engine.train, stand_in  # the family's run calls engine.train
    try:
        with tempfile.TemporaryDirectory() as scratch:
            ctx = engine.RunContext(
                family=family,
                variant=variant,
                out_dirs={seed: Path(scratch) / str(seed) for seed in seeds},
                checkpoint_dir=Path(scratch) / "checkpoint",
                threads=cfg["tf_threads"],
                data_dir=probe_datasets(cfg, family, variant, Path(scratch) / "datasets"),
            )
            with contextlib.suppress(Measured):
                module.run(module.Config(**hparams), seeds, ctx)
    finally:
        engine.train = train
    spec = config.family_module(family)
    found["trainings"] = spec.trainings(hparams) if hasattr(spec, "trainings") else 1
    found["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return json.dumps(found)


def probe_datasets(cfg: dict[str, Any], family: str, variant: str, scratch: Path) -> Path:
    """The folder of the real-image datasets a variant reads: the workflow's own
    (results/<scale>/datasets/) where rule dataset has made them, else made in ``scratch``."""
    from theorydl import config, datasets

    needed = config.variant_datasets(family, cfg["_variants"][family], [variant])
    made = ROOT / "results" / cfg["scale"] / "datasets"
    if all((made / f"{name}.npz").is_file() for name in needed):
        return made
    for name in needed:
        datasets.make(name, scratch / f"{name}.npz", cfg["datasets"]["source"])
    return scratch


def probe(scale: str, family: str, variant: str, seconds: float) -> Probe:
    """:func:`run_probe` in a fresh Python process."""
    call = f"run_probe({scale!r}, {family!r}, {variant!r}, {seconds})"
    found = json.loads(run_isolated("benchmark_scale", call))
    for field, _, _ in OP_CHECKS:
        found[field] = tuple(found[field])  # JSON gave lists
    return Probe(family=family, variant=variant, **found)


# --------------------------------------------------------------------------------------------
# The GPU estimate.


def gpu_seconds(
    row: Probe, cpu_peak_gflops: float, launch_us: float, effective_tflops: float
) -> float:
    """The job's time on one GPU: measured, where the probe ran on one; otherwise estimated
    from CPU measurements: per step (and evaluation), one launch per kernel op plus its
    arithmetic at the GPU's effective rate, where the arithmetic is bounded by the CPU time at
    the CPU's measured matmul peak (a CPU step does at most that many FLOPs). Start-up is taken
    as on the CPU (tracing runs on the host)."""
    if row.device == "GPU":
        return row.job_seconds

    def on_gpu(cpu_ms: float, ops: int) -> float:
        flops = cpu_ms / 1e3 * cpu_peak_gflops * 1e9
        return ops * launch_us / 1e6 + flops / (effective_tflops * 1e12)

    training = row.steps * on_gpu(row.step_ms, row.ops_per_step) + row.evaluations * on_gpu(
        row.eval_ms, row.ops_per_eval
    )
    return row.startup_s + row.trainings * training


# --------------------------------------------------------------------------------------------


def print_header() -> None:
    """The per-variant table's header."""
    print(
        f"{'family':<8} {'variant':<28} {'seeds':>5} {'steps':>7} {'step ms':>8} {'eval ms':>8} "
        f"{'start s':>7} {'job here':>13} {'peak MB':>8} {'ops/step':>8} {'job (GPU)':>14} "
        f"{'GPU busy':>8}"
    )


def print_row(row: Probe, gpu: float) -> None:
    """One variant: per ensemble step and evaluation, and the whole job."""
    print(
        f"{row.family:<8} {row.variant:<28} {row.seeds:>5} {row.steps:>7} "
        f"{row.step_ms:>8.2f} {row.eval_ms:>8.1f} {row.startup_s:>7.1f} "
        f"{duration(row.job_seconds):>13} {row.peak_mb:>8.0f} {row.ops_per_step:>8} "
        f"{duration(gpu):>14} {gpu_busy(row):>8}",
        flush=True,
    )


def gpu_busy(row: Probe) -> str:
    """How busy the GPU was while the probe's steps were timed; "est." where it ran on CPU."""
    if row.device != "GPU":
        return "est."
    return "—" if row.gpu_util_pct is None else f"{row.gpu_util_pct:.0f}%"


def family_totals(estimates: list[tuple[Probe, float]]) -> list[dict[str, Any]]:
    """Per family, from (probe, GPU estimate) pairs: jobs, summed and longest estimated job
    time on this machine and on a GPU, peak memory."""
    totals = []
    for family in dict.fromkeys(row.family for row, _ in estimates):
        mine = [row for row, _ in estimates if row.family == family]
        gpu_times = [gpu for row, gpu in estimates if row.family == family]
        totals.append(
            {
                "family": family,
                "jobs": len(mine),
                "cpu_seconds": sum(row.job_seconds for row in mine),
                "longest_cpu_seconds": max(row.job_seconds for row in mine),
                "gpu_seconds": sum(gpu_times),
                "longest_gpu_seconds": max(gpu_times),
                "peak_mb": max(row.peak_mb for row in mine),
            }
        )
    return totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", default="paper", choices=["paper", "quick", "smoke"])
    parser.add_argument("--families", nargs="+", help="default: every family")
    parser.add_argument("--seconds", type=float, default=3.0, help="timed seconds per variant")
    parser.add_argument("--parallel", type=int, default=1, help="probes running at once")
    parser.add_argument("--gpu-launch-us", type=float, default=GPU_LAUNCH_US)
    parser.add_argument("--gpu-effective-tflops", type=float, default=GPU_EFFECTIVE_TFLOPS)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()

    from benchmark_families import MATMUL_SIZE

    cfg = resolved_config(args.scale)
    families = args.families or list(cfg["_variants"])
    unknown = sorted(set(families) - set(cfg["_variants"]))
    if unknown:
        parser.error(f"unknown families {unknown}; known: {', '.join(cfg['_variants'])}")
    jobs = [(family, variant) for family in families for variant in cfg["_variants"][family]]
    # The CPU's peak, even on a GPU machine: the estimate scales CPU step times by it.
    peak_call = f"matmul_peak_gflops({cfg['tf_threads']}, device='/CPU:0')"
    peak = float(run_isolated("benchmark_families", peak_call))
    print(
        f"scale {args.scale}: {len(jobs)} training variants; {cfg['tf_threads']} TF thread(s) "
        f"per job; ~{args.seconds:g} s timed per variant; {args.parallel} probe(s) at once\n"
        f"CPU matmul peak ({MATMUL_SIZE}² float32): {peak:.1f} GFLOP/s\n"
    )
    print_header()
    estimates = []
    with ThreadPoolExecutor(args.parallel) as pool:
        for row in pool.map(lambda job: probe(args.scale, *job, args.seconds), jobs):
            gpu = gpu_seconds(row, peak, args.gpu_launch_us, args.gpu_effective_tflops)
            print_row(row, gpu)
            estimates.append((row, gpu))
    for row, _ in estimates:
        for field, _, reason in OP_CHECKS:
            if getattr(row, field):
                print(
                    f"warning: {row.family} {row.variant} uses "
                    f"{', '.join(getattr(row, field))}: {reason}"
                )
    totals = family_totals(estimates)
    print(
        f"\n{'family':<8} {'jobs':>4} {'here, summed':>13} {'here, longest':>13} "
        f"{'GPU, summed':>16} {'GPU, longest':>17} {'peak MB':>8}"
    )
    for t in totals:
        print(
            f"{t['family']:<8} {t['jobs']:>4} {duration(t['cpu_seconds']):>13} "
            f"{duration(t['longest_cpu_seconds']):>13} {duration(t['gpu_seconds']):>16} "
            f"{duration(t['longest_gpu_seconds']):>17} {t['peak_mb']:>8.0f}"
        )
    cpu_all = sum(t["cpu_seconds"] for t in totals)
    gpu_all = sum(t["gpu_seconds"] for t in totals)
    print(
        f"{'all':<8} {len(estimates):>4} {duration(cpu_all):>13} {'':>13} {duration(gpu_all):>16} "
        f"{duration(max(t['longest_gpu_seconds'] for t in totals)):>17} "
        f"{max(t['peak_mb'] for t in totals):>8.0f}"
    )
    print(
        f"\nGPU column: measured where a job ran on a GPU (GPU busy: nvidia-smi utilization "
        f"while its steps were timed); elsewhere an estimate, not a measurement (GPU busy: est.): "
        f"per step, {args.gpu_launch_us:g} µs per kernel op + the step's CPU time × "
        f"{peak:.0f} GFLOP/s at {args.gpu_effective_tflops:g} TFLOP/s; start-up as on this CPU. "
        f"'summed' is one job at a time on one GPU; jobs sharing the GPU (jobs_per_gpu) bring "
        f"it towards 'longest'."
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        settings = vars(args) | {"json": str(args.json), "matmul_peak_gflops": peak}
        payload = {
            "settings": settings,
            "variants": [
                asdict(row) | {"job_seconds": row.job_seconds, "gpu_seconds": gpu}
                for row, gpu in estimates
            ],
            "families": totals,
        }
        args.json.write_text(json.dumps(payload, indent=2) + "\n")


if __name__ == "__main__":
    main()
