"""What decides a rerun: the digest of a job's code follows its imports, not a hand list."""

from pathlib import Path

import pytest

from theorydl import code_digest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "scripts" / "theorydl"


def names(files):
    return {str(Path(f).relative_to(PACKAGE)) for f in files if Path(f).is_relative_to(PACKAGE)}


def test_training_closure_holds_the_engine_runtime_and_runs_but_no_claims_or_plots():
    files = names(
        code_digest.closure(
            [REPO / "scripts" / "train.py", PACKAGE / "families" / "parity" / "model.py"]
        )
    )
    assert {"engine.py", "runtime.py", "runs.py", "job.py", "families/parity/spec.py"} <= files
    assert {"families/__init__.py", "families/parity/__init__.py", "__init__.py"} <= files
    assert not files & {"claims.py", "plotting.py", "report.py", "families/parity/analysis.py"}


def test_claims_figures_and_tables_do_not_depend_on_the_training_code():
    scripts = REPO / "scripts"
    for entry, extra in [
        ("judge_claims.py", []),
        ("report_inputs.py", []),
        ("cost_tables.py", []),
        ("figure.py", []),
        *[("aggregate.py", [a]) for a in sorted((PACKAGE / "families").glob("*/analysis.py"))],
    ]:
        files = names(code_digest.closure([scripts / entry, *extra]))
        assert not files & {"engine.py", "job.py"}, entry
        assert not {n for n in files if n.endswith("model.py")}, entry
        if entry == "aggregate.py":
            assert not files & {"claims.py", "plotting.py", "report.py"}, extra


def test_every_spec_imports_no_tensorflow_model_or_analysis():
    for spec in sorted((PACKAGE / "families").glob("*/spec.py")):
        closure = names(code_digest.closure([spec]))
        assert not {n for n in closure if n.endswith(("model.py", "analysis.py", "theory.py"))}
        for path in code_digest.closure([spec]):
            assert "tensorflow" not in path.read_text().replace("no TensorFlow", ""), path


@pytest.fixture
def figures(tmp_path):
    path = tmp_path / "figures.py"
    path.write_text(
        "import math\n\nSCALE = 2\n\n\n"
        "def _helper(x):\n    return x * SCALE\n\n\n"
        "def first(inputs):\n    return _helper(inputs)\n\n\n"
        "def second(inputs):\n    return math.sqrt(inputs)\n"
    )
    return path


def edited(path, old, new):
    path.write_text(path.read_text().replace(old, new))
    code_digest._tree.cache_clear()


def test_a_comment_or_layout_edit_changes_no_digest(figures):
    before = code_digest.digest(function=(figures, "first"))
    edited(figures, "def first(inputs):\n", "# a comment\ndef first(inputs):  # another\n\n")
    assert code_digest.digest(function=(figures, "first")) == before


def test_a_figure_digest_follows_its_own_code_and_its_helpers_only(figures):
    first, second = (code_digest.digest(function=(figures, n)) for n in ("first", "second"))
    edited(figures, "math.sqrt(inputs)", "math.sqrt(inputs) + 0")
    assert code_digest.digest(function=(figures, "first")) == first
    assert code_digest.digest(function=(figures, "second")) != second
    edited(figures, "return x * SCALE", "return x * SCALE * 1")  # the helper `first` calls
    assert code_digest.digest(function=(figures, "first")) != first
    edited(figures, "SCALE = 2", "SCALE = 3")  # module-level code: every figure of the file
    assert code_digest.digest(function=(figures, "second")) != second


def test_a_function_digest_names_a_missing_function(figures):
    with pytest.raises(KeyError, match="no top-level function 'third'"):
        code_digest.digest(function=(figures, "third"))


def test_a_digest_changes_with_a_module_in_the_closure(tmp_path, monkeypatch):
    package = tmp_path / "theorydl"
    (package / "families").mkdir(parents=True)
    for name in ("__init__.py", "families/__init__.py"):
        (package / name).write_text("")
    (package / "engine.py").write_text("from theorydl import runtime\n")
    (package / "runtime.py").write_text("SEED = 1\n")
    (package / "claims.py").write_text("X = 1\n")
    entry = tmp_path / "train.py"
    entry.write_text("from theorydl.engine import *\n")
    monkeypatch.setattr(code_digest, "PACKAGE_DIR", package)
    code_digest._tree.cache_clear()
    before = code_digest.digest(entry)
    edited(package / "claims.py", "X = 1", "X = 2")  # not imported: no rerun
    assert code_digest.digest(entry) == before
    edited(package / "runtime.py", "SEED = 1", "SEED = 2")  # imported by what train imports
    assert code_digest.digest(entry) != before
