"""Curves (Failures §4): the config block resolves as documented and bad values stop the run."""

import copy
import dataclasses

import pytest
from helpers import resolve

from theorydl import config as tdl_config


def test_paper_scale_runs_every_learner_with_its_authors_settings(repo, paper):
    variants = resolve(repo, paper)["_variants"]["curves"]
    assert set(variants) == {"fc", "conv", "conv_whitened", "autoencoder", "conv_whitened_float64"}
    twin = variants["conv_whitened_float64"]
    assert twin == {**variants["conv_whitened"], "dtype": "float64"}  # the same run otherwise
    assert variants["conv_whitened"]["dtype"] == "float32"
    assert variants["fc"]["learning_rate"] == 1e-4 and variants["fc"]["batch_size"] == 100
    assert variants["conv_whitened"]["learning_rate"] == 0.99
    assert variants["conv_whitened"]["batch_size"] == 10
    assert all(v["steps"] == 50_000 for v in variants.values())
    assert all(v["snapshot_steps"] == [500, 10_000, 50_000] for v in variants.values())
    assert len(paper["curves"]["seeds"]) >= 5


def test_quick_scale_trains_the_autoencoder_for_the_scripts_budget(repo, paper):
    variants = resolve(repo, paper, scale="quick")["_variants"]["curves"]
    assert variants["autoencoder"]["steps"] == 10_000
    assert variants["conv"]["steps"] == 50_000 and variants["fc"]["steps"] == 50_000


def test_schema_lists_exactly_the_dataclass_fields(repo, tf):
    from theorydl.families.curves.spec import CurvesConfig

    schema = tdl_config.load_schema(repo)
    # The learner is the variant; float64 only for a twin (curves.float64_learners).
    fields = {f.name for f in dataclasses.fields(CurvesConfig)} - {"learner", "dtype"}
    assert set(schema["definitions"]["curves_hparams"]["properties"]) == fields


def with_change(base, path, value):
    changed = copy.deepcopy(base)
    *parents, last = path.split(".")
    node = changed
    for key in parents:
        node = node[key]
    node[last] = value
    return changed


BAD = [  # (key to change, bad value, what the message must contain)
    ("curves.learners", ["fc", "mlp"], "config key 'curves.learners.1': value 'mlp'"),
    ("curves.learners", [], "config key 'curves.learners': value []"),
    ("curves.float64_learners", ["mlp"], "config key 'curves.float64_learners.0': value 'mlp'"),
    (
        "curves.learners",
        ["fc", "conv"],
        "'curves.float64_learners': value conv_whitened is not a trained learner",
    ),
    ("curves.figure_seed", 9, "'curves.figure_seed': value 9 is not a trained seed"),
    ("curves.hparams", {"distribution": "uniform"}, "'curves.hparams.distribution'"),
    ("curves.hparams", {"learner": "fc"}, "'curves.hparams.learner' is not a known setting"),
    ("curves.hparams", {"n": 5}, "config key 'curves.hparams.n': value 5"),
    ("curves.hparams", {"kinks": 4}, "kinks = 4 with distribution 'code'. Allowed: kinks = 3"),
    ("curves.variant_hparams", {"fc": {"n": 9, "kinks": 4, "distribution": "paper"}}, "n = 9"),
    ("curves.hparams", {"snapshot_steps": [500, -1]}, "'curves.hparams.snapshot_steps.1'"),
    ("curves.hparams", {"batch_size": 0}, "config key 'curves.hparams.batch_size': value 0"),
    ("curves.hparams", {"learning_rate": -0.1}, "'curves.hparams.learning_rate': value -0.1"),
    ("curves.variant_hparams", {"cnn": {"steps": 10}}, "'curves.variant_hparams.cnn' is not"),
    (
        "curves.variant_hparams",
        {"fc": {"distribution": "paper"}},
        "'curves.variant_hparams.<variant>.distribution': values differ",
    ),
    ("curves.conditioning.dims", [10, 20], "'curves.conditioning.dims': value [10, 20]"),
    ("curves.conditioning.distributions", ["both"], "'curves.conditioning.distributions.0'"),
    ("curves.conditioning.curves", 5, "'curves.conditioning.curves': value 5"),
]


@pytest.mark.parametrize(("key", "value", "message"), BAD, ids=[f"{k}={v!r}" for k, v, _ in BAD])
def test_bad_values_are_rejected_with_key_value_and_what_is_allowed(
    repo, paper, tf, key, value, message
):
    with pytest.raises(tdl_config.ConfigError) as error:
        tdl_config.resolve(with_change(paper, key, value), cli={}, root=repo)
    text = str(error.value)
    assert message in text
    assert "Allowed" in text or "known keys" in text
