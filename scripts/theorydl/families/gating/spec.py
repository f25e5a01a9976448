"""GaLU networks: decoupling gating from linearity (Fiat, Malach, Shalev-Shwartz 2019): what the
workflow reads when it parses, with no TensorFlow: the hyperparameters, the variants and their
training jobs, the config checks, the tables.

Four experiments:

- ``images`` (the authors' Fig 1): MNIST and Fashion-MNIST, PCA-whitened, two hidden layers of
  width k, ReLU against GaLU0 (gates from the input, step or sigmoid, scale α) and a linear
  network, over the authors' grid of learning rates and gate scales;

and three with one hidden layer of width k:

- ``memorise`` (the authors' Fig 2): m points X ~ N(0, I_d) with labels y ~ N(0, 1), pure noise;
  the training MSE against kd/m (no biases, a scalar output);
- ``noise`` (Figs 3 and 4): a mixture of clusters with noisy labels (regression or
  classification), train against test (no biases, a scalar output);
- ``width`` (Fig 5): the smallest k whose training MSE on d′ random targets falls below a
  threshold, found by the authors' binary search over k (biases, d′ outputs).

Each trains a ReLU and a GaLU network (random gates, never trained) by Adam; the exact GaLU
solution and hill climbing over its gates are computed without training (``theory.py``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

FAMILY = "gating"
EXPERIMENTS = ("memorise", "noise", "width", "images")
# Trained by Adam; the exact GaLU solution is theory.py's. galu: gates from the layer's input,
# galu0: from the network's input (the same with one hidden layer); linear: no activation.
LEARNERS = ("relu", "galu", "galu0", "linear")
IMAGE_LEARNERS = ("relu", "galu0", "linear")
GATES = ("step", "sigmoid")
IMAGE_DATASETS = ("mnist", "fashion_mnist")  # rule dataset's names
TASKS = ("regression", "classification")


def _allowed(name: str, value: Any, options: tuple[str, ...]) -> None:
    if value not in options:
        raise ValueError(f"{name} must be one of {', '.join(options)}, got {value!r}")


@dataclass(frozen=True)
class GatingConfig:
    """Hyperparameters of one variant; the defaults are the authors' (ICLR 2019 code)."""

    experiment: str = "memorise"  # memorise | noise | width
    learner: str = "relu"  # relu: ReLU(⟨w, x⟩); galu: ⟨w, x⟩·1[⟨f, x⟩ > 0], f fixed at random;
    # galu0 (images): gates from the input x_0 at every layer; linear (images): no activation
    m: int = 256  # training points
    d: int = 8  # input dimension
    k: int = 8  # hidden units (width: the search sets it, probe by probe)
    outputs: int = 1  # d′, the output dimension (width: targets Y ~ N(0, I_d′))
    bias: bool = False  # biases in both layers (the authors' width search has them)
    task: str = "regression"  # noise: regression (MSE) or classification (hinge, ±1 labels)
    noise: float = 0.0  # noise: σ_y; regression adds σ_y·N(0, 1), classification flips w.p. σ_y/2
    clusters: int = 30  # noise: mixture components, centres ~ N(0, I_d)
    spread: float = 0.1  # noise: x = centre + spread·N(0, I_d)
    test_points: int = 9_000  # noise: held-out points (the authors' 10·m − m)
    dataset: str = "fashion_mnist"  # images: mnist | fashion_mnist (rule dataset's files)
    layers: int = 2  # images: hidden layers (T)
    pca_dims: int = 64  # images: the whitened input dimension
    validation: float = 0.1  # images: the training split's share held out for selection
    gate: str = "sigmoid"  # images, galu0: sigmoid(z) or the 0/1 step (sign z + 1)/2
    alpha: float = 1.0  # images, galu0: gate vectors ~ N(0, 1)/(α·pca_dims), the authors' scale
    min_width: int = 1  # width: the binary search's range of k
    max_width: int = 512
    target_mse: float = 0.3  # width: k fits when the mean training MSE over seeds is below it
    learning_rate: float = 1e-3  # Adam, PyTorch's defaults otherwise
    batch_size: int = 128  # mini-batches without replacement, reshuffled every pass
    steps: int = 100_000
    eval_every: int = 5_000

    def __post_init__(self) -> None:
        _allowed("experiment", self.experiment, EXPERIMENTS)
        _allowed("learner", self.learner, LEARNERS)
        _allowed("task", self.task, TASKS)
        _allowed("gate", self.gate, GATES)
        _allowed("dataset", self.dataset, IMAGE_DATASETS)
        trained = IMAGE_LEARNERS if self.experiment == "images" else ("relu", "galu")
        if self.learner not in trained:
            raise ValueError(
                f"experiment {self.experiment} trains {', '.join(trained)}, not {self.learner!r}"
            )
        if not 0 < self.validation < 1:
            raise ValueError(f"validation must lie in (0, 1), got {self.validation}")
        if self.alpha <= 0:
            raise ValueError(f"alpha (the gate scale) must be > 0, got {self.alpha}")
        if min(self.m, self.d, self.k) < 1:
            raise ValueError(f"m, d and k must be positive, got {self.m}, {self.d}, {self.k}")
        if self.batch_size > self.m:
            raise ValueError(f"batch_size ({self.batch_size}) must not exceed m ({self.m})")
        if self.experiment == "noise" and self.task == "classification" and self.noise > 1:
            raise ValueError(
                f"classification flips with p = σ_y/2 ≤ 0.5: σ_y ≤ 1, got {self.noise}"
            )
        if not 1 <= self.min_width <= self.max_width:
            raise ValueError(
                f"width search range must satisfy 1 ≤ min_width ≤ max_width, got "
                f"[{self.min_width}, {self.max_width}]"
            )
        if self.noise < 0:
            raise ValueError(f"noise (σ_y) must be ≥ 0, got {self.noise}")

    @property
    def flip_probability(self) -> float:
        """Classification: the chance that a label's sign is flipped, p = σ_y / 2."""
        return self.noise / 2


Config = GatingConfig  # the name the workflow looks up in every family's spec


# --------------------------------------------------------------------------------------------
# Variants: one per (experiment, learner, cell), named once.


def memorise_cells(block: dict[str, Any]) -> list[tuple[int, int, int]]:
    """The (m, d, k) cells of the memorisation grid: every combination with k·d ≤ m."""
    grid = block["memorise"]
    return [
        (m, d, k) for m in grid["ms"] for d in grid["dims"] for k in grid["widths"] if k * d <= m
    ]


def memorise_name(learner: str, m: int, d: int, k: int) -> str:
    """e.g. ``memorise-relu-m256-d8-k16``."""
    return f"memorise-{learner}-m{m}-d{d}-k{k}"


def noise_name(task: str, learner: str, noise: float) -> str:
    """e.g. ``noise-regression-galu-s0.5``."""
    return f"noise-{task}-{learner}-s{noise:g}"


def noise_setting(block: dict[str, Any]) -> dict[str, Any]:
    """The noise experiment's fixed sizes, as hyperparameters."""
    setting = block["noise"]
    keys = ("m", "d", "k", "clusters", "spread", "test_points")
    return {key: setting[key] for key in keys}


def width_name(learner: str, outputs: int) -> str:
    """e.g. ``width-galu-o8``: the search for the minimal width of one learner and d′."""
    return f"width-{learner}-o{outputs}"


def width_setting(block: dict[str, Any]) -> dict[str, Any]:
    """The width search's fixed sizes and range, as hyperparameters."""
    setting = block["width"]
    return {key: setting[key] for key in ("m", "d", "min_width", "max_width", "target_mse")}


def search_probes(min_width: int, max_width: int) -> int:
    """How many widths the authors' search tries at most: ⌊log2(max − min + 1)⌋ + 2."""
    return int(math.log2(max_width - min_width + 1)) + 2


def width_search(
    min_width: int, max_width: int, target: float, loss_at: Callable[[int], float]
) -> list[tuple[int, float]]:
    """The authors' binary search (``minimal_k.py``): the (k, loss) of every width it tried, in
    order. It tries the middle of [lo, hi], moves lo up to a k whose loss is above ``target`` and
    hi down to one below it, steps to k + 1 when the middle was tried already, and stops after
    :func:`search_probes` tries or when k + 1 was tried too."""
    lo, hi = min_width, max_width
    tried: list[tuple[int, float]] = []
    for _ in range(search_probes(min_width, max_width)):
        k = (lo + hi) // 2
        if any(k == done for done, _ in tried):
            k += 1
            if any(k == done for done, _ in tried):
                break
        loss = loss_at(k)
        tried.append((k, loss))
        if loss > target:
            lo = k
        if loss < target:
            hi = k
    return tried


def minimal_width(tried: list[tuple[int, float]], target: float) -> float:
    """The smallest width tried whose loss is below ``target`` (the authors' reading of a
    search); NaN when none is."""
    fitting = [k for k, loss in tried if loss < target]
    return float(min(fitting)) if fitting else math.nan


def image_name(dataset: str, learner: str, k: int, learning_rate: float, alpha: float) -> str:
    """e.g. ``images-fashion_mnist-galu0-k48-lr0.001-a0.5`` (``-a`` for GaLU0 alone)."""
    gate_scale = f"-a{alpha:g}" if learner == "galu0" else ""
    return f"images-{dataset}-{learner}-k{k}-lr{learning_rate:g}{gate_scale}"


def image_setting(block: dict[str, Any]) -> dict[str, Any]:
    """The image experiment's fixed settings, as hyperparameters."""
    setting = block["images"]
    return {key: setting[key] for key in ("layers", "pca_dims", "validation", "gate")}


def image_settings(block: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Fig 1's grid: every dataset, learner, width and learning rate, and for GaLU0 every gate
    scale α (the others have no gate: α stays at its default)."""
    grid = block["images"]
    named = {}
    for dataset in grid["datasets"]:
        for learner in grid["learners"]:
            alphas = grid["alphas"] if learner == "galu0" else [GatingConfig.alpha]
            for k in grid["widths"]:
                for rate in grid["learning_rates"]:
                    for alpha in alphas:
                        named[image_name(dataset, learner, k, rate, alpha)] = {
                            "experiment": "images",
                            "dataset": dataset,
                            "learner": learner,
                            "k": k,
                            "learning_rate": float(rate),
                            "alpha": float(alpha),
                            **image_setting(block),
                        }
    return named


def datasets(hparams: dict[str, Any]) -> list[str]:
    """The datasets of rule ``dataset`` a variant reads: Fig 1's images."""
    return [hparams["dataset"]] if hparams.get("experiment") == "images" else []


REPEATED = ("images", "width")  # experiments the authors repeated fewer times than the others


def repeats(block: dict[str, Any], hparams: dict[str, Any]) -> int | None:
    """How many of the family's seeds a variant trains: the authors' repeats of Figs 1 and 5
    (their config block's ``repeats``), every seed for the others."""
    experiment = hparams.get("experiment")
    return block[experiment]["repeats"] if experiment in REPEATED else None


def wants_gpu(hparams: dict[str, Any]) -> bool:
    """The width searches train on a GPU where there is one, although the family is in
    cpu_families: their widest probes (k up to 512, d′ up to 128) are large matrix products
    (measured: 67 ms per step for 16 seeds on a CPU core), not the launch-bound steps of the
    family's other, small networks."""
    return hparams.get("experiment") == "width"


def trainings(hparams: dict[str, Any]) -> int:
    """How many networks a variant trains: a width search's probes (at most), else one."""
    if hparams.get("experiment") != "width":
        return 1
    return search_probes(hparams["min_width"], hparams["max_width"])


def variants(block: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every trained setting: variant name → its axis values."""
    named: dict[str, dict[str, Any]] = {}
    for learner in block["memorise"]["learners"]:
        for m, d, k in memorise_cells(block):
            axis = {"experiment": "memorise", "learner": learner, "m": m, "d": d, "k": k}
            named[memorise_name(learner, m, d, k)] = axis
    for task in block["noise"]["tasks"]:
        for learner in block["noise"]["learners"]:
            for noise in block["noise"]["noises"]:
                named[noise_name(task, learner, noise)] = {
                    "experiment": "noise",
                    "learner": learner,
                    "task": task,
                    "noise": float(noise),
                    **noise_setting(block),
                }
    named.update(image_settings(block))
    for learner in block["width"]["learners"]:
        for outputs in block["width"]["outputs"]:
            named[width_name(learner, outputs)] = {
                "experiment": "width",
                "learner": learner,
                "outputs": outputs,
                "bias": True,
                **width_setting(block),
            }
    return named


def jobs(block: dict[str, Any]) -> dict[str, list[str]]:
    """Training jobs: the cells of one learner and one m (memorise), or the noise levels of one
    task and learner (noise), in one process: TensorFlow starts once for many small variants.
    Each width search is a job of its own: its probes are sequential, the searches are not.
    Fig 1: the learning rates (and gate scales) of one dataset, learner and width."""
    grouped: dict[str, list[str]] = {}
    for name, axis in variants(block).items():
        if axis["experiment"] == "memorise":
            job = f"memorise_{axis['learner']}_m{axis['m']}"
        elif axis["experiment"] == "noise":
            job = f"noise_{axis['task']}_{axis['learner']}"
        elif axis["experiment"] == "images":
            job = f"images_{axis['dataset']}_{axis['learner']}_k{axis['k']}"
        else:
            job = f"width_{axis['learner']}_o{axis['outputs']}"
        grouped.setdefault(job, []).append(name)
    return grouped


def check_config(block: dict[str, Any], resolved: dict[str, dict[str, Any]]) -> list[str]:
    """Problems the schema cannot see: an empty memorisation grid, an empty width range."""
    problems = []
    if not memorise_cells(block):
        grid = block["memorise"]
        problems.append(
            f"config key 'gating.memorise': no cell with k·d ≤ m (ms {grid['ms']}, dims "
            f"{grid['dims']}, widths {grid['widths']}). Allowed: grids with at least one such cell"
        )
    for experiment in REPEATED:
        if block[experiment]["repeats"] > len(block["seeds"]):
            problems.append(
                f"config key 'gating.{experiment}.repeats': {block[experiment]['repeats']} "
                f"repeats but only {len(block['seeds'])} seeds in gating.seeds. Allowed: at most "
                "as many as the seeds"
            )
    width = block["width"]
    if width["min_width"] > width["max_width"]:
        problems.append(
            f"config key 'gating.width': min_width {width['min_width']} exceeds max_width "
            f"{width['max_width']}. Allowed: min_width ≤ max_width"
        )
    return problems


REPORT_CATEGORY = "GaLU networks (2019)"  # the group of its tables and figures in --report
# Tables (results/<scale>/tables/<name>.csv) with the columns claims may name; see analysis.py.
TABLES: dict[str, list[str]] = {
    "gating_memorise_runs": [
        "learner",
        "m",
        "d",
        "k",
        "ratio",
        "seed",
        "steps",
        "train_mse",
    ],
    "gating_memorise": [
        "learner",
        "ratio",
        "cells",
        "repeats",
        "steps",
        "train_mse_mean",
        "train_mse_std",
        "line",
        "line_2",
        "gap_to_line",
    ],
    "gating_memorise_checks": [
        "learner",
        "repeats",
        "steps",
        "ratios",
        "max_abs_gap_to_line",
        "mse_at_full",
        "max_excess_over_line",
        "min_margin_over_line_2",
        "max_gap_to_exact",
        "crossing_ratio",
    ],
    "gating_noise_runs": [
        "task",
        "learner",
        "noise",
        "seed",
        "steps",
        "train_loss",
        "test_loss",
        "train_error",
        "test_error",
        "sum_w2",
        "sum_abs_w_squared",
    ],
    "gating_noise": [
        "task",
        "learner",
        "noise",
        "flip",
        "repeats",
        "steps",
        "train_loss_mean",
        "train_loss_std",
        "test_loss_mean",
        "test_loss_std",
        "train_error_mean",
        "test_error_mean",
        "test_error_std",
        "optimum",
        "memoriser_error",
        "sum_w2_mean",
        "sum_abs_w_squared_mean",
        "gap_mean",
    ],
    "gating_noise_checks": [
        "task",
        "learner",
        "repeats",
        "steps",
        "max_train_mse_over_var",
        "max_train_error",
        "min_test_over_optimum",
        "max_distance_to_memoriser",
        "max_relu_minus_galu_test",
        "gap_rank_correlation",
        "log2_gap_at_1",
        "log2_sum_w2_at_1",
    ],
    "gating_images_runs": [
        "dataset",
        "learner",
        "k",
        "learning_rate",
        "alpha",
        "seed",
        "steps",
        "train_error",
        "validation_error",
        "test_error",
    ],
    "gating_images": [
        "dataset",
        "learner",
        "k",
        "selection",
        "settings",
        "learning_rate",
        "alpha",
        "repeats",
        "steps",
        "train_error_mean",
        "validation_error_mean",
        "test_error_mean",
        "test_error_std",
        "published",
    ],
    "gating_images_checks": [
        "dataset",
        "selection",
        "repeats",
        "steps",
        "widths",
        "max_galu0_relu_distance_from_48",
        "min_linear_margin_from_32",
        "max_linear_distance_to_published",
        "max_relu_minus_galu0",
        "min_linear_minus_galu0",
    ],
    "gating_width_probes": [
        "learner",
        "outputs",
        "m",
        "d",
        "seed",
        "steps",
        "probe",
        "k",
        "train_mse",
        "mean_train_mse",
    ],
    "gating_width": [
        "learner",
        "outputs",
        "m",
        "d",
        "repeats",
        "steps",
        "probes",
        "widths_tried",
        "target_mse",
        "minimal_width",
        "published",
    ],
    "gating_width_checks": [
        "learner",
        "m",
        "d",
        "repeats",
        "steps",
        "outputs",
        "max_relative_difference_to_relu",
        "max_relative_distance_to_published",
    ],
}
CSV_ONLY = (
    "gating_memorise_runs",
    "gating_noise_runs",
    "gating_images_runs",
    "gating_width_probes",
)
