"""Writing aggregated tables as CSV (full precision, for code), Markdown and LaTeX (for people).

No templating library: a booktabs table and a pipe table are a few lines each, and the output
stays byte-stable across pandas versions.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from theorydl.runs import atomic_write_text

_TEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
_TEX_SYMBOLS = {
    "±": r"$\pm$",
    "≤": r"$\le$",
    "≥": r"$\ge$",
    "×": r"$\times$",
    "≈": r"$\approx$",
    "−": "-",
    "²": r"$^2$",
    "⁻": r"$^{-}$",
    "∞": r"$\infty$",
    "ω": r"$\omega$",
    "α": r"$\alpha$",
    "θ": r"$\theta$",
    "′": r"$'$",
    "≠": r"$\ne$",
    "→": r"$\to$",
    "‖": r"$\|$",
    "σ": r"$\sigma$",
    "Σ": r"$\Sigma$",
    "…": r"\ldots{}",
}


@dataclass(frozen=True)
class Reads:
    """What a table is computed from, so that a claim that reads it is charged the jobs behind
    it (``theorydl.costs.claim_jobs``). A family's analysis declares this in ``TABLE_READS``
    for a table whose rows do not simply come from the variants a claim's ``where`` names.

    - ``variants``: the hyperparameters a variant must have to feed the table (``None``: the
      table reads no trained run, only theory jobs);
    - ``theory``: the theory jobs it reads, by name or name prefix (``None``: every theory job
      of the family);
    - ``across``: ``where`` keys whose rows compare variants (a GaLU row beside ReLU's) instead
      of selecting them: they do not narrow the variants charged.
    """

    variants: Mapping[str, Any] | None = field(default_factory=dict)
    theory: tuple[str, ...] | None = None
    across: tuple[str, ...] = ()


EVERYTHING = Reads()  # an undeclared table: the variants its claim's where names, every theory job


class Raw:
    """A value that is already LaTeX."""

    def __init__(self, tex: str):
        self.tex = tex


def tex_escape(text: str) -> str:
    """Text safe for LaTeX, with the few Unicode symbols our tables use turned into math."""
    out = "".join(_TEX_SPECIALS.get(ch, ch) for ch in str(text))
    for symbol, tex in _TEX_SYMBOLS.items():
        out = out.replace(symbol, tex)
    return out


def fmt(value: float, digits: int = 3) -> str:
    """A number with ``digits`` significant digits, thousands grouped, '—' for missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, float) and math.isinf(value):
        return "∞" if value > 0 else "−∞"
    if float(value).is_integer() and abs(value) >= 1:
        return f"{int(value):,}".replace(",", " ")
    return f"{value:.{digits}g}"


def mean_std(values: Iterable[float], digits: int = 3) -> str:
    """'mean ± std' over seeds (sample std; '—' for one value)."""
    array = np.asarray(list(values), dtype=float)
    array = array[np.isfinite(array)]
    if array.size == 0:
        return "—"
    if array.size == 1:
        return fmt(float(array[0]), digits)
    return f"{array.mean():.{digits}f} ± {array.std(ddof=1):.{digits}f}"


def to_markdown(display: pd.DataFrame) -> str:
    """A GitHub pipe table."""
    header = "| " + " | ".join(str(c).replace("|", "\\|") for c in display.columns) + " |"
    rule = "|" + "|".join("---" for _ in display.columns) + "|"
    body = [
        "| " + " | ".join(str(v).replace("|", "\\|") for v in row) + " |"
        for row in display.itertuples(index=False)
    ]
    return "\n".join([header, rule, *body]) + "\n"


def to_latex(display: pd.DataFrame, caption: str = "", long: bool = False) -> str:
    """A booktabs tabular (wrapped by the report in its own table environment), or with
    ``long`` a longtable that breaks across pages and repeats its header."""
    spec = "l" + "r" * (len(display.columns) - 1)
    environment = "longtable" if long else "tabular"
    header = " & ".join(tex_escape(c) for c in display.columns) + r" \\"
    lines = [f"% {caption}" if caption else "%", rf"\begin{{{environment}}}{{{spec}}}", r"\toprule"]
    lines += [header, r"\midrule\endhead" if long else r"\midrule"]
    for row in display.itertuples(index=False):
        lines.append(" & ".join(tex_escape(v) for v in row) + r" \\")
    lines += [r"\bottomrule", rf"\end{{{environment}}}"]
    return "\n".join(lines) + "\n"


def formatted(data: pd.DataFrame) -> pd.DataFrame:
    """Every number of ``data`` through :func:`fmt`."""
    return data.map(lambda v: fmt(v) if isinstance(v, (int, float, np.number)) else v)


def write_table(
    stem: Path,
    data: pd.DataFrame,
    display: pd.DataFrame | None = None,
    caption: str = "",
    human: bool = True,
    long: bool = False,
) -> None:
    """Write ``stem``.csv from ``data`` and, if ``human``, ``stem``.md / ``.tex`` from ``display``.

    ``display`` defaults to ``data`` with every number formatted by :func:`fmt`.
    """
    stem = Path(stem)
    csv = data.to_csv(index=False, float_format="%.9g", lineterminator="\n")
    atomic_write_text(stem.with_suffix(".csv"), csv)
    if human:
        display = formatted(data) if display is None else display
        atomic_write_text(stem.with_suffix(".md"), to_markdown(display))
        atomic_write_text(stem.with_suffix(".tex"), to_latex(display, caption, long))
