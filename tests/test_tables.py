"""Table formatting for people: numbers, LaTeX escaping, Markdown."""

import math

import pandas as pd

from theorydl import tables


def test_numbers():
    assert tables.fmt(25000.0) == "25 000"
    assert tables.fmt(0.98765) == "0.988"
    assert tables.fmt(math.inf) == "∞"
    assert tables.fmt(math.nan) == "—"
    assert tables.mean_std([0.5, 0.7]) == "0.600 ± 0.141"
    assert tables.mean_std([math.nan]) == "—"


def test_latex_escaping():
    assert tables.tex_escape("steps_to_99 ≥ 50% & G²") == r"steps\_to\_99 $\ge$ 50\% \& G$^2$"


def test_table_files(tmp_path):
    data = pd.DataFrame({"d": [5, 10], "accuracy": [1.0, 0.5]})
    tables.write_table(tmp_path / "t", data, caption="demo")
    assert (tmp_path / "t.csv").read_text() == "d,accuracy\n5,1\n10,0.5\n"
    assert (tmp_path / "t.md").read_text().splitlines()[2] == "| 5 | 1 |"
    tex = (tmp_path / "t.tex").read_text()
    assert r"\begin{tabular}{lr}" in tex and r"10 & 0.5 \\" in tex
