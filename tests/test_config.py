"""Configuration: scales merge as documented, and every bad value stops the run at parse time."""

import copy

import pytest
import yaml
from helpers import fresh_copy, resolve, snakemake

from theorydl import config as tdl_config


def test_paper_scale_resolves_with_the_figure_budgets(repo, paper):
    resolved = resolve(repo, paper)
    variants = resolved["_variants"]["parity"]
    assert set(variants) == {f"d{d}" for d in paper["parity"]["dims"]}
    assert variants["d5"]["steps"] == 5000 and variants["d5"]["eval_every"] == 10
    assert variants["d10"]["steps"] == 25000 and variants["d10"]["eval_every"] == 50
    assert variants["d30"]["steps"] == 50000 and variants["d30"]["eval_every"] == 100
    assert variants["d30"]["learning_rate"] == 0.01 and variants["d30"]["width_factor"] == 10


def test_quick_scale_overrides_only_what_it_sets(repo, paper):
    resolved = resolve(repo, paper, scale="quick")
    quick = yaml.safe_load((repo / "config" / "scales" / "quick.yaml").read_text())
    assert resolved["parity"]["dims"] == quick["parity"]["dims"]
    assert resolved["parity"]["figure1_dims"] == paper["parity"]["figure1_dims"]
    assert resolved["_variants"]["parity"]["d10"]["steps"] == 25000


def test_command_line_wins_over_the_scale(repo, paper):
    resolved = resolve(repo, paper, scale="smoke", parity={"seeds": [7]})
    assert resolved["parity"]["seeds"] == [7]
    assert resolved["parity"]["dims"] == [5, 10]  # from the smoke scale


def test_overrides_of_variants_not_run_are_ignored(repo, paper):
    resolved = resolve(repo, paper, scale="smoke", parity={"dims": [10], "figure1_dims": [10]})
    assert set(resolved["_variants"]["parity"]) == {"d10"}
    assert resolved["_variants"]["parity"]["d10"]["steps"] == 300


def test_report_switch_accepts_yaml_booleans(repo, paper):
    assert resolve(repo, paper, report=True)["report"] == "on"
    assert resolve(repo, paper, report=False)["report"] == "off"


def with_change(base, path, value):
    config = copy.deepcopy(base)
    *parents, last = path.split(".")
    node = config
    for key in parents:
        node = node[key]
    if value is DELETE:
        del node[last]
    else:
        node[last] = value
    return config


DELETE = object()
BAD = [  # (key to change, bad value, what the message must contain)
    ("scale", "fast", "'scale': value 'fast'"),
    ("report", "maybe", "config key 'report'"),
    ("tf_threads", 0, "config key 'tf_threads': value 0"),
    ("tf_threads", "two", "config key 'tf_threads': value 'two'"),
    ("checkpoint_seconds", -1, "config key 'checkpoint_seconds'"),
    ("parity.seeds", [], "config key 'parity.seeds': value []"),
    ("parity.seeds", [1, 1], "config key 'parity.seeds': value [1, 1]"),
    ("parity.seeds", [0, -3], "config key 'parity.seeds.1': value -3"),
    ("parity.dims", [5, -10], "config key 'parity.dims.1': value -10"),
    ("parity.figure1_dims", [5, 15], "'parity.figure1_dims': value 15 is not a trained dimension"),
    ("parity.hparams", {"lerning_rate": 0.1}, "'parity.hparams.lerning_rate' is not a known"),
    ("parity.hparams", {"learning_rate": "fast"}, "'parity.hparams.learning_rate': value 'fast'"),
    ("parity.hparams", {"learning_rate": 0}, "'parity.hparams.learning_rate': value 0"),
    ("parity.hparams", {"subset_size": 40}, "subset_size must lie in [0, d=5], got 40"),
    ("parity.variant_hparams", {"d5": {"steps": 1.5}}, "'parity.variant_hparams.d5.steps'"),
    ("parity.variant_hparams", {"dd5": {"steps": 9}}, "'parity.variant_hparams.dd5' is not"),
    (
        "parity.variant_hparams",
        {"d5": {"width_factor": 3}},
        "parity.variant_hparams.<variant>.width_factor': values differ",
    ),
    ("parity.gradient_variance.dims", [2, 3, 30], "'parity.gradient_variance.dims.2': value 30"),
    ("parity.colour", "red", "'parity.colour' is not a known setting"),
    ("parity.dims", DELETE, "'dims' is a required property"),
    ("tf_thread", 2, "config key 'tf_thread' is not a known setting"),
    ("cpu_families", ["parity", "parties"], "config key 'cpu_families.1': value 'parties'"),
    ("cpu_families", ["flat", "flat"], "config key 'cpu_families': value ['flat', 'flat']"),
    ("families", "lapto", "value 'lapto' is neither a family nor a selection"),
    ("families", ["parity", "partiy"], "known families: parity, tuples, stocks, curves"),
    ("family_selections", {"mine": ["parity", "x"]}, "'family_selections.mine.1': value 'x'"),
]


@pytest.mark.parametrize(("key", "value", "message"), BAD, ids=[f"{k}={v!r}" for k, v, _ in BAD])
def test_bad_values_are_rejected_with_key_value_and_what_is_allowed(
    repo, paper, key, value, message
):
    bad = with_change(paper, key, value)
    with pytest.raises(tdl_config.ConfigError) as error:
        tdl_config.resolve(bad, cli={}, root=repo)
    text = str(error.value)
    assert message in text
    assert "Allowed" in text or "known keys" in text or "must lie in" in text


def test_schema_lists_exactly_the_dataclass_fields(repo, tf):
    import dataclasses

    from theorydl.families.parity.spec import ParityConfig

    schema = tdl_config.load_schema(repo)
    fields = {f.name for f in dataclasses.fields(ParityConfig)}
    assert set(schema["definitions"]["parity_hparams"]["properties"]) == fields


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("scale=huge", "config key 'scale': value 'huge' is not allowed"),
        ("tf_threads=-2", "config key 'tf_threads': value -2 is not allowed"),
    ],
)
def test_snakemake_stops_before_any_job(tmp_path, option, message):
    fresh_copy(tmp_path)
    done = snakemake(tmp_path, "--cores", "1", "--config", option)
    assert done.returncode != 0
    assert message in done.stdout + done.stderr
    assert not (tmp_path / "results").exists()


def test_the_slurm_profile_asks_a_gpu_for_exactly_the_gpu_families(repo, paper):
    profile = yaml.safe_load((repo / "profiles" / "slurm" / "config.yaml").read_text())
    training = {
        rule: resources
        for rule, resources in profile["set-resources"].items()
        if rule.endswith("_train") or "_train_" in rule
    }
    families = {rule.split("_")[0] for rule in training}
    assert families == set(tdl_config.FAMILIES)
    resolved = resolve(repo, paper)
    for rule, resources in training.items():
        family = rule.split("_")[0]
        job = rule.removeprefix(f"{family}_train").removeprefix("_")
        variants = (tdl_config.family_jobs(family, resolved[family]) or {}).get(job, [])
        wants = any(
            tdl_config.wants_gpu(family, resolved["_variants"][family][v]) for v in variants
        )
        on_cpu = family in paper["cpu_families"] and not wants
        assert ("gpu" not in resources) == on_cpu, rule
        assert resources.get("slurm_partition", "cpu") == ("cpu" if on_cpu else "gpu"), rule
    # Every grouped training job of the paper scale has its resources set.
    for family in tdl_config.FAMILIES:
        for job in tdl_config.family_jobs(family, resolved[family]) or {}:
            assert f"{family}_train_{job}" in training, job


def test_the_command_lines_scale_is_applied_to_config_yaml_alone(repo, paper):
    """A caller that passes config.yaml and the command line apart (a benchmark) gets the
    command line's scale, as Snakemake's merged config does."""
    quick = tdl_config.resolve(paper, cli={"scale": "quick"}, root=repo)
    assert quick["scale"] == "quick"
    assert quick["_variants"] == resolve(repo, paper, scale="quick")["_variants"]
    assert quick["_variants"] != resolve(repo, paper)["_variants"]


@pytest.mark.parametrize(
    ("families", "selected"),
    [
        ("all", list(tdl_config.FAMILIES)),
        ("laptop", ["parity", "stocks", "curves", "flat", "sharing"]),
        ("stocks", ["stocks"]),
        (["sharing", "parity"], ["parity", "sharing"]),  # always in the registry's order
    ],
)
def test_a_family_selection_resolves_to_the_families_it_names(repo, paper, families, selected):
    resolved = tdl_config.resolve(paper, cli={"families": families}, root=repo)
    assert resolved["_families"] == selected
