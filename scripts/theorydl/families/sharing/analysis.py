"""Aggregation of the weight-sharing runs into tables.

Tables (``tables/<name>.{csv,md,tex}`` of a run), whose columns are what ``config/claims.yaml``
may name. "Final" always means the last evaluation, on the seed's fixed held-out set.

- ``sharing_runs``: one row per (variant, seed): the setting, the budget in epochs, the final
  normalised loss, the filters' alignment with the teacher's, and the share of the target's
  variance that its cos part carries;
- ``sharing_final_loss``: one row per variant: final loss over seeds (mean, std, median); its
  Markdown/LaTeX form is the issue's table, architectures side by side;
- ``sharing_paired``: one row per (setting, seed) with the final loss of every architecture side
  by side (the same seed means the same teacher and data for all of them), the best and the
  worst architecture (and the worse of shared and local), and the gap local − shared: what
  "every architecture" claims judge;
- ``sharing_mix_trend``: per seed, the gap local − shared across the C sweep: at the smallest and
  largest C, and its least-squares slope against log2 C;
- ``sharing_curves``: held-out loss and alignment per (variant, seed, epoch) for Figs 1 and 4;
- ``sharing_walsh_seeds``: per Walsh run and seed: the smallest final learned fraction over the
  degrees, the highest degree learned (fraction ≥ 0.5), how many degrees were learned, and
  ``order_violations``, how often a degree reached 0.5 before the degree below it;
- ``sharing_walsh_summary``: per Walsh setting and degree: learned fraction over seeds and the
  epochs it took to reach 0.5;
- ``sharing_walsh_trend``: per layout, architecture and seed: the highest degree learned at the
  smallest and at the largest d, and the drop between them (``degree_drop``);
- ``sharing_walsh_curves``: learned fraction per (setting, seed, epoch, degree) at the d drawn
  in Fig 3.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from theorydl import runs
from theorydl.families.sharing.spec import ARCHITECTURES, IMAGE_SIDE, SETTING, TABLES
from theorydl.tables import Reads, fmt, mean_std, write_table

# What the claims' tables are made of (theorydl.costs.claim_jobs): the C trend compares the mixed
# target's runs on Gaussian patches across every C; the Walsh tables read the Walsh runs alone
# (every variant has a layout, the Walsh ones alone use it).
TABLE_READS = {
    "sharing_mix_trend": Reads({"target": "mixed", "patches": "gaussian"}),
    "sharing_walsh_seeds": Reads({"target": "walsh"}),
    "sharing_walsh_trend": Reads({"target": "walsh"}),
}

__all__ = ["SETTING", "TABLES", "aggregate", "report_values"]

LEARNED = 0.5  # a character counts as learned once its fraction reaches one half


def first_epoch_at_least(curve: pd.Series, threshold: float) -> float:
    """First evaluated epoch whose value reaches ``threshold``; ∞ if none does."""
    hits = curve.index[curve.to_numpy() >= threshold]
    return float(hits[0]) if len(hits) else float("inf")


def _test_curves(run: runs.Run, steps_per_epoch: int) -> pd.DataFrame:
    """Held-out metrics of a run, one column per metric, indexed by epoch."""
    test = run.metrics[run.metrics.split == "test"]
    table = test.pivot(index="step", columns="metric", values="value").sort_index()
    table.index = table.index // steps_per_epoch
    table.index.name = "epoch"
    return table


def _setting(hparams: Mapping[str, Any]) -> dict[str, Any]:
    """The columns that describe a variant's setting (NaN where an axis does not apply)."""
    target = hparams["target"]
    return {
        "architecture": hparams["architecture"],
        "target": target,
        "g": hparams["g"],
        "patches": hparams["patches"],
        "omega": hparams["omega"] if target in ("high", "mixed") else np.nan,
        "mix": hparams["mix"] if target == "mixed" else np.nan,
        "layout": hparams["layout"] if target == "walsh" else "",
        "d": hparams["d"],
    }


def load_runs(
    run_dirs: list[Path],
    variants: Mapping[str, Mapping[str, Any]],
    curve_variants: set[str],
    walsh_curve_dim: int,
) -> dict[str, pd.DataFrame]:
    """Per-seed rows, loss curves and Walsh fractions of the given runs (each checked on
    reading)."""
    rows, curves, walsh_rows, walsh_curves = [], [], [], []
    for run, variant, seed, hparams in runs.read_runs(run_dirs, "sharing", variants):
        per_epoch = hparams["train_examples"] // hparams["batch_size"]
        table = _test_curves(run, per_epoch)
        setting = _setting(hparams)
        last = table.iloc[-1] if not run.diverged else pd.Series(np.nan, index=table.columns)
        arrays = run.arrays()
        rows.append(
            {
                "variant": variant,
                **setting,
                "optimizer": hparams["optimizer"],
                "learning_rate": hparams["learning_rate"],
                "epochs": hparams["epochs"],
                "seed": seed,
                "status": run.meta["status"],
                "final_loss": last["normalised_loss"],
                "alignment_first": last["alignment_first"],
                "alignment_rest": last["alignment_rest"],
                "wave_share": float(arrays["wave_share"]),
            }
        )
        if variant in curve_variants:
            curve = table[["normalised_loss", "alignment_first", "alignment_rest"]].reset_index()
            curves.append(curve.assign(variant=variant, seed=seed, **setting))
        if hparams["target"] == "walsh":
            fractions = table[[c for c in table.columns if c.startswith("fraction_")]]
            fractions.columns = [int(c.split("_")[1]) for c in fractions.columns]
            walsh_rows += [
                {
                    "layout": hparams["layout"],
                    "architecture": hparams["architecture"],
                    "d": hparams["d"],
                    "epochs": hparams["epochs"],
                    "seed": seed,
                    "degree": degree,
                    "fraction": np.nan if run.diverged else fractions[degree].iloc[-1],
                    "epochs_to_half": first_epoch_at_least(fractions[degree], LEARNED),
                    "final_loss": last["normalised_loss"],
                }
                for degree in fractions.columns
            ]
            if hparams["d"] == walsh_curve_dim:
                long = fractions.reset_index().melt(
                    id_vars="epoch", var_name="degree", value_name="fraction"
                )
                walsh_curves.append(
                    long.assign(
                        layout=hparams["layout"],
                        architecture=hparams["architecture"],
                        d=hparams["d"],
                        seed=seed,
                    )
                )
    per_seed = pd.DataFrame(rows, columns=TABLES["sharing_runs"])
    per_seed = per_seed.sort_values(["variant", "seed"]).reset_index(drop=True)
    empty = {name: pd.DataFrame(columns=TABLES[name]) for name in TABLES}
    return {
        "runs": per_seed,
        "curves": _concat(curves, TABLES["sharing_curves"], ["variant", "seed", "epoch"]),
        "walsh_degrees": pd.DataFrame(walsh_rows) if walsh_rows else empty["sharing_walsh_seeds"],
        "walsh_curves": _concat(
            walsh_curves,
            TABLES["sharing_walsh_curves"],
            ["layout", "architecture", "seed", "degree", "epoch"],
        ),
    }


def _concat(frames: list[pd.DataFrame], columns: list[str], order: list[str]) -> pd.DataFrame:
    if not frames:
        return pd.DataFrame(columns=columns)
    table = pd.concat(frames)[columns].sort_values(order, kind="stable")
    return table.reset_index(drop=True)


def _groups(table: pd.DataFrame, keys: list[str]):
    """groupby over keys that may hold NaN (an axis that does not apply), NaN kept."""
    return table.groupby(keys, dropna=False, sort=True)


def final_loss_table(per_seed: pd.DataFrame) -> pd.DataFrame:
    """One row per variant: final loss over seeds."""
    rows = []
    frequency = per_seed[per_seed.target != "walsh"]
    for variant, group in _groups(frequency, ["variant"]):
        first = group.iloc[0]
        rows.append(
            {
                "variant": variant[0],
                **{c: first[c] for c in ["architecture", *SETTING]},
                "epochs": int(group.epochs.min()),
                "n": len(group),
                "final_loss_mean": group.final_loss.mean(),
                "final_loss_std": group.final_loss.std(ddof=1),
                "final_loss_median": group.final_loss.median(),
                "wave_share": group.wave_share.mean(),
            }
        )
    return pd.DataFrame(rows, columns=TABLES["sharing_final_loss"])


def _setting_label(row: pd.Series) -> str:
    label = row.target
    if row.target in ("high", "mixed"):
        label += f", ω = {fmt(row.omega)}"
    if row.target == "mixed":
        label += f", C = {fmt(row.mix)}"
    return label


def _reading_order(table: pd.DataFrame) -> pd.DataFrame:
    """Gaussian before digit patches, g known before learned, targets low → high → mixed."""
    rank = {"gaussian": 0, "digits": 1, "known": 0, "learned": 1, "low": 0, "high": 1, "mixed": 2}
    keys = [c for c in ("patches", "g", "target", "omega", "mix") if c in table.columns]
    named = ("patches", "g", "target")
    return table.sort_values(keys, key=lambda c: c.map(rank) if c.name in named else c)


def final_loss_display(per_seed: pd.DataFrame) -> pd.DataFrame:
    """Architectures side by side: mean ± std of the final loss per target × g × patches."""
    frequency = _reading_order(per_seed[per_seed.target != "walsh"])
    rows = []
    for key, group in frequency.groupby(
        ["patches", "g", "target", "omega", "mix"], dropna=False, sort=False
    ):
        patches, g, *_ = key
        first = group.iloc[0]
        row = {
            "patches": patches,
            "g": g,
            "target": _setting_label(first),
            "epochs": fmt(group.epochs.min()),
            "seeds": group.seed.nunique(),
        }
        for arch in ARCHITECTURES:
            losses = group[group.architecture == arch].final_loss
            row[arch] = mean_std(losses) if len(losses) else "not run"
        row["cos part's share"] = f"{group.wave_share.mean():.2f}"
        rows.append(row)
    return pd.DataFrame(rows)


def paired_table(per_seed: pd.DataFrame) -> pd.DataFrame:
    """Per (setting, seed): the final loss of each architecture, best, worst and the gap."""
    frequency = per_seed[per_seed.target != "walsh"]
    rows = []
    for key, group in _groups(frequency, [*SETTING, "seed"]):
        losses = group.set_index("architecture").final_loss
        row = dict(zip([*SETTING, "seed"], key, strict=True))
        row["epochs"] = int(group.epochs.min())
        for arch in ARCHITECTURES:
            row[arch] = losses.get(arch, np.nan)
        run = losses.dropna()
        row["best"] = run.min() if len(run) else np.nan
        row["worst"] = run.max() if len(run) else np.nan
        row["worst_shared_local"] = float(np.max([row["shared"], row["local"]]))
        row["gap"] = row["local"] - row["shared"]
        rows.append(row)
    return pd.DataFrame(rows, columns=TABLES["sharing_paired"])


def mix_trend(paired: pd.DataFrame, mix_sweep: Mapping[str, Any]) -> pd.DataFrame:
    """Per (g, seed): how the gap local − shared changes across the C sweep (Gaussian patches)."""
    sweep = paired[
        (paired.target == "mixed")
        & (paired.patches == "gaussian")
        & np.isclose(paired.omega, mix_sweep["omega"])
        & paired.mix.isin(mix_sweep["mixes"])
        & paired.gap.notna()
    ]
    rows = []
    for (g, seed), group in _groups(sweep, ["g", "seed"]):
        group = group.sort_values("mix")
        if group.mix.nunique() < 2:
            continue
        slope = np.polyfit(np.log2(group.mix), group.gap, 1)[0]
        rows.append(
            {
                "g": g,
                "omega": mix_sweep["omega"],
                "epochs": int(group.epochs.min()),
                "seed": seed,
                "mixes": ", ".join(fmt(m) for m in group.mix),
                "gap_smallest_mix": group.gap.iloc[0],
                "gap_largest_mix": group.gap.iloc[-1],
                "gap_slope": slope,
            }
        )
    return pd.DataFrame(rows, columns=TABLES["sharing_mix_trend"])


def walsh_seeds(degrees: pd.DataFrame) -> pd.DataFrame:
    """Per Walsh run and seed: the smallest fraction, the degrees learned, their order."""
    rows = []
    keys = ["layout", "architecture", "d", "epochs", "seed"]
    for key, group in _groups(degrees, keys):
        group = group.sort_values("degree")
        learned = group[group.fraction >= LEARNED].degree
        reached = group.epochs_to_half.to_numpy()
        rows.append(
            {
                **dict(zip(keys, key, strict=True)),
                "final_loss": group.final_loss.iloc[0],
                "min_fraction": group.fraction.min(skipna=False),
                "highest_degree": int(learned.max()) if len(learned) else 0,
                "degrees_learned": len(learned),
                "degrees": len(group),
                "order_violations": int(np.sum(reached[1:] < reached[:-1])),
            }
        )
    return pd.DataFrame(rows, columns=TABLES["sharing_walsh_seeds"])


def walsh_summary(degrees: pd.DataFrame) -> pd.DataFrame:
    """Per Walsh setting and degree: the learned fraction over seeds, epochs to reach 0.5."""
    rows = []
    keys = ["layout", "architecture", "d", "epochs", "degree"]
    for key, group in _groups(degrees, keys):
        reached = np.isfinite(group.epochs_to_half)
        rows.append(
            {
                **dict(zip(keys, key, strict=True)),
                "n": len(group),
                "fraction_mean": group.fraction.mean(),
                "fraction_std": group.fraction.std(ddof=1),
                "reached_half": int(reached.sum()),
                "epochs_to_half_median": float(np.median(group.epochs_to_half)),
            }
        )
    return pd.DataFrame(rows, columns=TABLES["sharing_walsh_summary"])


def walsh_summary_display(degrees: pd.DataFrame, seeds: pd.DataFrame) -> pd.DataFrame:
    """Per Walsh setting: the learned fraction of each degree (mean ± std), highest degree."""
    rows = []
    order = degrees.assign(arch_rank=degrees.architecture.map(ARCHITECTURES.index))
    order = order.sort_values(["layout", "arch_rank", "d"], kind="stable")
    for (layout, arch, d), group in order.groupby(["layout", "architecture", "d"], sort=False):
        row = {"supports": layout, "architecture": arch, "d": d, "epochs": group.epochs.min()}
        for degree, by_degree in group.groupby("degree"):
            row[f"degree {degree}"] = mean_std(by_degree.fraction, 2)
        own = seeds[(seeds.layout == layout) & (seeds.architecture == arch) & (seeds.d == d)]
        row["highest learned (median)"] = fmt(float(own.highest_degree.median()))
        rows.append(row)
    return pd.DataFrame(rows)


def walsh_trend(seeds: pd.DataFrame) -> pd.DataFrame:
    """Per layout, architecture and seed: the highest degree learned at the extreme d's."""
    rows = []
    for (layout, arch, seed), group in _groups(seeds, ["layout", "architecture", "seed"]):
        group = group.sort_values("d")
        if group.d.nunique() < 2:
            continue
        rows.append(
            {
                "layout": layout,
                "architecture": arch,
                "epochs": int(group.epochs.min()),
                "seed": seed,
                "smallest_d": int(group.d.iloc[0]),
                "largest_d": int(group.d.iloc[-1]),
                "highest_at_smallest_d": int(group.highest_degree.iloc[0]),
                "highest_at_largest_d": int(group.highest_degree.iloc[-1]),
                "degree_drop": int(group.highest_degree.iloc[0] - group.highest_degree.iloc[-1]),
            }
        )
    return pd.DataFrame(rows, columns=TABLES["sharing_walsh_trend"])


def aggregate(
    run_dirs: list[Path],
    variants: Mapping[str, Mapping[str, Any]],
    tables_dir: Path,
    block: Mapping[str, Any],
    curve_variants: Collection[str],
) -> None:
    """Read the sharing runs; write all sharing tables (``curve_variants``: the variants of
    Figs 1 and 4, whose curves go to ``sharing_curves``)."""
    loaded = load_runs(run_dirs, variants, set(curve_variants), block["walsh"]["curve_dim"])
    per_seed = loaded["runs"]
    write_table(tables_dir / "sharing_runs", per_seed, None, "Weight sharing: one row per run")
    summary = final_loss_table(per_seed)
    write_table(
        tables_dir / "sharing_final_loss",
        summary,
        final_loss_display(per_seed),
        "Weight sharing: final normalised held-out loss (mean ± sd over seeds)",
    )
    paired = paired_table(per_seed)
    write_table(
        tables_dir / "sharing_paired", paired, None, "Weight sharing: architectures per seed"
    )
    write_table(
        tables_dir / "sharing_mix_trend",
        mix_trend(paired, block["mix_sweep"]),
        None,
        "Weight sharing: gap local − shared across C",
    )
    write_table(tables_dir / "sharing_curves", loaded["curves"], human=False)
    degrees = loaded["walsh_degrees"]
    seeds = (
        walsh_seeds(degrees)
        if len(degrees)
        else pd.DataFrame(columns=TABLES["sharing_walsh_seeds"])
    )
    write_table(tables_dir / "sharing_walsh_seeds", seeds, None, "Walsh view: one row per run")
    write_table(
        tables_dir / "sharing_walsh_summary",
        walsh_summary(degrees)
        if len(degrees)
        else pd.DataFrame(columns=TABLES["sharing_walsh_summary"]),
        walsh_summary_display(degrees, seeds) if len(degrees) else None,
        "Walsh view: learned fraction per degree (mean ± sd over seeds)",
    )
    write_table(
        tables_dir / "sharing_walsh_trend",
        walsh_trend(seeds),
        None,
        "Walsh view: highest degree learned at the smallest and largest d",
    )
    write_table(tables_dir / "sharing_walsh_curves", loaded["walsh_curves"], human=False)


def _select(table: pd.DataFrame, **where: Any) -> pd.DataFrame:
    """The rows whose columns equal the given values (floats compared with a tolerance)."""
    rows = table
    for key, value in where.items():
        same = np.isclose(rows[key], value) if isinstance(value, float) else rows[key] == value
        rows = rows[same]
    return rows


def _value(table: pd.DataFrame, column: str, **where: Any) -> float:
    rows = _select(table, **where)
    return float(rows[column].mean()) if len(rows) else float("nan")


def _count_below(table: pd.DataFrame, threshold: float, **where: Any) -> str:
    """How many of the selected runs end with a final loss below ``threshold``, as 'k of n'."""
    rows = _select(table, **where)
    return f"{int((rows.final_loss < threshold).sum())} of {len(rows)}" if len(rows) else "none"


def report_values(tables_dir: Path, block: Mapping[str, Any]) -> dict[str, Any]:
    """The numbers the report's sharing section quotes (keys ``sharing.*``), from the tables.

    Every key exists at every scale; a setting not run at this scale reads "not run".
    """
    per_seed = pd.read_csv(tables_dir / "sharing_runs.csv")
    seeds = pd.read_csv(tables_dir / "sharing_walsh_seeds.csv")
    curves = block["curves"]

    def shown(value: float, digits: int = 3) -> str:
        return "not run" if np.isnan(value) else f"{value:.{digits}f}"

    def budget(regime: str) -> str:
        rows = (
            per_seed[(per_seed.target == "walsh")]
            if regime == "walsh"
            else per_seed[(per_seed.target != "walsh") & (per_seed.g == regime)]
        )
        return ", ".join(fmt(e) for e in sorted(set(rows.epochs))) or "not run"

    mixed = {"target": "mixed", "patches": "gaussian", "omega": float(curves["omega"])}
    mixed["mix"] = float(curves["mix"])
    values: dict[str, Any] = {
        "sharing.seeds": len(block["seeds"]),
        "sharing.variants": per_seed.variant.nunique(),
        "sharing.architectures": ", ".join(block["architectures"]),
        "sharing.epochs.known": budget("known"),
        "sharing.epochs.learned": budget("learned"),
        "sharing.epochs.walsh": budget("walsh"),
        "sharing.curves.omega": fmt(curves["omega"]),
        "sharing.curves.mix": fmt(curves["mix"]),
        "sharing.omegas": ", ".join(fmt(w) for w in block["omega_sweep"]["omegas"]),
        "sharing.mixes": ", ".join(fmt(c) for c in block["mix_sweep"]["mixes"]),
        "sharing.mix-sweep.omega": fmt(block["mix_sweep"]["omega"]),
        "sharing.walsh.dims": "; ".join(
            f"{layout} {', '.join(map(str, dims))}"
            for layout, dims in block["walsh"]["dims"].items()
        ),
        "sharing.walsh.curve-dim": block["walsh"]["curve_dim"],
        "sharing.wave-share": shown(_value(per_seed, "wave_share", **mixed), 2),
    }
    for g in ("known", "learned"):
        for arch in ARCHITECTURES:
            values[f"sharing.mixed.{g}.{arch}"] = shown(
                _value(per_seed, "final_loss", g=g, architecture=arch, **mixed)
            )
            values[f"sharing.mixed.{g}.{arch}.alignment-rest"] = shown(
                _value(per_seed, "alignment_rest", g=g, architecture=arch, **mixed), 2
            )

    high = {"target": "high", "patches": "gaussian", "omega": float(curves["omega"])}
    for g in ("known", "learned"):
        for arch in ARCHITECTURES:
            # Seeds that learned the pure cos target after all (below the claim's 0.8).
            values[f"sharing.high.{g}.{arch}.escaped"] = _count_below(
                per_seed, 0.8, g=g, architecture=arch, **high
            )
    smallest = float(min(block["mix_sweep"]["mixes"]))
    values["sharing.mix-sweep.smallest"] = fmt(smallest)
    values["sharing.mix-sweep.smallest.shared-learned"] = _count_below(
        per_seed,
        0.1,
        target="mixed",
        patches="gaussian",
        g="known",
        architecture="shared",
        omega=float(block["mix_sweep"]["omega"]),
        mix=smallest,
    )
    for source in IMAGE_SIDE:  # every source has its keys, run or not
        window = block["natural"]["patches"].get(source)
        side = math.isqrt(window["d"]) if window else None
        values[f"sharing.natural.{source}.window"] = f"{side}×{side}" if window else "not run"
        values[f"sharing.natural.{source}.stride"] = window["patch_stride"] if window else "not run"
        natural = {"patches": source, "g": "known", "target": "mixed"}
        for arch in ARCHITECTURES:
            values[f"sharing.natural.{source}.mixed.{arch}"] = shown(
                _value(per_seed, "final_loss", architecture=arch, **natural)
            )
    for layout in ("disjoint", "nested"):
        for arch in ARCHITECTURES:
            own = seeds[(seeds.layout == layout) & (seeds.architecture == arch)]
            # At Fig 3's d, and at d = 10, the patch dimension of the reference's own check.
            for label, d in (("", block["walsh"]["curve_dim"]), (".d10", 10)):
                at = own[own.d == d]
                key = f"sharing.walsh.{layout}.{arch}.highest{label}"
                values[key] = fmt(float(at.highest_degree.median())) if len(at) else "not run"
                values[f"sharing.walsh.{layout}.{arch}.learned-all{label}"] = (
                    f"{int((at.degrees_learned == at.degrees).sum())} of {len(at)}"
                    if len(at)
                    else "not run"
                )
    return values
