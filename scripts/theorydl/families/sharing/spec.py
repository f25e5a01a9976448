"""Weight sharing (Shalev-Shwartz, Shamir, Shammah 2017): what the workflow reads when it
parses, with no TensorFlow: the hyperparameters, the variants and their training jobs, the config
checks, the tables.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

FAMILY = "sharing"
ARCHITECTURES = ("shared", "local", "dense")
TARGETS = ("low", "high", "mixed", "walsh")
G_REGIMES = ("known", "learned")
PATCHES = ("gaussian", "digits", "mnist")
# Natural patches are windows of real images: the side of each source's square images.
IMAGE_SIDE = {"digits": 8, "mnist": 28}  # scikit-learn's digits; MNIST (rule dataset)
LAYOUTS = ("disjoint", "nested")
OPTIMIZERS = ("sgd", "adam")

# The reconstructed optimizer and unit of each regime (reference note): with g known SGD 0.01
# trains the hidden layer; with g learned plain SGD is too slow for both architectures, so Adam
# 1e-3; the Walsh view's steep units (tanh(4·), close to the teacher's sign) take SGD 0.05.
REGIME_DEFAULTS: dict[str, dict[str, Any]] = {
    "known": {"optimizer": "sgd", "learning_rate": 0.01, "steepness": 1.0},
    "learned": {"optimizer": "adam", "learning_rate": 1e-3, "steepness": 1.0},
    "walsh": {"optimizer": "sgd", "learning_rate": 0.05, "steepness": 4.0},
}


def _allowed(name: str, value: Any, options: Sequence[str]) -> None:
    if value not in options:
        raise ValueError(f"{name} must be one of {', '.join(options)}, got {value!r}")


def supports(layout: str, degrees: int) -> tuple[tuple[int, ...], ...]:
    """The characters' supports as unit indices (from 0), one per degree 1 … ``degrees``.

    disjoint: S_1 = {1}, S_2 = {2, 3}, S_3 = {4, 5, 6}, …; nested: S_j = {1, …, j}.
    """
    sets, start = [], 0
    for j in range(1, degrees + 1):
        first = start if layout == "disjoint" else 0
        sets.append(tuple(range(first, first + j)))
        start += j
    return tuple(sets)


@dataclass(frozen=True)
class SharingConfig:
    """Hyperparameters of one variant; the defaults are the reconstructed settings.

    ``optimizer``, ``learning_rate`` and ``steepness`` left at None take the regime's values
    from :data:`REGIME_DEFAULTS` (the Walsh view, else g known or learned).
    """

    architecture: str = "shared"  # shared | local | dense
    target: str = "mixed"  # low | high | mixed | walsh
    omega: float = 2.0  # frequency ω of the cos part (high, mixed)
    mix: float = 1.0  # C: weight of the linear part of the mixed target
    cos_units: int = 5  # the cos part is cos(ω·(z_1 + … + z_cos_units))
    g: str = "known"  # known: the teacher's g*; learned: an MLP k → hidden ReLU → 1
    hidden: int = 50
    patches: str = "gaussian"  # gaussian: x_ij ~ N(0, 1); digits, mnist: windows of images
    k: int = 10  # patches
    d: int = 10  # values per patch (natural patches: a square s², the window is s × s)
    patch_stride: int = 1  # natural patches: the windows' offsets are multiples of this
    layout: str = "disjoint"  # Walsh view: disjoint supports, or nested S_j = {1, …, j}
    degrees: int = 4  # Walsh view: one character per degree 1 … degrees
    steepness: float | None = None  # student's unit tanh(steepness·⟨w, x⟩)
    optimizer: str | None = None  # sgd | adam
    learning_rate: float | None = None
    adam_epsilon: float = 1e-8  # TF1's AdamOptimizer default
    batch_size: int = 100
    train_examples: int = 10_000  # a fixed training set, reshuffled every epoch
    eval_examples: int = 2_000  # held out, fixed per seed
    heldout_image_fraction: float = 0.25  # natural patches: images whose patches are held out
    epochs: int = 500
    eval_every_epochs: int = 1

    def __post_init__(self) -> None:
        _allowed("architecture", self.architecture, ARCHITECTURES)
        _allowed("target", self.target, TARGETS)
        _allowed("g", self.g, G_REGIMES)
        _allowed("patches", self.patches, PATCHES)
        _allowed("layout", self.layout, LAYOUTS)
        for name, value in REGIME_DEFAULTS[self.regime].items():
            if getattr(self, name) is None:
                object.__setattr__(self, name, value)
        _allowed("optimizer", self.optimizer, OPTIMIZERS)
        if self.k < 2:
            raise ValueError(f"k must be at least 2 patches, got {self.k}")
        if self.target in ("high", "mixed") and not 1 <= self.cos_units <= self.k:
            raise ValueError(f"cos_units must lie in [1, k={self.k}], got {self.cos_units}")
        if self.train_examples % self.batch_size:
            raise ValueError(
                f"train_examples ({self.train_examples}) must be a multiple of batch_size "
                f"({self.batch_size}), so that an epoch is a whole number of steps"
            )
        if self.patches in IMAGE_SIDE:
            image = IMAGE_SIDE[self.patches]
            side = math.isqrt(self.d)
            if side * side != self.d or not 2 <= side <= image:
                raise ValueError(
                    f"with {self.patches} patches d must be s² for a window side s in "
                    f"[2, {image}] (4, 9, …, {image * image}), got {self.d}"
                )
            if not 1 <= self.patch_stride <= image - side + 1:
                raise ValueError(
                    f"patch_stride must lie in [1, {image - side + 1}] for {side}×{side} windows "
                    f"of {image}×{image} {self.patches} images, got {self.patch_stride}"
                )
        if self.target == "walsh":
            if self.g != "known":
                raise ValueError("the Walsh view trains the hidden layer only: g must be known")
            if self.patches != "gaussian":
                raise ValueError(
                    "the Walsh view needs Gaussian patches (its characters are orthonormal only "
                    "when the teacher's signs are independent fair coins)"
                )
            needed = 1 + max(max(units) for units in supports(self.layout, self.degrees))
            if needed > self.k:
                raise ValueError(
                    f"the {self.layout} supports of degrees 1..{self.degrees} need {needed} "
                    f"patches, but k = {self.k}"
                )

    @property
    def regime(self) -> str:
        """Which defaults apply: ``walsh``, or the g regime (``known``, ``learned``)."""
        return regime_of({"target": self.target, "g": self.g})

    @property
    def steps_per_epoch(self) -> int:
        return self.train_examples // self.batch_size

    @property
    def steps(self) -> int:
        return self.epochs * self.steps_per_epoch


Config = SharingConfig  # the name the workflow looks up in every family's spec


# --------------------------------------------------------------------------------------------
# Variants: the experiments of the config block, each setting named once.


def variant_name(axis: dict[str, Any]) -> str:
    """A readable, unique name for one setting, e.g. ``mixed-w2-c1-known-local``."""
    patches = axis.get("patches", "gaussian")
    parts = [] if patches == "gaussian" else [patches]
    target = axis["target"]
    if target == "walsh":
        parts += ["walsh", axis["layout"], f"d{axis['d']}"]
    else:
        parts.append(target)
        if target in ("high", "mixed"):
            parts.append(f"w{axis['omega']:g}")
        if target == "mixed":
            parts.append(f"c{axis['mix']:g}")
        parts.append(axis["g"])
    parts.append(axis["architecture"])
    return "-".join(parts)


def _frequency_axis(target: str, omega: float, mix: float) -> dict[str, Any]:
    axis: dict[str, Any] = {"target": target}
    if target in ("high", "mixed"):
        axis["omega"] = float(omega)
    if target == "mixed":
        axis["mix"] = float(mix)
    return axis


def experiments(block: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Each experiment of the block (``curves``, ``omega_sweep``, …) → the settings it runs."""
    archs = block["architectures"]
    curves = block["curves"]
    out: dict[str, list[dict[str, Any]]] = {
        "curves": [
            {**_frequency_axis(t, curves["omega"], curves["mix"]), "g": g, "architecture": a}
            for t in curves["targets"]
            for g in curves["g"]
            for a in archs
        ],
        "omega_sweep": [
            {**_frequency_axis(t, w, block["omega_sweep"]["mix"]), "g": g, "architecture": a}
            for t in block["omega_sweep"]["targets"]
            for w in block["omega_sweep"]["omegas"]
            for g in block["omega_sweep"]["g"]
            for a in archs
        ],
        "mix_sweep": [
            {**_frequency_axis("mixed", block["mix_sweep"]["omega"], c), "g": g, "architecture": a}
            for c in block["mix_sweep"]["mixes"]
            for g in block["mix_sweep"]["g"]
            for a in archs
        ],
        "walsh": [
            {"target": "walsh", "layout": layout, "d": d, "architecture": a}
            for layout, dims in block["walsh"]["dims"].items()
            for d in dims
            for a in block["walsh"]["architectures"]
        ],
        "natural": [
            {
                **_frequency_axis(t, block["natural"]["omega"], block["natural"]["mix"]),
                "g": g,
                "architecture": a,
                "patches": patches,
                **window,
            }
            for patches, window in block["natural"]["patches"].items()
            for t in block["natural"]["targets"]
            for g in block["natural"]["g"]
            for a in archs
        ],
    }
    return out


def regime_of(axis: dict[str, Any]) -> str:
    """The regime of a setting: ``walsh``, or its g (``known``, ``learned``)."""
    return "walsh" if axis["target"] == "walsh" else axis.get("g", "known")


def experiment_variants(block: dict[str, Any]) -> dict[str, list[str]]:
    """Each experiment → the names of the variants it shows (a variant may serve several)."""
    return {
        experiment: list(dict.fromkeys(variant_name(axis) for axis in settings))
        for experiment, settings in experiments(block).items()
    }


def variants(block: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every distinct setting of every experiment: variant name → its axis values, with the
    block's overrides for its regime (``regime_hparams``, e.g. fewer epochs at quick scale)."""
    named: dict[str, dict[str, Any]] = {}
    for settings in experiments(block).values():
        for axis in settings:
            regime = block.get("regime_hparams", {}).get(regime_of(axis), {})
            named.setdefault(variant_name(axis), {**regime, **axis})
    return named


def jobs(block: dict[str, Any]) -> dict[str, list[str]]:
    """Training jobs: the variants of one experiment and one target and g regime (or one Walsh
    layout; and one image source), every architecture, trained in one process, e.g.
    ``omega_sweep_mixed_known``, ``natural_mnist_mixed_known``.

    The models are tiny, so TensorFlow's start-up (seconds) would cost more than a variant's
    training if each variant had its own job. A variant that two experiments share (the curves'
    mixed target is also a point of both sweeps) is trained by the first that names it.
    """
    grouped: dict[str, list[str]] = {}
    seen: set[str] = set()
    for experiment, settings in experiments(block).items():
        for axis in settings:
            name = variant_name(axis)
            if name in seen:
                continue
            seen.add(name)
            kind = axis["layout"] if axis["target"] == "walsh" else f"{axis['target']}_{axis['g']}"
            if axis.get("patches", "gaussian") != "gaussian":  # an image source: a job of its own
                kind = f"{axis['patches']}_{kind}"
            grouped.setdefault(f"{experiment}_{kind}", []).append(name)
    return grouped


def datasets(hparams: dict[str, Any]) -> list[str]:
    """The datasets of rule ``dataset`` that a variant reads: MNIST for its patches."""
    return ["mnist"] if hparams.get("patches") == "mnist" else []


def check_config(block: dict[str, Any], resolved: dict[str, dict[str, Any]]) -> list[str]:
    """Problems the schema cannot see: cross-references between keys of the sharing block."""
    problems = []
    walsh = block["walsh"]
    for layout, dims in walsh["dims"].items():
        if walsh["curve_dim"] not in dims:
            problems.append(
                f"config key 'sharing.walsh.curve_dim': value {walsh['curve_dim']} is not a "
                f"trained dimension of the {layout} supports. Allowed: values of "
                f"sharing.walsh.dims.{layout} ({dims})"
            )
    if "shared" not in block["architectures"] or "local" not in block["architectures"]:
        problems.append(
            f"config key 'sharing.architectures': value {block['architectures']} lacks shared or "
            f"local. Allowed: a list holding both (the ablation compares them), dense optional"
        )
    return problems


REPORT_CATEGORY = "Weight sharing (2017)"  # the group of its tables and figures in --report
SETTING = ["target", "g", "patches", "omega", "mix"]  # what a paired row compares across
RUN_SETTING = ["variant", "architecture", *SETTING]  # what names one run's setting
# Tables (results/<scale>/tables/<name>.csv) with the columns claims may name; see analysis.py.
TABLES: dict[str, list[str]] = {
    "sharing_runs": [
        *RUN_SETTING,
        "layout",
        "d",
        "optimizer",
        "learning_rate",
        "epochs",
        "seed",
        "status",
        "final_loss",
        "alignment_first",
        "alignment_rest",
        "wave_share",
    ],
    "sharing_final_loss": [
        *RUN_SETTING,
        "epochs",
        "n",
        "final_loss_mean",
        "final_loss_std",
        "final_loss_median",
        "wave_share",
    ],
    "sharing_paired": [
        *SETTING,
        "epochs",
        "seed",
        *ARCHITECTURES,
        "best",
        "worst",
        "worst_shared_local",
        "gap",
    ],
    "sharing_mix_trend": [
        "g",
        "omega",
        "epochs",
        "seed",
        "mixes",
        "gap_smallest_mix",
        "gap_largest_mix",
        "gap_slope",
    ],
    "sharing_curves": [
        "variant",
        "architecture",
        *SETTING,
        "seed",
        "epoch",
        "normalised_loss",
        "alignment_first",
        "alignment_rest",
    ],
    "sharing_walsh_seeds": [
        "layout",
        "architecture",
        "d",
        "epochs",
        "seed",
        "final_loss",
        "min_fraction",
        "highest_degree",
        "degrees_learned",
        "degrees",
        "order_violations",
    ],
    "sharing_walsh_summary": [
        "layout",
        "architecture",
        "d",
        "epochs",
        "degree",
        "n",
        "fraction_mean",
        "fraction_std",
        "reached_half",
        "epochs_to_half_median",
    ],
    "sharing_walsh_trend": [
        "layout",
        "architecture",
        "epochs",
        "seed",
        "smallest_d",
        "largest_d",
        "highest_at_smallest_d",
        "highest_at_largest_d",
        "degree_drop",
    ],
    "sharing_walsh_curves": ["layout", "architecture", "d", "seed", "epoch", "degree", "fraction"],
}
CSV_ONLY = ("sharing_curves", "sharing_walsh_curves")  # figure data: CSV alone
