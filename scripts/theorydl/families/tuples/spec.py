"""Tuples of line images (Failures of Gradient-Based Deep Learning, §3.1 and §3.3): what the
workflow reads when it parses, with no TensorFlow: the hyperparameters of training and of the
gradient-SNR measurement, the variants, the config checks, the tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

FAMILY = "tuples"
METHODS = ("e2e", "dec")
LABEL_CONVENTIONS = ("authors", "paper")
DEC_LOSSES = ("first", "all")
# Images per compiled call of the SNR measurement: divisible by k = 1…6, 8, 10, 12, so those k
# use every image; the conv activations of 2 400 images take about 150 MB.
CHUNK_IMAGES = 2_400


@dataclass(frozen=True)
class TuplesConfig:
    """Hyperparameters; the defaults are those of the authors' ``tuple_rect.py``."""

    k: int = 1  # images per tuple
    method: str = "e2e"  # "e2e": tuple loss only; "dec": tuple loss + per-image loss (--dec)
    label: str = "authors"  # "authors": +1 iff an odd number of rising lines; "paper": ∏ y_j
    batch_size: int = 200  # tuples per step
    steps: int = 20_000  # MAX_STEPS; the paper's Fig 3 ran decomposition for 2 500 (its caption)
    learning_rate: float = 1e-3
    beta1: float = 0.9
    beta2: float = 0.99
    epsilon: float = 1e-5  # TF1 AdamOptimizer(epsilon=1e-5) as in the script, not Keras' 1e-7
    eval_every: int = 100
    test_tuples: int = 2_000  # the script's fixed test file, BATCH_SIZE*10 tuples
    # The script reads a fixed pool of 500 000 training tuples in order and wraps around; None
    # draws fresh tuples every step instead.
    train_pool: int | None = 500_000

    def __post_init__(self) -> None:
        if self.k < 1:
            raise ValueError(f"k must be at least 1, got {self.k}")
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}, got {self.method!r}")
        if self.label not in LABEL_CONVENTIONS:
            raise ValueError(
                f"label must be one of {', '.join(LABEL_CONVENTIONS)}, got {self.label!r}"
            )
        if self.train_pool is not None and self.train_pool < self.batch_size:
            raise ValueError(
                f"train_pool ({self.train_pool}) must hold at least one batch "
                f"(batch_size {self.batch_size}), or be null for fresh tuples every step"
            )

    @property
    def pool_batches(self) -> int | None:
        """Distinct batches in the training pool: the script drops a pool's incomplete last
        batch when it wraps around, so batch t is pool batch t mod ⌊pool / batch⌋."""
        return None if self.train_pool is None else self.train_pool // self.batch_size


Config = TuplesConfig  # the name the workflow looks up in every family's spec


@dataclass(frozen=True)
class SnrConfig:
    """Settings of the SNR measurement; the defaults are those of ``tuple_rect_SNR.py``."""

    # Images read (rounded up to whole chunks): the script's one pass over 500 000 4-tuples;
    # smaller k cut more tuples from the same images.
    images: int = 2_000_000
    batch_size: int = 100  # the script's batches of tuples; only its noise formula uses them
    # "first": the hinge on each tuple's first image only, as the SNR script; "all": on all k
    # images, as the decomposition loss of training.
    dec_loss: str = "first"
    label: str = "authors"  # tuple label convention, as in TuplesConfig

    def __post_init__(self) -> None:
        if self.dec_loss not in DEC_LOSSES:
            raise ValueError(f"dec_loss must be one of {', '.join(DEC_LOSSES)}")
        if self.label not in LABEL_CONVENTIONS:
            raise ValueError(f"label must be one of {', '.join(LABEL_CONVENTIONS)}")
        if self.images < 1 or self.batch_size < 1:
            raise ValueError("images and batch_size must be positive")


def variants(block: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """One training job per (method, k): ``e2e-k3`` → ``{"method": "e2e", "k": 3}``."""
    return {
        f"{method}-k{k}": {"method": method, "k": k}
        for method in block["methods"]
        for k in block["ks"]
    }


def check_config(block: dict[str, Any], resolved: dict[str, dict[str, Any]]) -> list[str]:
    """Problems the schema cannot see: the SNR's batches must fit in its chunks of images."""
    snr = block["snr"]
    try:
        batch = SnrConfig(**snr["hparams"]).batch_size
    except ValueError as error:
        return [f"config key 'tuples.snr.hparams': {error}"]
    largest = CHUNK_IMAGES // max(snr["ks"])
    if batch > largest:
        return [
            f"config key 'tuples.snr.hparams.batch_size': value {batch} exceeds the "
            f"{largest} tuples of k = {max(snr['ks'])} that one chunk of {CHUNK_IMAGES} images "
            f"holds. Allowed: at most {largest} for tuples.snr.ks = {snr['ks']}"
        ]
    return []


REPORT_CATEGORY = "Tuples (Failures §3.1, §3.3)"  # the group of its tables and figures in --report
# Tables (results/<scale>/tables/<name>.csv) with the columns claims may name; see analysis.py.
TABLES: dict[str, list[str]] = {
    "tuples_seeds": [
        "method",
        "k",
        "seed",
        "budget",
        "batch_size",
        "status",
        "final_accuracy",
        "final_image_accuracy",
        "parity_ceiling",
        "ceiling_gap",
        "max_smoothed_accuracy",
        "steps_to_learn",
    ],
    "tuples_summary": [
        "method",
        "k",
        "n",
        "budget",
        "batch_size",
        "final_accuracy_mean",
        "final_accuracy_std",
        "final_image_accuracy_mean",
        "parity_ceiling_mean",
        "ceiling_gap_median",
        "learned",
        "steps_to_learn_median",
        "diverged",
    ],
    "tuples_curves": ["method", "k", "seed", "step", "accuracy", "image_accuracy"],
    "tuples_snr": [
        "k",
        "init_seed",
        "tuples",
        "snr_e2e",
        "snr_dec",
        "ratio",
        "floor",
        "snr_e2e_script",
        "snr_dec_script",
        "signal_e2e",
        "noise_e2e",
        "signal_dec",
        "noise_dec",
    ],
    "tuples_snr_summary": [
        "k",
        "inits",
        "tuples",
        "snr_e2e_median",
        "snr_e2e_min",
        "snr_e2e_max",
        "snr_dec_median",
        "snr_dec_min",
        "snr_dec_max",
        "ratio_median",
        "ratio_max",
        "floor",
    ],
}
CSV_ONLY = ("tuples_curves",)  # figure data: CSV alone, no Markdown or LaTeX
