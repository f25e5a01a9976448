"""Hierarchical generative models and a layer-wise algorithm (Malach & Shalev-Shwartz 2018),
*reconstructed*: the paper's model and settings are not public, so the generator (``data.py``)
and the settings here are ours, built from its abstract and its Fig 1. What the workflow reads
when it parses, with no TensorFlow: the hyperparameters, the variants and their training jobs,
the config checks, the tables.

Four learners, each trained on n images of the model and tested on fresh ones:

- ``layerwise``: per level, a two-layer network (3×3 stride-3 convolution + ReLU, a linear
  readout of the label) trained by Adam, k-means on its patch embeddings, the one-hot cluster
  ids as the next level's input; a linear classifier on the top level;
- ``onestep``: the same, but each level's embedding is the first layer after one large
  gradient step from a symmetric initialisation (as the Random Hierarchy Model's layer-wise code
  does): the embedding the theory's argument needs (a patch's correlation with the label);
- ``e2e``: the same stack of stride-3 convolutions trained end to end by Adam;
- ``fc``: a fully connected network with about as many weights as ``e2e``.

Four experiments: ``samples`` (accuracy and cluster recovery against n), ``noise`` (against the
pixel noise) and ``variants`` (against the variants per class), the last two at one n; and
``fashion``: Fashion-MNIST cropped to 27×27, the stand-in for the paper's CIFAR-10 (not available
offline), where there are no latent classes and ``classes`` only sets the clusters per level.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

FAMILY = "hierarchical"
EXPERIMENTS = ("samples", "noise", "variants", "fashion")
SYNTHETIC = ("samples", "noise", "variants")  # the experiments on hierarchical digits
DATASET = "fashion_mnist"  # rule dataset's name of the real images
LEARNERS = ("layerwise", "onestep", "e2e", "fc")
CLUSTERING = ("layerwise", "onestep")  # the learners that cluster (and are measured on it)
LABELS = 10


def _allowed(name: str, value: Any, options: tuple[str, ...]) -> None:
    if value not in options:
        raise ValueError(f"{name} must be one of {', '.join(options)}, got {value!r}")


@dataclass(frozen=True)
class HierarchicalConfig:
    """Hyperparameters of one variant; every default is ours (a reconstruction: see the report
    for how the model's sizes were chosen)."""

    experiment: str = "samples"  # samples | noise | variants
    learner: str = "layerwise"  # layerwise | onestep | e2e | fc
    train_examples: int = 1000  # n
    test_examples: int = 2000
    # The generator (data.py): classes per level, lowest first, each with the empty class.
    # A list, not a tuple: run files store hparams as JSON, and they must read back equal.
    classes: list[int] = field(default_factory=lambda: [8, 8])
    layouts: int = 2  # layouts per label
    variants: int = 3  # 3×3 grids per non-empty class
    templates: int = 2  # pixel templates per non-empty lowest-level class
    noise: float = 0.2  # pixel noise σ (the report says how the defaults were chosen)
    distractors: float = 0.05  # a mark in an empty lowest-level cell with this probability
    grammar_seed: int = 0  # the model; the run seeds draw its samples
    width: int = 32  # channels of every convolution (and of each level's two-layer network)
    cluster_factor: int = 2  # k-means clusters per level: this × the level's classes
    kmeans_points: int = 20_000  # patch embeddings k-means is fitted on (at most)
    learning_rate: float = 1e-3  # Adam (layerwise levels and classifier, e2e, fc)
    onestep_learning_rate: float = 100.0  # onestep: the one full-batch gradient step
    batch_size: int = 64
    steps: int = 3_000  # per network (each level's, the classifier, e2e, fc)
    eval_every: int = 500

    def __post_init__(self) -> None:
        _allowed("experiment", self.experiment, EXPERIMENTS)
        _allowed("learner", self.learner, LEARNERS)
        object.__setattr__(self, "classes", [int(c) for c in self.classes])
        if len(self.classes) < 1 or min(self.classes) < 2:
            raise ValueError(
                f"classes must list at least one level, each with 2 or more classes (the empty "
                f"class and one more), got {list(self.classes)}"
            )
        for name in ("train_examples", "test_examples", "layouts", "variants", "templates"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        for name in ("width", "cluster_factor", "batch_size", "steps", "eval_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.noise < 0 or not 0 <= self.distractors <= 1:
            raise ValueError(
                f"noise must be ≥ 0 and distractors in [0, 1], got {self.noise}, {self.distractors}"
            )

    @property
    def side(self) -> int:
        """The images' side: 27 pixels for two levels of classes."""
        return 3 ** (len(self.classes) + 1)

    def clusters(self, level: int) -> int:
        """k-means clusters at ``level`` (0 the lowest)."""
        return self.cluster_factor * self.classes[level]


Config = HierarchicalConfig  # the name the workflow looks up in every family's spec


# --------------------------------------------------------------------------------------------
# Variants: the experiments of the config block.


def variant_name(experiment: str, learner: str, value: float) -> str:
    """``samples-e2e-n400``, ``noise-fc-s0.75``, ``variants-onestep-v2``, ``fashion-e2e-n5000``."""
    mark = {"samples": "n", "noise": "s", "variants": "v", "fashion": "n"}[experiment]
    return f"{experiment}-{learner}-{mark}{value:g}"


def experiment_axis(block: dict[str, Any], experiment: str) -> list[dict[str, Any]]:
    """The settings one experiment of the block sweeps: training-set sizes (``samples``), pixel
    noises or variants per class (each at its ``train_examples``)."""
    if experiment == "samples":
        return [{"train_examples": int(n)} for n in block["samples"]["sizes"]]
    if experiment == "fashion":
        # No latent classes: `classes` sets the clusters of each level, one per "class".
        clusters = [int(c) for c in block["fashion"]["clusters"]]
        return [
            {
                "train_examples": int(block["fashion"]["train_examples"]),
                "classes": clusters,
                "cluster_factor": 1,
            }
        ]
    size = {"train_examples": int(block[experiment]["train_examples"])}
    if experiment == "noise":
        return [{**size, "noise": float(s)} for s in block["noise"]["noises"]]
    return [{**size, "variants": int(v)} for v in block["variants"]["variants"]]


def swept(experiment: str) -> str:
    """The hyperparameter an experiment varies: the pixel noise, the variants per class, or
    (samples, fashion) the training-set size."""
    return {"noise": "noise", "variants": "variants"}.get(experiment, "train_examples")


def variants(block: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every trained setting: variant name → its axis values (the model's other sizes are the
    dataclass's, or the block's ``hparams``)."""
    named: dict[str, dict[str, Any]] = {}
    for experiment in EXPERIMENTS:
        for learner in block[experiment]["learners"]:
            for axis in experiment_axis(block, experiment):
                values = {**axis, "experiment": experiment, "learner": learner}
                named[variant_name(experiment, learner, axis[swept(experiment)])] = values
    return named


def datasets(hparams: dict[str, Any]) -> list[str]:
    """The datasets of rule ``dataset`` a variant reads: Fashion-MNIST for ``fashion``."""
    return [DATASET] if hparams.get("experiment") == "fashion" else []


def jobs(block: dict[str, Any]) -> dict[str, list[str]]:
    """Training jobs: every setting of one experiment and learner in one process (TensorFlow
    starts once for many small trainings)."""
    grouped: dict[str, list[str]] = {}
    for name, axis in variants(block).items():
        grouped.setdefault(f"{axis['experiment']}_{axis['learner']}", []).append(name)
    return grouped


MODEL = ("classes", "layouts", "variants", "templates", "noise", "distractors", "grammar_seed")


def model_sizes(resolved: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The model's sizes as the ``samples`` sweep draws it (the noise and variants sweeps change
    one of them): what the generation figure shows."""
    for hparams in resolved.values():
        if hparams["experiment"] == "samples":
            return {key: hparams[key] for key in MODEL}
    return {key: getattr(HierarchicalConfig(), key) for key in MODEL}


def check_config(block: dict[str, Any], resolved: dict[str, dict[str, Any]]) -> list[str]:
    """Problems the schema cannot see: the claims compare layerwise with e2e; Fashion-MNIST has
    only so many images in each split."""
    from theorydl.datasets import DATASETS  # the splits' sizes (no TensorFlow, no pandas)

    problems = []
    test_total = DATASETS[DATASET].test_total
    available = {
        "train_examples": sum(DATASETS[DATASET].counts) - test_total,
        "test_examples": test_total,
    }
    for name, hparams in resolved.items():
        if hparams["experiment"] != "fashion":
            continue
        for key, most in available.items():
            if hparams[key] > most:
                where = "fashion.train_examples" if key == "train_examples" else "hparams"
                problems.append(
                    f"config key 'hierarchical.{where}': variant {name} asks {hparams[key]} "
                    f"{key.split('_')[0]} images of {DATASET}, which has {most}. Allowed: at "
                    f"most {most}"
                )
    for experiment in ("samples", "fashion"):
        learners = block[experiment]["learners"]
        for needed in ("layerwise", "e2e"):
            if needed not in learners:
                problems.append(
                    f"config key 'hierarchical.{experiment}.learners': {learners} lacks "
                    f"{needed}. Allowed: lists with layerwise and e2e (the claims compare them)"
                )
    return problems


REPORT_CATEGORY = "Hierarchical models (2018, reconstructed)"  # its group in --report
_SETTING = ["experiment", "learner", "train_examples", "noise", "variants"]
# Tables (results/<scale>/tables/<name>.csv) with the columns claims may name; see analysis.py.
TABLES: dict[str, list[str]] = {
    # last_network_accuracy: layer-wise's top level two-layer network on its own, before that
    # level's clusters and the linear classifier (NaN for the other learners).
    "hierarchical_runs": [
        *_SETTING,
        "seed",
        "steps",
        "test_accuracy",
        "train_accuracy",
        "last_network_accuracy",
    ],
    "hierarchical_cluster_runs": [
        *_SETTING,
        "seed",
        "level",
        "embedding",
        "clusters",
        "nmi",
        "purity",
        "homogeneity",
    ],
    "hierarchical_accuracy": [
        *_SETTING,
        "repeats",
        "steps",
        "test_accuracy_mean",
        "test_accuracy_std",
        "train_accuracy_mean",
    ],
    "hierarchical_clusters": [
        *_SETTING,
        "level",
        "embedding",
        "clusters",
        "repeats",
        "nmi_mean",
        "nmi_std",
        "purity_mean",
        "homogeneity_mean",
        "homogeneity_min",
    ],
    "hierarchical_samples_needed": [
        "learner",
        "repeats",
        "steps",
        "threshold",
        "sizes",
        "samples_needed",
        "reached",
    ],
    "hierarchical_checks": [
        "learner",
        "repeats",
        "steps",
        "sizes",
        "largest_size",
        "max_gap_to_e2e_where_e2e_reaches",
        "max_lead_over_e2e_where_e2e_reaches",
        "max_shortfall_to_e2e",
        "min_nmi_margin_over_raw",
        "min_homogeneity",
        "fc_minus_needed",
    ],
    "hierarchical_fashion": [
        "learner",
        "train_examples",
        "repeats",
        "steps",
        "test_accuracy_mean",
        "test_accuracy_std",
        "train_accuracy_mean",
        "last_network_accuracy_mean",
        "gap_to_e2e",
        "lead_over_e2e",
    ],
}
CSV_ONLY = ("hierarchical_runs", "hierarchical_cluster_runs")
