"""Aggregation of the piecewise-linear curve runs and of the conditioning computation.

Tables (``tables/<name>.{csv,md,tex}`` of a run), whose columns are what ``config/claims.yaml``
may name:

- ``curves_seed_errors``: one row per (learner, seed, snapshot step): the decoded validation
  curves' relative RMS and relative max error (each a fraction of the curve's range), averaged
  over the validation curves; ``last`` marks the run's last snapshot;
- ``curves_errors``: one row per (learner, snapshot step): those errors, mean and sd over all
  validation curves of all seeds (the error table of Fig 6);
- ``curves_fig6`` (CSV only): Fig 6's data, the two drawn validation curves and their decodings;
- ``curves_fig6_errors``: the errors of those two curves, beside the paper's digitized ones;
- ``curves_progress`` (CSV only): validation errors against steps, per learner and seed;
- ``curves_conditioning``: condition numbers against n (cond(WᵀW); the 3-tap rows' covariance,
  before and after whitening, per curve distribution and sampling seed);
- ``curves_conditioning_fit``: their log-log slopes in n, over all n and over the larger half;
- ``curves_theorem3``: W's extreme singular values and Theorem 3's lower bound on GD steps;
- ``curves_precision``: per learner of ``float64_learners``, seed and precision, its validation
  error over the second half of its run: how often it is not exact, its median and its largest
  (float32 against float64, the same run otherwise).

Every table but the last reads the float32 runs alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from theorydl import runs
from theorydl.families.curves.spec import DTYPES, TABLES
from theorydl.families.curves.theory import loglog_slope, relative_errors
from theorydl.tables import Raw, Reads, fmt, write_table

# What the claims' tables are made of (theorydl.costs.claim_jobs): the per-seed errors read
# the training runs alone; the conditioning fit the conditioning job alone.
TABLE_READS = {
    "curves_seed_errors": Reads(variants={"dtype": "float32"}, theory=()),
    "curves_conditioning_fit": Reads(variants=None, theory=("conditioning",)),
}

__all__ = [
    "EXACT",
    "LEARNER_LABELS",
    "PAPER_CURVES",
    "QUANTITY_LABELS",
    "TABLES",
    "aggregate",
    "report_values",
]

# Fig 6's rows, in the paper's order.
LEARNER_LABELS = {
    "fc": "(a) fully connected",
    "conv": "(b) convolutional",
    "conv_whitened": "(c) conv. + whitening",
    "autoencoder": "(d) auto-encoder",
}
# The two curves of Fig 6 as digitized from the paper: kinks at x and segment slopes (slope 0
# before the first kink). The figure draws the validation curves most like them.
PAPER_CURVES = {
    "A": {"kinks": (37, 46, 75), "slopes": (1.0, -1.0, 1.0)},
    "B": {"kinks": (11, 51, 53), "slopes": (1.0, -2.0, 1.0)},
}
# Fig 6's errors digitized from the paper (relative RMS, relative max) per learner, curve, step.
PAPER_FIG6_ERRORS = {
    ("fc", "A"): {500: (0.023, 0.088), 10_000: (0.008, 0.036), 50_000: (0.023, 0.051)},
    ("fc", "B"): {500: (0.028, 0.068), 10_000: (0.046, 0.076), 50_000: (0.065, 0.144)},
    ("conv", "A"): {500: (0.224, 0.589), 10_000: (0.031, 0.084), 50_000: (0.001, 0.002)},
    ("conv", "B"): {500: (0.350, 0.631), 10_000: (0.132, 0.322), 50_000: (0.004, 0.010)},
    ("conv_whitened", "A"): {500: (0.0, 0.0), 10_000: (0.0, 0.0), 50_000: (0.0, 0.0)},
    ("conv_whitened", "B"): {500: (0.0, 0.0), 10_000: (0.0, 0.001), 50_000: (0.0, 0.001)},
    ("autoencoder", "A"): {500: (0.174, 0.388), 10_000: (0.139, 0.335), 50_000: (0.064, 0.183)},
    ("autoencoder", "B"): {500: (0.022, 0.050), 10_000: (0.020, 0.048), 50_000: (0.015, 0.043)},
}
# Plain text: these reach LaTeX tables, whose escaping knows only a few Unicode symbols.
QUANTITY_LABELS = {
    "fc_gram": "fully connected, cond(W^T W)",
    "conv_covariance": "3-tap rows, cond(C)",
    "conv_whitened": "3-tap rows whitened",
}
EXACT = 0.01  # relative RMS below which a decoded curve counts as exact (the claims' line)
THEORY_SLOPES = {"fc_gram": 4.0, "conv_covariance": 3.0, "conv_whitened": 0.0}


def ordered(frame: pd.DataFrame, *more: str) -> pd.DataFrame:
    """Rows in Fig 6's learner order, then by ``more``."""
    rank = {name: i for i, name in enumerate(LEARNER_LABELS)}
    frame = frame.assign(_rank=frame.learner.map(rank))
    return frame.sort_values(["_rank", *more]).drop(columns="_rank").reset_index(drop=True)


def snapshot_steps(arrays: Mapping[str, np.ndarray]) -> list[int]:
    """The steps at which a run kept its decoded validation curves."""
    return sorted(int(name.split("@")[1]) for name in arrays if name.startswith("decoded@"))


def kink_signature(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where one curve's kinks are (as x positions of the drawn curve) and its segment slopes.

    p_θ ≠ 0 starts a slope change at x = θ − 1, because W_ij = [i − j + 1]_+ is 0 at i = j − 1.
    """
    thetas = np.flatnonzero(p)
    return thetas - 1, np.cumsum(p[thetas])


def paper_like_curves(validation_p: np.ndarray) -> dict[str, int]:
    """For each of Fig 6's curves, the index of the validation curve most like it: the same
    segment slopes (when the distribution has such patterns) and the nearest kinks."""
    chosen = {}
    for name, target in PAPER_CURVES.items():
        best, best_score = 0, np.inf
        for index, p in enumerate(validation_p):
            kinks, slopes = kink_signature(p)
            if len(kinks) != len(target["kinks"]):
                continue
            score = np.abs(kinks - np.array(target["kinks"])).sum()
            if not np.allclose(slopes, target["slopes"]):
                score += 10_000  # another slope pattern: only if no curve has the paper's
            if score < best_score:
                best, best_score = index, score
        chosen[name] = best
    return chosen


def read_runs(
    run_dirs: list[Path], variants: Mapping[str, Mapping[str, Any]]
) -> dict[str, dict[int, tuple[runs.Run, dict[str, np.ndarray]]]]:
    """learner → seed → (run, its arrays), every run checked against the config."""
    loaded: dict[str, dict[int, tuple[runs.Run, dict[str, np.ndarray]]]] = {}
    for run, variant, seed, _ in runs.read_runs(run_dirs, "curves", variants):
        loaded.setdefault(variant, {})[seed] = (run, run.arrays())
    return loaded


def error_tables(loaded: Mapping) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per (learner, seed, step) mean errors over the validation curves, and per (learner,
    step) mean and sd over all curves of all seeds."""
    per_seed, summary = [], []
    for learner, seeds in loaded.items():
        per_curve: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {}
        for seed, (run, arrays) in seeds.items():
            steps = snapshot_steps(arrays)
            for step in steps:
                rms, largest = relative_errors(arrays["validation_f"], arrays[f"decoded@{step}"])
                if run.diverged:  # a diverged seed's later snapshots hold no usable curve
                    rms, largest = np.full_like(rms, np.nan), np.full_like(largest, np.nan)
                per_curve.setdefault(step, []).append((rms, largest))
                per_seed.append(
                    {
                        "learner": learner,
                        "seed": seed,
                        "distribution": run.meta["hparams"]["distribution"],
                        "n": int(run.meta["hparams"]["n"]),
                        "step": step,
                        "budget": int(run.meta["hparams"]["steps"]),
                        "last": step == steps[-1],
                        "status": run.meta["status"],
                        "relative_rms": float(np.mean(rms)),
                        "relative_max": float(np.mean(largest)),
                    }
                )
        for step, parts in per_curve.items():
            rms = np.concatenate([r for r, _ in parts])
            largest = np.concatenate([m for _, m in parts])
            summary.append(
                {
                    "learner": learner,
                    "step": step,
                    "seeds": len(parts),
                    "curves": int(np.isfinite(rms).sum()),
                    "relative_rms_mean": np.nanmean(rms),
                    "relative_rms_std": np.nanstd(rms, ddof=1),
                    "relative_max_mean": np.nanmean(largest),
                    "relative_max_std": np.nanstd(largest, ddof=1),
                }
            )
    per_seed = pd.DataFrame(per_seed, columns=TABLES["curves_seed_errors"])
    summary = pd.DataFrame(summary, columns=TABLES["curves_errors"])
    return ordered(per_seed, "seed", "step"), ordered(summary, "step")


def progress_table(loaded: Mapping) -> pd.DataFrame:
    """Validation errors at every evaluation, per learner and seed (the learning curves)."""
    frames = []
    for learner, seeds in loaded.items():
        for seed, (run, _) in seeds.items():
            test = run.metrics[run.metrics.split == "test"]
            wide = test.pivot(index="step", columns="metric", values="value").reset_index()
            frames.append(wide.assign(learner=learner, seed=seed))
    table = pd.concat(frames).reindex(columns=TABLES["curves_progress"])
    return ordered(table, "seed", "step")


def figure6_tables(loaded: Mapping, figure_seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Fig 6's data (the two paper-like validation curves of ``figure_seed``, decoded by every
    learner at every snapshot) and those curves' errors beside the paper's."""
    curves_rows, error_rows = [], []
    for learner, seeds in loaded.items():
        _, arrays = seeds[figure_seed]
        chosen = paper_like_curves(arrays["validation_p"])
        for name, index in chosen.items():
            original = arrays["validation_f"][index]
            for step in snapshot_steps(arrays):
                decoded = arrays[f"decoded@{step}"][index]
                rms, largest = relative_errors(original, decoded)
                paper = PAPER_FIG6_ERRORS.get((learner, name), {}).get(step, (np.nan, np.nan))
                error_rows.append(
                    {
                        "learner": learner,
                        "curve": name,
                        "index": index,
                        "step": step,
                        "relative_rms": float(rms),
                        "relative_max": float(largest),
                        "paper_relative_rms": paper[0],
                        "paper_relative_max": paper[1],
                    }
                )
                curves_rows.append(
                    pd.DataFrame(
                        {
                            "learner": learner,
                            "curve": name,
                            "index": index,
                            "step": step,
                            "x": np.arange(len(original)),
                            "original": original,
                            "decoded": decoded,
                        }
                    )
                )
    figure = ordered(pd.concat(curves_rows), "curve", "step", "x")
    errors = ordered(pd.DataFrame(error_rows, columns=TABLES["curves_fig6_errors"]), "curve")
    return figure[TABLES["curves_fig6"]], errors


def conditioning_fit(conditioning: pd.DataFrame) -> pd.DataFrame:
    """Log-log slope of each condition number in n, per (quantity, distribution, sample seed):
    over every n, and over the larger half of the n's (the asymptotic regime)."""
    rows = []
    keys = ["quantity", "distribution", "sample_seed"]
    for (quantity, distribution, seed), group in conditioning.groupby(keys, dropna=False):
        group = group.sort_values("n")
        slope, intercept = loglog_slope(group.n.to_numpy(), group.condition_number.to_numpy())
        upper = group[group.n >= group.n.median()]
        rows.append(
            {
                "quantity": quantity,
                "distribution": distribution,
                "sample_seed": seed,
                "slope": slope,
                "intercept": intercept,
                "slope_upper_half": loglog_slope(
                    upper.n.to_numpy(), upper.condition_number.to_numpy()
                )[0],
                "n_min": int(group.n.min()),
                "n_max": int(group.n.max()),
            }
        )
    order = {name: i for i, name in enumerate(QUANTITY_LABELS)}
    fit = pd.DataFrame(rows, columns=TABLES["curves_conditioning_fit"])
    fit = fit.assign(_rank=fit.quantity.map(order)).sort_values(["_rank", "distribution"])
    return fit.drop(columns="_rank").reset_index(drop=True)


def second_half(evaluations: pd.DataFrame, budget: float) -> pd.DataFrame:
    """The evaluations (rows with a ``step``) of the second half of a run of ``budget`` steps:
    where a learner that has converged should stay put."""
    return evaluations[evaluations.step > budget / 2]


def late_errors(run: runs.Run) -> pd.Series:
    """A run's validation relative RMS (mean over its curves) at each evaluation of the second
    half of its budget, by step."""
    test = run.metrics[(run.metrics.split == "test") & (run.metrics.metric == "relative_rms")]
    return second_half(test, run.meta["hparams"]["steps"]).set_index("step").value


def precision_table(loaded: Mapping, variants: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """For each learner trained in float64 too, per seed and dtype: the second half of the run
    (evaluations, how many are not exact, the median and the largest relative RMS)."""
    twins = {v: h["learner"] for v, h in variants.items() if h["dtype"] == "float64"}
    rows = []
    for twin, learner in twins.items():
        for variant in (learner, twin):
            for seed, (run, _) in sorted(loaded.get(variant, {}).items()):
                late = late_errors(run)
                rows.append(
                    {
                        "learner": learner,
                        "dtype": variants[variant]["dtype"],
                        "seed": seed,
                        "evaluations": len(late),
                        "unstable": int((late >= EXACT).sum()),
                        "median_rms": float(late.median()),
                        "largest_rms": float(late.max()),
                    }
                )
    return ordered(pd.DataFrame(rows, columns=TABLES["curves_precision"]), "dtype", "seed")


# ---- tables as people read them ------------------------------------------------------------


def _sci(value: float) -> str:
    """Two significant digits, readable from 1e-7 to 1."""
    if not np.isfinite(value):
        return "—"
    return f"{value:.2g}" if value >= 1e-3 or value == 0 else f"{value:.1e}"


def errors_display(summary: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "learner": summary.learner.map(LEARNER_LABELS),
            "step": summary.step.map(fmt),
            "seeds × curves": [
                f"{s} × {c // max(s, 1)}"
                for s, c in zip(summary.seeds, summary.curves, strict=True)
            ],
            "relative RMS": [
                f"{_sci(m)} ± {_sci(s)}"
                for m, s in zip(summary.relative_rms_mean, summary.relative_rms_std, strict=True)
            ],
            "relative max": [
                f"{_sci(m)} ± {_sci(s)}"
                for m, s in zip(summary.relative_max_mean, summary.relative_max_std, strict=True)
            ],
        }
    )


def fig6_errors_display(errors: pd.DataFrame) -> pd.DataFrame:
    """Two rows per learner (ours, the paper's digitized values), one column per (curve, step),
    each cell 'relative RMS / relative max'."""

    def pair(rms: float, largest: float) -> str:
        return "—" if not np.isfinite(rms) else f"{rms:.3f} / {largest:.3f}"

    rows = []
    for learner, group in errors.groupby("learner", sort=False):
        ours = {"learner": LEARNER_LABELS[learner], "source": "this run"}
        paper = {"learner": "", "source": "paper"}
        for item in group.itertuples():
            column = f"{item.curve} @ {fmt(item.step)}"
            ours[column] = pair(item.relative_rms, item.relative_max)
            paper[column] = pair(item.paper_relative_rms, item.paper_relative_max)
        rows += [ours, paper]
    return pd.DataFrame(rows).fillna("not run")


def fit_display(fit: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for (quantity, distribution), group in fit.groupby(["quantity", "distribution"], sort=False):
        spread = f" ({group.slope.min():.2f} to {group.slope.max():.2f})" if len(group) > 1 else ""
        rows.append(
            {
                "condition number": QUANTITY_LABELS[quantity],
                "curves": distribution,
                "samples": len(group),
                "n": f"{group.n_min.min()}–{group.n_max.max()}",
                "slope (median)": f"{group.slope.median():.2f}{spread}",
                "slope, larger half of n": f"{group.slope_upper_half.median():.2f}",
                "theory": f"{THEORY_SLOPES[quantity]:g}",
            }
        )
    return pd.DataFrame(rows)


def precision_display(table: pd.DataFrame) -> pd.DataFrame:
    """A row per learner and dtype, the seeds together."""
    rows = []
    for (learner, dtype), group in table.groupby(["learner", "dtype"], sort=False):
        rows.append(
            {
                "learner": LEARNER_LABELS[learner],
                "dtype": dtype,
                "seeds": len(group),
                f"evaluations with relative RMS ≥ {EXACT:g}": (
                    f"{group.unstable.sum()} of {group.evaluations.sum()}"
                ),
                "median relative RMS (per seed)": ", ".join(map(_sci, group.median_rms)),
                "largest relative RMS": _sci(group.largest_rms.max()),
            }
        )
    return pd.DataFrame(rows)


def theorem3_display(table: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "n": table.n,
            "S11": table.s_max.map(lambda v: f"{v:.4g}"),
            "Snn": table.s_min.map(lambda v: f"{v:.4f}"),
            "cond(W)": table.cond_w.map(lambda v: f"{v:.3g}"),
            "cond(W^T W)": table.cond_gram.map(lambda v: f"{v:.3g}"),
            "GD steps needed (>)": table.steps_bound.map(lambda v: f"{v:.2g}"),
        }
    )


def aggregate(
    run_dirs: list[Path],
    variants: Mapping[str, Mapping[str, Any]],
    figure_seed: int,
    conditioning_csv: Path,
    theorem3_csv: Path,
    tables_dir: Path,
) -> None:
    """Read the curve runs and the conditioning results; write every curves table."""
    everything = read_runs(run_dirs, variants)
    loaded = {v: r for v, r in everything.items() if variants[v]["dtype"] == "float32"}
    per_seed, summary = error_tables(loaded)
    write_table(
        tables_dir / "curves_seed_errors",
        per_seed,
        None,
        "Curves: decoded validation curves' errors per learner, seed and snapshot",
    )
    write_table(
        tables_dir / "curves_errors",
        summary,
        errors_display(summary),
        "Curves: relative errors of the decoded validation curves, over curves and seeds",
    )
    figure, fig_errors = figure6_tables(loaded, figure_seed)
    write_table(tables_dir / "curves_fig6", figure, human=False)
    write_table(
        tables_dir / "curves_fig6_errors",
        fig_errors,
        fig6_errors_display(fig_errors),
        "Curves: Fig 6's two curves, relative RMS/max error, ours (paper)",
    )
    write_table(tables_dir / "curves_progress", progress_table(loaded), human=False)
    conditioning = pd.read_csv(conditioning_csv)
    conditioning["distribution"] = conditioning.distribution.fillna("exact")
    write_table(tables_dir / "curves_conditioning", conditioning, human=False)
    fit = conditioning_fit(conditioning)
    write_table(
        tables_dir / "curves_conditioning_fit",
        fit,
        fit_display(fit),
        "Curves: log-log slopes of the condition numbers in n",
    )
    precision = precision_table(everything, variants)
    write_table(
        tables_dir / "curves_precision",
        precision,
        precision_display(precision),
        "Curves: the second half of a run in float32 and in float64 (validation relative RMS)",
    )
    theorem3 = pd.read_csv(theorem3_csv)[TABLES["curves_theorem3"]]
    write_table(
        tables_dir / "curves_theorem3",
        theorem3,
        theorem3_display(theorem3),
        "Theorem 3: singular values of W and the GD steps the fully connected learner needs",
    )


# ---- the report's numbers ------------------------------------------------------------------


def _power_of_ten(value: float) -> Raw:
    mantissa, exponent = f"{value:.1e}".split("e")
    return Raw(rf"\ensuremath{{{mantissa}\times10^{{{int(exponent)}}}}}")


def _unstable_share(progress: pd.DataFrame, per_seed: pd.DataFrame, learner: str) -> str:
    """At how many evaluations of the second half of a learner's run (all seeds together) its
    decoded curves are not exact (relative RMS ≥ 1e-2): Adam at a constant rate does not stay
    at the optimum it found."""
    budget = per_seed[per_seed.learner == learner].budget
    if budget.empty:
        return "not run"
    late = second_half(progress[progress.learner == learner], budget.max())
    return f"{int((late.relative_rms >= EXACT).sum())} of {len(late)}"


def _precision_values(precision: pd.DataFrame) -> dict[str, str]:
    """Per learner and dtype of the precision table: the median over seeds of each seed's
    median late error, the largest, and for float64 how many late evaluations are not exact
    ('not run' where the config has no float64 twin of the learner)."""
    values = {}
    for learner in LEARNER_LABELS:
        for dtype in DTYPES:
            rows = precision[(precision.learner == learner) & (precision.dtype == dtype)]
            key = f"curves.{learner.replace('_', '-')}.{dtype}"
            if rows.empty:
                values[f"{key}.median"] = values[f"{key}.largest"] = "not run"
            else:
                values[f"{key}.median"] = _sci(rows.median_rms.median())
                values[f"{key}.largest"] = _sci(rows.largest_rms.max())
            if dtype == "float64":  # float32's count is <learner>.unstable, from every learner
                unstable = f"{rows.unstable.sum()} of {rows.evaluations.sum()}"
                values[f"{key}.unstable"] = unstable if len(rows) else "not run"
    return values


def report_values(tables_dir: Path, block: Mapping[str, Any]) -> dict[str, Any]:
    """The numbers the report's curves section quotes (keys ``curves.*``), from the tables.

    Every key exists at every scale: per learner, its budget and its errors at its first and
    last snapshot ('not run' for a learner this configuration leaves out).
    """
    per_seed = pd.read_csv(tables_dir / "curves_seed_errors.csv")
    fig_errors = pd.read_csv(tables_dir / "curves_fig6_errors.csv")
    fit = pd.read_csv(tables_dir / "curves_conditioning_fit.csv")
    progress = pd.read_csv(tables_dir / "curves_progress.csv")
    theorem3 = pd.read_csv(tables_dir / "curves_theorem3.csv")
    values: dict[str, Any] = {
        "curves.seeds": len(block["seeds"]),
        "curves.figure-seed": block["figure_seed"],
        "curves.distribution": ", ".join(sorted(per_seed.distribution.unique())),
        "curves.n": ", ".join(map(str, sorted(per_seed.n.unique()))),
    }
    for learner in LEARNER_LABELS:
        rows = per_seed[per_seed.learner == learner]
        key = f"curves.{learner.replace('_', '-')}"
        if rows.empty:
            for part in ("budget", "first-step", "last-step", "first-rms", "last-rms", "last-max"):
                values[f"{key}.{part}"] = "not run"
            continue
        first = rows[rows.step == rows.step.min()]
        last = rows[rows.last]
        values[f"{key}.budget"] = fmt(rows.budget.max())
        values[f"{key}.first-step"] = fmt(first.step.iloc[0])
        values[f"{key}.last-step"] = fmt(last.step.max())
        values[f"{key}.first-rms"] = _sci(float(first.relative_rms.median()))
        values[f"{key}.last-rms"] = _sci(float(last.relative_rms.median()))
        values[f"{key}.last-max"] = _sci(float(last.relative_max.median()))
    steps = sorted(per_seed.step.unique())
    values["curves.snapshot-steps"] = ", ".join(fmt(s) for s in steps)
    for name in PAPER_CURVES:
        index = fig_errors[fig_errors.curve == name]["index"]
        values[f"curves.figure-curve-{name.lower()}"] = int(index.iloc[0]) if len(index) else "—"
    for (quantity, distribution), group in fit.groupby(["quantity", "distribution"]):
        key = f"curves.slope.{quantity.replace('_', '-')}"
        key += "" if distribution == "exact" else f".{distribution}"
        values[key] = f"{group.slope.median():.2f}"
        values[f"{key}.upper"] = f"{group.slope_upper_half.median():.2f}"
    for quantity in ("conv-covariance", "conv-whitened"):
        for distribution in ("code", "paper"):
            for suffix in ("", ".upper"):
                values.setdefault(f"curves.slope.{quantity}.{distribution}{suffix}", "not run")
    values["curves.dims"] = f"{int(fit.n_min.min())}–{int(fit.n_max.max())}"
    for learner in ("conv", "conv_whitened"):
        key = f"curves.{learner.replace('_', '-')}.unstable"
        values[key] = _unstable_share(progress, per_seed, learner)
    values.update(_precision_values(pd.read_csv(tables_dir / "curves_precision.csv")))
    whitened = fit[fit.quantity == "conv_whitened"]
    values["curves.whitened-slope-largest"] = (
        f"{whitened.slope.abs().max():.3f}" if len(whitened) else "not run"
    )
    row = theorem3[theorem3.trained].iloc[0]  # the conditioning rule always adds the trained n
    values["curves.theorem3.n"] = int(row.n)
    values["curves.theorem3.cond-w"] = fmt(round(row.cond_w))
    values["curves.theorem3.cond-gram"] = _power_of_ten(row.cond_gram)
    values["curves.theorem3.steps"] = _power_of_ten(row.steps_bound)
    return values
