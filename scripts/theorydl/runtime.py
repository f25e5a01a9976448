"""Process-level setup shared by every job: random streams, TensorFlow, devices, provenance.

Everything that decides *where* and *how* numbers are computed lives here, so that a run's
``meta.json`` can record it and so that every job sets TensorFlow up the same way.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import platform
import re
import shutil
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path
from typing import Any

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[2]

# File descriptors of held GPU locks: kept open for the life of the process, because closing
# them releases the claim.
_GPU_LOCKS: list[int] = []


def stream_key(seed: int, stream: str) -> np.ndarray:
    """Key of the named random stream of one seed, as the int64 pair TF's stateless ops take.

    Every random draw in the package comes from such a key (folded with the step where the draw
    repeats), so a seed's numbers never depend on which other seeds share its job.
    """
    if seed < 0:
        raise ValueError(f"seeds must be non-negative, got {seed}")
    sequence = np.random.SeedSequence([seed, zlib.crc32(stream.encode())])
    return sequence.generate_state(2, dtype=np.uint32).astype(np.int64)


def numpy_rng(seed: int, stream: str) -> np.random.Generator:
    """A numpy generator on the named stream of one seed (for draws made once, on the host)."""
    return np.random.default_rng(stream_key(seed, stream))


def visible_gpus() -> list[str]:
    """GPU indices this process may use, found without importing TensorFlow.

    ``CUDA_VISIBLE_DEVICES`` wins when it is set; otherwise ``nvidia-smi -L`` is asked. A machine
    without the NVIDIA driver has none.
    """
    env = os.environ.get("CUDA_VISIBLE_DEVICES")
    if env is not None:
        return [d.strip() for d in env.split(",") if d.strip() and d.strip() != "-1"]
    if shutil.which("nvidia-smi") is None:
        return []
    try:
        listing = subprocess.run(
            ["nvidia-smi", "-L"], capture_output=True, text=True, timeout=20, check=True
        ).stdout
    except (subprocess.SubprocessError, OSError):
        return []
    return [str(i) for i, line in enumerate(listing.splitlines()) if line.startswith("GPU ")]


def hide_gpus() -> None:
    """Keep this process off every GPU; must run before TensorFlow is imported.

    For jobs that take no ``gpu`` slot (theory checks, figures, families in ``cpu_families``):
    TensorFlow would otherwise place them on GPU 0, beside the training jobs that claimed it,
    unaccounted for by Snakemake's ``gpu`` resource.
    """
    os.environ["CUDA_VISIBLE_DEVICES"] = ""


def claim_gpu(
    lock_dir: Path, jobs_per_gpu: int = 1, poll_seconds: float = 2.0, wanted: bool = True
) -> str | None:
    """Claim one visible GPU slot for this process and hide the other GPUs from TensorFlow.

    A job that wants none (``wanted`` false: its rule took no ``gpu`` resource, as for a family
    in ``cpu_families``) hides every GPU, so that TensorFlow does not place it on one.

    Snakemake's ``gpu`` resource bounds how many training jobs run at once; this picks *which*
    device each one gets: the first slot whose lock file can be taken (lock files are per host, so
    a shared file system does not mix up two machines' GPU 0). Under SLURM the scheduler has
    already bound the job's GPUs, so nothing is locked. Must run before TensorFlow is imported.
    Returns the GPU index, or None on a machine without GPUs.
    """
    if not wanted:
        hide_gpus()
        return None
    gpus = visible_gpus()
    if not gpus:
        return None
    if "SLURM_JOB_ID" in os.environ:
        return gpus[0]
    lock_dir.mkdir(parents=True, exist_ok=True)
    host = platform.node() or "localhost"
    while True:
        for gpu in gpus:
            for slot in range(jobs_per_gpu):
                path = lock_dir / f"{host}.gpu{gpu}.slot{slot}.lock"
                fd = os.open(path, os.O_CREAT | os.O_RDWR)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    os.close(fd)
                    continue
                _GPU_LOCKS.append(fd)
                os.environ["CUDA_VISIBLE_DEVICES"] = gpu
                return gpu
        # More jobs than slots can only happen when Snakemake was given a larger gpu resource
        # than the machine has; wait for a slot rather than oversubscribe a device.
        time.sleep(poll_seconds)


def process_gpu(tf: Any) -> str | None:
    """The index (as ``nvidia-smi`` names it) of the GPU this process computes on, or None.

    TensorFlow's GPU:0 is the first device of ``CUDA_VISIBLE_DEVICES`` (:func:`claim_gpu` leaves
    one there; SLURM sets the job's own), and nvidia-smi takes the same index or UUID.
    """
    if not tf.config.list_logical_devices("GPU"):
        return None
    visible = [d.strip() for d in os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",")]
    return visible[0] if visible[0] else "0"


def gpu_memory_peak_mb(tf: Any) -> float | None:
    """The most GPU memory this process's TensorFlow allocator has held, in MB (None on CPU)."""
    if not tf.config.list_logical_devices("GPU"):
        return None
    return round(tf.config.experimental.get_memory_info("GPU:0")["peak"] / 2**20, 1)


class GpuMonitor:
    """Samples one GPU's utilization with ``nvidia-smi`` while a job trains.

    Utilization is the share of each sample period in which a kernel ran on the device, from
    whichever process: jobs that share a GPU (``jobs_per_gpu`` > 1) count each other's work. A
    background ``nvidia-smi --loop-ms`` does the sampling, so training never waits on it. On a
    CPU machine (``gpu`` None) or without ``nvidia-smi`` it samples nothing.
    """

    def __init__(self, gpu: str | None, interval_ms: int = 500, program: str = "nvidia-smi"):
        self.gpu = gpu
        self.command = [
            program,
            "--query-gpu=utilization.gpu",
            "--format=csv,noheader,nounits",
            f"--id={gpu}",
            f"--loop-ms={interval_ms}",
        ]
        self.samples: list[float] = []
        self._process: subprocess.Popen | None = None
        self._reader: threading.Thread | None = None

    def __enter__(self) -> GpuMonitor:
        if self.gpu is None or shutil.which(self.command[0]) is None:
            return self
        self._process = subprocess.Popen(
            self.command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        return self

    def _read(self) -> None:
        for line in self._process.stdout:
            try:
                self.samples.append(float(line))
            except ValueError:
                continue  # "[N/A]", "[Not Supported]": the device cannot say

    def __exit__(self, *exc_info: object) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._reader.join(timeout=5)

    def summary(self) -> dict[str, float | int | None] | None:
        """Mean utilization in percent and the sample count; None when no GPU was watched."""
        if self.gpu is None:
            return None
        mean = round(sum(self.samples) / len(self.samples), 1) if self.samples else None
        return {"gpu": self.gpu, "utilization_pct": mean, "samples": len(self.samples)}


def gpu_usage(monitor: GpuMonitor, tf: Any) -> dict[str, Any] | None:
    """What ``monitor`` saw, with the GPU memory this process held at most; None on CPU."""
    usage = monitor.summary()
    if usage is not None:
        usage["memory_peak_mb"] = gpu_memory_peak_mb(tf)
    return usage


def setup_tensorflow(threads: int) -> Any:
    """Import TensorFlow with a fixed thread count and op determinism; return the module.

    The thread count comes from the config, never from Snakemake's ``threads``: reductions split
    differently over a different number of threads, and the same seed must give the same numbers
    whatever ``--cores`` is. No global seed is set on purpose: with determinism on, TensorFlow
    raises on any unseeded random op, which keeps every draw on an explicit stream.
    """
    if threads < 1:
        raise ValueError(f"tf_threads must be at least 1, got {threads}")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    tf.config.experimental.enable_op_determinism()
    for gpu in tf.config.list_physical_devices("GPU"):
        # Several small jobs may share one device; none should reserve all of its memory.
        tf.config.experimental.set_memory_growth(gpu, True)
    return tf


def git_commit() -> str:
    """The commit of the working tree, with ``-dirty`` when tracked files differ from it."""
    if shutil.which("git") is None:
        return "unknown"
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (subprocess.SubprocessError, OSError):
        return "unknown"
    return head + ("-dirty" if dirty else "")


def cpu_model() -> str:
    """The CPU's model name as the kernel reports it."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def memory_gb() -> float | None:
    """The machine's physical memory in GiB (None where the OS does not say)."""
    try:
        return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        return None


def gpu_models(tf: Any) -> list[str]:
    """The model name of every visible GPU, as the CUDA driver reports it."""
    names = []
    for device in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(device)
        names.append(details.get("device_name", device.name))
    return names


LOCKS = REPO_ROOT / "envs" / "lock"
RUNTIME_LOCKS = ("cpu", "gpu")  # the install routes a run can come from (dev adds test tools)


def locked_pins(path: Path) -> dict[str, str]:
    """Package → version of every pin of a lock file (``name==version``, names normalised)."""
    pins = {}
    for line in path.read_text().splitlines():
        match = re.match(r"([A-Za-z0-9._-]+)(\[[^\]]*\])?==([^\s;]+)", line)
        if match:
            pins[re.sub(r"[-_.]+", "-", match.group(1)).lower()] = match.group(3)
    return pins


def environment_lock() -> dict[str, Any] | None:
    """Which locked environment (envs/lock/) this Python's packages match: the runtime lock
    with the fewest differences, its sha256, and the packages that differ from it (installed
    version or "absent"). None where the locks are not there (an install outside a checkout)."""
    from importlib import metadata

    best = None
    for route in RUNTIME_LOCKS:
        path = LOCKS / f"{route}.txt"
        if not path.is_file():
            continue
        differ = {}
        for name, version in locked_pins(path).items():
            try:
                installed = metadata.version(name)
            except metadata.PackageNotFoundError:
                installed = "absent"
            if installed != version:
                differ[name] = installed
        if best is None or len(differ) < len(best["differs"]):
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            best = {"lock": route, "sha256": digest, "differs": differ}
    return best


def provenance(tf: Any, threads: int) -> dict[str, Any]:
    """Versions, hardware and code identity, recorded in every run's ``meta.json``."""
    import keras

    gpus = tf.config.list_logical_devices("GPU")
    return {
        "versions": {
            "python": sys.version.split()[0],
            "tensorflow": tf.__version__,
            "keras": keras.__version__,
            "numpy": np.__version__,
        },
        "device": gpus[0].name if gpus else "/device:CPU:0",
        "gpu": os.environ.get("CUDA_VISIBLE_DEVICES") if gpus else None,
        "gpu_models": gpu_models(tf),
        "cpu": cpu_model(),
        "memory_gb": memory_gb(),
        "cpu_count": os.cpu_count(),
        "tf_threads": threads,
        "hostname": platform.node(),
        "git_commit": git_commit(),
        "environment_lock": environment_lock(),
    }
