"""Every family is built from the same files (README, "Adding a family"), and nothing of a
family lives outside them."""

import ast
import re
from pathlib import Path

import pytest
import yaml

from theorydl import config as tdl_config
from theorydl import report

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "scripts" / "theorydl"
FAMILY_FILES = ("__init__.py", "spec.py", "model.py", "analysis.py", "figures.py")
OPTIONAL_FILES = ("theory.py", "data.py")


def top_level_functions(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}


@pytest.mark.parametrize("family", tdl_config.FAMILIES)
def test_a_family_is_exactly_its_listed_files(family):
    package = PACKAGE / "families" / family
    present = {p.name for p in package.glob("*.py")}
    assert set(FAMILY_FILES) <= present
    assert present <= set(FAMILY_FILES + OPTIONAL_FILES)
    assert (REPO / "workflow" / "rules" / f"{family}.smk").is_file()
    assert f'include: "workflow/rules/{family}.smk"' in (REPO / "Snakefile").read_text()
    assert (REPO / "workflow" / "schemas" / "families" / f"{family}.schema.yaml").is_file()
    assert family in yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    claims = yaml.safe_load((REPO / "config" / "claims.yaml").read_text())["claims"]
    assert any(c["family"] == family for c in claims)
    assert (REPO / "paper" / f"{family}.tex").is_file()
    assert rf"\input{{{family}.tex}}" in report.sections_tex([family])  # report.tex inputs it
    assert list((REPO / "tests").glob(f"test_{family}_*.py"))


@pytest.mark.parametrize("family", tdl_config.FAMILIES)
def test_a_family_package_offers_what_the_workflow_calls(family):
    spec = tdl_config.family_module(family)
    assert family == spec.FAMILY
    assert callable(spec.variants) and callable(spec.check_config)
    assert spec.Config.__dataclass_fields__
    assert spec.REPORT_CATEGORY
    assert set(spec.CSV_ONLY) <= set(spec.TABLES)
    assert all(name.startswith(f"{family}_") for name in spec.TABLES)
    package = PACKAGE / "families" / family
    assert "run" in top_level_functions(package / "model.py")
    assert {"aggregate", "report_values"} <= top_level_functions(package / "analysis.py")


@pytest.mark.parametrize("family", tdl_config.FAMILIES)
def test_every_figure_function_has_a_rule_and_a_caption(family):
    figures = PACKAGE / "families" / family / "figures.py"
    drawn = {f for f in top_level_functions(figures) if not f.startswith("_")}
    rules = (REPO / "workflow" / "rules" / f"{family}.smk").read_text()
    declared = set(re.findall(rf'figure_rule\(\s*"{family}",\s*"(\w+)"', rules))
    assert drawn == declared
    for name in drawn:
        assert (REPO / "workflow" / "report" / f"{family}_{name}.rst").is_file(), name


def test_nothing_of_a_family_lives_outside_its_package():
    families = tdl_config.FAMILIES
    modules = [p.stem for p in PACKAGE.glob("*.py")]
    assert not [m for m in modules if m.split("_")[0] in families]
    entry_points = [p.stem for p in (REPO / "scripts").glob("*.py")]
    assert not [e for e in entry_points if any(f in e.split("_") for f in families)]


def test_snakemake_uses_the_default_profile(tmp_path):
    """Snakemake finds a workflow's default profile only as profiles/default beside the
    Snakefile (or the working directory); one anywhere else is ignored without a word, and
    with it rerun-incomplete, which a killed run needs."""
    from helpers import fresh_copy, snakemake

    workdir = fresh_copy(tmp_path / "repo")
    planned = snakemake(workdir, "--dry-run", "--config", "scale=smoke", "report=off")
    assert planned.returncode == 0, planned.stderr[-2000:]
    assert "Using workflow specific profile profiles/default" in planned.stdout + planned.stderr
    profile = yaml.safe_load((REPO / "profiles" / "default" / "config.yaml").read_text())
    assert profile["rerun-incomplete"] is True
