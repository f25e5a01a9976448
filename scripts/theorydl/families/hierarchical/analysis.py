"""The hierarchical family's tables: accuracy and cluster agreement per run, over seeds, the
training-set size each learner needs, and the statistics the claims read (one row per learner).

Every claim of this family is a hypothesis of the reconstruction (no published number exists).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from theorydl import runs
from theorydl.families.hierarchical.spec import (
    CLUSTERING,
    LEARNERS,
    MODEL,
    SYNTHETIC,
    TABLES,
    HierarchicalConfig,
    swept,
)
from theorydl.tables import Reads, fmt, mean_std, write_table

# The checks table compares learners (layer-wise beside end-to-end, fc beside both): the
# learner does not narrow the variants a claim on it is charged.
TABLE_READS = {
    "hierarchical_checks": Reads({"experiment": "samples"}, theory=(), across=("learner",)),
    "hierarchical_fashion": Reads({"experiment": "fashion"}, theory=(), across=("learner",)),
}

THRESHOLD = 0.9  # the accuracy whose training-set size the learners are compared on
SETTING = ["experiment", "learner", "train_examples", "noise", "variants"]


def _last(run: runs.Run, metric: str) -> float:
    curve = run.curve("test", metric)
    return float(curve.iloc[-1]) if len(curve) else np.nan


def load_runs(
    run_dirs: list[Path], variants: Mapping[str, Mapping[str, Any]]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(one row per run: final accuracies; one row per run, level and embedding: how the
    clusters agree with the latent classes on the test images)."""
    accuracy, clusters = [], []
    for run, _, seed, hp in runs.read_runs(run_dirs, "hierarchical", variants):
        setting = {key: hp[key] for key in SETTING}
        steps = int(run.meta["steps_completed"])
        accuracy.append(
            {
                **setting,
                "seed": seed,
                "steps": steps,
                "test_accuracy": _last(run, "test_accuracy"),
                "train_accuracy": _last(run, "train_accuracy"),
                "last_network_accuracy": _last(run, f"test_accuracy@level{len(hp['classes']) - 1}"),
            }
        )
        if hp["learner"] not in CLUSTERING or hp["experiment"] not in SYNTHETIC:
            continue  # no clusters, or no latent classes to compare them with
        for level in range(len(hp["classes"])):
            for embedding, prefix in (("learned", ""), ("raw", "raw_")):
                scores = {
                    key: _last(run, f"{prefix}{key}@level{level}")
                    for key in ("nmi", "purity", "homogeneity")
                }
                clusters.append(
                    {
                        **setting,
                        "seed": seed,
                        "level": level,
                        "embedding": embedding,
                        "clusters": hp["cluster_factor"] * hp["classes"][level],
                        **scores,
                    }
                )
    accuracy_table = pd.DataFrame(accuracy, columns=TABLES["hierarchical_runs"])
    cluster_table = pd.DataFrame(clusters, columns=TABLES["hierarchical_cluster_runs"])
    return _ordered(accuracy_table, [*SETTING, "seed"]), _ordered(
        cluster_table, [*SETTING, "level", "embedding", "seed"]
    )


def _ordered(table: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    order = {name: i for i, name in enumerate(LEARNERS)}
    ordered = table.sort_values(keys, key=lambda c: c.map(order) if c.name == "learner" else c)
    return ordered.reset_index(drop=True)


def accuracy_summary(per_run: pd.DataFrame) -> pd.DataFrame:
    """Test accuracy per setting: mean and sample std over seeds, and the training accuracy."""
    grouped = per_run.groupby(SETTING, sort=False)
    table = grouped.agg(
        repeats=("seed", "size"),
        steps=("steps", "max"),
        test_accuracy_mean=("test_accuracy", "mean"),
        test_accuracy_std=("test_accuracy", "std"),
        train_accuracy_mean=("train_accuracy", "mean"),
    ).reset_index()
    return _ordered(table[TABLES["hierarchical_accuracy"]], SETTING)


def cluster_summary(per_run: pd.DataFrame) -> pd.DataFrame:
    """Agreement of the clusters with the latent classes per setting, level and embedding."""
    keys = [*SETTING, "level", "embedding", "clusters"]
    table = (
        per_run.groupby(keys, sort=False)
        .agg(
            repeats=("seed", "size"),
            nmi_mean=("nmi", "mean"),
            nmi_std=("nmi", "std"),
            purity_mean=("purity", "mean"),
            homogeneity_mean=("homogeneity", "mean"),
            homogeneity_min=("homogeneity", "min"),
        )
        .reset_index()
    )
    return _ordered(table[TABLES["hierarchical_clusters"]], keys)


def samples_needed(accuracy: pd.DataFrame, threshold: float = THRESHOLD) -> pd.DataFrame:
    """Per learner, the smallest training-set size of the ``samples`` sweep whose mean test
    accuracy reaches ``threshold``; censored (NaN, ``reached`` false) where none does."""
    rows = []
    sweep = accuracy[accuracy.experiment == "samples"]
    for learner, mine in sweep.groupby("learner", sort=False):
        mine = mine.sort_values("train_examples")
        hits = mine[mine.test_accuracy_mean >= threshold]
        rows.append(
            {
                "learner": learner,
                "repeats": int(mine.repeats.min()),
                "steps": int(mine.steps.max()),
                "threshold": threshold,
                "sizes": len(mine),
                "samples_needed": float(hits.train_examples.iloc[0]) if len(hits) else np.nan,
                "reached": bool(len(hits)),
            }
        )
    table = pd.DataFrame(rows, columns=TABLES["hierarchical_samples_needed"])
    return _ordered(table, ["learner"])


def _needed(needed: pd.DataFrame, learner: str) -> float:
    """A learner's samples needed, +∞ where it never reaches the threshold, NaN if not run."""
    row = needed[needed.learner == learner]
    if row.empty:
        return np.nan
    return float(row.samples_needed.iloc[0]) if row.reached.iloc[0] else np.inf


def checks(accuracy: pd.DataFrame, clusters: pd.DataFrame, needed: pd.DataFrame) -> pd.DataFrame:
    """What the claims read, one row per learner of the ``samples`` sweep:

    - ``max_gap_to_e2e_where_e2e_reaches``: the largest |mean accuracy − e2e's| over the sizes
      at which e2e's mean reaches the threshold (NaN for e2e, or where it never does), and
      ``max_lead_over_e2e_where_e2e_reaches`` the largest signed lead (mean − e2e's) there;
    - ``max_shortfall_to_e2e``: the largest (e2e's mean − this learner's) over every size;
    - ``min_nmi_margin_over_raw`` and ``min_homogeneity``: at the largest size, the smallest
      over levels of the clusters' NMI minus raw k-means' NMI, and of their homogeneity
      (clustering learners only);
    - ``fc_minus_needed``: the samples fc needs minus this learner's (+∞ where only fc never
      reaches the threshold; NaN where this learner never does).
    """
    sweep = accuracy[accuracy.experiment == "samples"]
    e2e = sweep[sweep.learner == "e2e"].set_index("train_examples").test_accuracy_mean
    reached = e2e[e2e >= THRESHOLD].index
    largest = sweep.train_examples.max() if len(sweep) else np.nan
    at_largest = clusters[(clusters.experiment == "samples") & (clusters.train_examples == largest)]
    rows = []
    for learner, mine in sweep.groupby("learner", sort=False):
        mine = mine.set_index("train_examples")
        gap = lead = shortfall = np.nan
        if learner != "e2e":
            difference = (mine.test_accuracy_mean - e2e).dropna()
            # + 0.0: a learner level with e2e everywhere falls short by 0, not by −0.
            shortfall = float(-difference.min()) + 0.0 if len(difference) else np.nan
            if len(reached):
                gap = float(difference.loc[reached].abs().max())
                lead = float(difference.loc[reached].max())
        margin = homogeneity = np.nan
        own = at_largest[at_largest.learner == learner]
        if len(own):
            by = own.pivot_table(index="level", columns="embedding", values="nmi_mean")
            margin = float((by["learned"] - by["raw"]).min())
            homogeneity = float(own[own.embedding == "learned"].homogeneity_mean.min())
        own_needed = _needed(needed, learner)
        fc_needed = _needed(needed, "fc")
        excess = fc_needed - own_needed if np.isfinite(own_needed) else np.nan
        rows.append(
            {
                "learner": learner,
                "repeats": int(mine.repeats.min()),
                "steps": int(mine.steps.max()),
                "sizes": len(mine),
                "largest_size": largest,
                "max_gap_to_e2e_where_e2e_reaches": gap,
                "max_lead_over_e2e_where_e2e_reaches": lead,
                "max_shortfall_to_e2e": shortfall,
                "min_nmi_margin_over_raw": margin,
                "min_homogeneity": homogeneity,
                "fc_minus_needed": excess,
            }
        )
    return _ordered(pd.DataFrame(rows, columns=TABLES["hierarchical_checks"]), ["learner"])


def fashion_summary(accuracy: pd.DataFrame, per_run: pd.DataFrame) -> pd.DataFrame:
    """Fashion-MNIST: test accuracy per learner, how far each is from the end-to-end CNN
    (``gap_to_e2e`` = |mean − e2e's mean|, ``lead_over_e2e`` = mean − e2e's mean), and, for
    layer-wise, its top level's two-layer network alone (what the last clustering loses)."""
    fashion_runs = per_run[per_run.experiment == "fashion"]
    rows = accuracy[accuracy.experiment == "fashion"].copy()
    last = fashion_runs.groupby("learner").last_network_accuracy.mean()
    rows["last_network_accuracy_mean"] = rows.learner.map(last)
    e2e = rows.loc[rows.learner == "e2e", "test_accuracy_mean"]
    reference = float(e2e.iloc[0]) if len(e2e) else np.nan
    rows["lead_over_e2e"] = np.where(
        rows.learner == "e2e", np.nan, rows.test_accuracy_mean - reference
    )
    rows["gap_to_e2e"] = rows.lead_over_e2e.abs()
    return _ordered(rows[TABLES["hierarchical_fashion"]], ["learner"])


def accuracy_display(summary: pd.DataFrame) -> pd.DataFrame:
    """The accuracy table for people: one row per setting, mean ± sd in percent."""
    return pd.DataFrame(
        {
            "experiment": summary.experiment,
            "value": [fmt(row[swept(row.experiment)]) for _, row in summary.iterrows()],
            "learner": summary.learner,
            "n": summary.train_examples.map(fmt),
            "seeds": summary.repeats,
            "test accuracy (%)": [
                mean_std(100 * np.array([m]), 1)
                if not np.isfinite(s)
                else f"{100 * m:.1f} ± {100 * s:.1f}"
                for m, s in zip(summary.test_accuracy_mean, summary.test_accuracy_std, strict=True)
            ],
            "train accuracy (%)": (100 * summary.train_accuracy_mean).map(lambda v: f"{v:.1f}"),
        }
    )


def cluster_display(summary: pd.DataFrame) -> pd.DataFrame:
    """The cluster table for people: the samples sweep, per learner, size, level, embedding."""
    rows = summary[summary.experiment == "samples"]
    return pd.DataFrame(
        {
            "learner": rows.learner,
            "n": rows.train_examples.map(fmt),
            "level": rows.level,
            "embedding": rows.embedding,
            "clusters": rows.clusters,
            "NMI": [
                f"{m:.2f} ± {s:.2f}" if np.isfinite(s) else f"{m:.2f}"
                for m, s in zip(rows.nmi_mean, rows.nmi_std, strict=True)
            ],
            "purity": rows.purity_mean.map(lambda v: f"{v:.2f}"),
            "homogeneity": rows.homogeneity_mean.map(lambda v: f"{v:.2f}"),
        }
    )


def needed_display(needed: pd.DataFrame, largest: float) -> pd.DataFrame:
    """Samples needed for people: '> n_max' where the learner never reaches the threshold."""
    return pd.DataFrame(
        {
            "learner": needed.learner,
            "seeds": needed.repeats,
            f"n to reach {100 * THRESHOLD:.0f} %": [
                fmt(n) if hit else f"> {fmt(largest)}"
                for n, hit in zip(needed.samples_needed, needed.reached, strict=True)
            ],
        }
    )


def aggregate(
    run_dirs: list[Path], variants: Mapping[str, Mapping[str, Any]], tables_dir: Path
) -> None:
    """Read every run; write every hierarchical table."""
    per_run, cluster_runs = load_runs(run_dirs, variants)
    write_table(tables_dir / "hierarchical_runs", per_run, human=False)
    write_table(tables_dir / "hierarchical_cluster_runs", cluster_runs, human=False)
    accuracy = accuracy_summary(per_run)
    write_table(
        tables_dir / "hierarchical_accuracy",
        accuracy,
        accuracy_display(accuracy),
        "Hierarchical digits (reconstructed): test accuracy per experiment, swept value and "
        "learner (mean ± sd over seeds)",
        long=True,
    )
    clusters = cluster_summary(cluster_runs)
    write_table(
        tables_dir / "hierarchical_clusters",
        clusters,
        cluster_display(clusters),
        "Hierarchical digits (reconstructed): agreement of the layer-wise clusters with the "
        "latent classes on the test images, per level, beside k-means on the raw pixels",
        long=True,
    )
    needed = samples_needed(accuracy)
    largest = float(accuracy[accuracy.experiment == "samples"].train_examples.max())
    write_table(
        tables_dir / "hierarchical_samples_needed",
        needed,
        needed_display(needed, largest),
        f"Hierarchical digits (reconstructed): the training-set size at which each learner's "
        f"mean test accuracy first reaches {100 * THRESHOLD:.0f} % (censored where it never does)",
    )
    fashion = fashion_summary(accuracy, per_run)
    write_table(
        tables_dir / "hierarchical_fashion",
        fashion,
        None,
        "Fashion-MNIST cropped to 27×27 (the stand-in for the paper's CIFAR-10): test accuracy "
        "per learner and its distance to the end-to-end CNN",
    )
    write_table(
        tables_dir / "hierarchical_checks",
        checks(accuracy, clusters, needed),
        None,
        "Hierarchical digits (reconstructed): what the claims read, per learner",
    )


def report_values(tables_dir: Path, block: Mapping[str, Any]) -> dict[str, Any]:
    """The numbers the report's hierarchical section quotes (keys ``hierarchical.*``)."""
    table = pd.read_csv(tables_dir / "hierarchical_checks.csv").set_index("learner")
    needed = pd.read_csv(tables_dir / "hierarchical_samples_needed.csv").set_index("learner")
    values: dict[str, Any] = {
        "hierarchical.seeds": len(block["seeds"]),
        "hierarchical.sizes": ", ".join(map(str, block["samples"]["sizes"])),
        "hierarchical.noises": ", ".join(fmt(s) for s in block["noise"]["noises"]),
        "hierarchical.variants": ", ".join(map(str, block["variants"]["variants"])),
        "hierarchical.sweep-examples": block["noise"]["train_examples"],
        "hierarchical.threshold": f"{100 * THRESHOLD:.0f}",
    }
    model = HierarchicalConfig(**block["hparams"])
    for key in MODEL:
        shown = getattr(model, key)
        shown = ", ".join(map(str, shown)) if isinstance(shown, list) else fmt(shown)
        values[f"hierarchical.model.{key.replace('_', '-')}"] = shown
    values["hierarchical.model.side"] = model.side
    values["hierarchical.model.cluster-factor"] = model.cluster_factor  # fashion sets its own
    clusters = pd.read_csv(tables_dir / "hierarchical_clusters.csv")
    # Raw k-means sees the same images in every clustering learner's runs: one learner's will do.
    raw = clusters[
        (clusters.experiment == "noise") & (clusters.level == 0) & (clusters.embedding == "raw")
    ]
    raw = raw[raw.learner == raw.learner.min()].set_index("noise")
    largest = float(raw.index.max()) if len(raw) else np.nan
    values["hierarchical.noise-largest"] = fmt(largest) if np.isfinite(largest) else "not run"
    for key, noise in (("default", model.noise), ("noisiest", largest)):
        found = raw.nmi_mean.get(noise, np.nan) if len(raw) else np.nan
        values[f"hierarchical.raw-nmi-{key}"] = (
            fmt(float(found), 2) if np.isfinite(found) else "not run"
        )
    accuracy = pd.read_csv(tables_dir / "hierarchical_accuracy.csv")
    noisiest = accuracy[(accuracy.experiment == "noise") & (accuracy.noise == largest)]
    for learner in LEARNERS:
        found = noisiest.loc[noisiest.learner == learner, "test_accuracy_mean"]
        shown = fmt(100 * float(found.iloc[0]), 3) if len(found) else "not run"
        values[f"hierarchical.noisiest.{learner}"] = shown
    fashion = pd.read_csv(tables_dir / "hierarchical_fashion.csv").set_index("learner")
    values["hierarchical.fashion.examples"] = fmt(block["fashion"]["train_examples"])
    values["hierarchical.fashion.clusters"] = ", ".join(map(str, block["fashion"]["clusters"]))
    for learner in LEARNERS:
        for column in (
            "test_accuracy_mean",
            "gap_to_e2e",
            "lead_over_e2e",
            "last_network_accuracy_mean",
        ):
            found = fashion.loc[learner, column] if learner in fashion.index else np.nan
            shown = fmt(100 * float(found), 3) if np.isfinite(found) else "n/a"
            values[f"hierarchical.fashion.{learner}.{column}".replace("_", "-")] = shown
    for learner in LEARNERS:
        for column, scale in (
            ("max_gap_to_e2e_where_e2e_reaches", 100),
            ("max_lead_over_e2e_where_e2e_reaches", 100),
            ("max_shortfall_to_e2e", 100),
            ("min_nmi_margin_over_raw", 1),
            ("min_homogeneity", 1),
        ):
            key = f"hierarchical.{learner}.{column}".replace("_", "-")
            found = table.loc[learner, column] if learner in table.index else np.nan
            values[key] = fmt(scale * float(found), 2) if np.isfinite(found) else "n/a"
        if learner in needed.index and needed.loc[learner, "reached"]:
            values[f"hierarchical.{learner}.needed"] = fmt(
                float(needed.loc[learner, "samples_needed"])
            )
        else:
            values[f"hierarchical.{learner}.needed"] = "never"
    return values
