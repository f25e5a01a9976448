"""The stocks config block: scales resolve to the right jobs, bad values stop at parse time."""

import copy

import pytest
from helpers import resolve

from theorydl import config as tdl_config


def test_paper_scale_runs_the_scripts_settings_for_each_method_and_k(repo, paper):
    variants = resolve(repo, paper)["_variants"]["stocks"]
    ks = paper["stocks"]["ks"]
    assert set(variants) == {f"{m}_k{k}" for m in ("e2e", "dec") for k in ks}
    assert {10, 1000, 2000} <= set(ks)
    job = variants["dec_k1000"]
    assert job["method"] == "dec" and job["k"] == 1000 and job["d"] == 1000
    assert job["learning_rate"] == 0.1 and job["beta1"] == 0.9 and job["beta2"] == 0.99
    assert job["epsilon"] == 1e-5 and job["batch_size"] == 100 and job["steps"] == 2500
    assert job["eval_every"] == 100 and job["eval_samples"] == 500


def test_quick_scale_keeps_the_papers_budget_and_five_seeds(repo, paper):
    resolved = resolve(repo, paper, scale="quick")
    assert len(resolved["stocks"]["seeds"]) >= 5
    assert {10, 1000, 2000} <= set(resolved["stocks"]["ks"])
    assert all(v["steps"] == 2500 for v in resolved["_variants"]["stocks"].values())


def with_change(base, key, value):
    config = copy.deepcopy(base)
    config["stocks"][key] = value
    return config


BAD = [  # (key, bad value, what the message must contain: the key and value, what is allowed)
    ("ks", [10, 1], "'stocks.ks.1': value 1", "an integer ≥ 2"),
    ("ks", [10, 10], "'stocks.ks': value [10, 10]", "distinct integers ≥ 2"),
    ("methods", ["e2e", "joint"], "'stocks.methods.1': value 'joint'", "e2e or dec"),
    ("figure4_ks", [10, 500], "'stocks.figure4_ks': value 500 is not", "values of stocks.ks"),
    ("hparams", {"k": 5}, "'stocks.hparams.k' is not a known setting", "one of batch_size"),
    ("hparams", {"learning_rate": -1}, "'stocks.hparams.learning_rate': value -1", "> 0"),
    ("hparams", {"beta2": 1.0}, "'stocks.hparams.beta2': value 1.0", "in [0, 1)"),
    ("methods", [], "'stocks.methods': value []", "values from e2e, dec"),
    ("variant_hparams", {"sgd_k10": {"steps": 1}}, "'stocks.variant_hparams.sgd_k10'", "<method>"),
    (
        "variant_hparams",
        {"dec_k10": {"d": 20}},
        "<variant>.d': values differ",
        "one value for every variant",
    ),
    (
        "second_moments",
        {"ks": [2, 3], "init_seeds": [0], "samples": 10},
        "'stocks.second_moments.ks': value [2, 3]",
        "at least 3",
    ),
    (
        "second_moments",
        {"ks": [2, 3, 4], "init_seeds": [0], "samples": 1},
        "'stocks.second_moments.samples': value 1",
        "an integer ≥ 2",
    ),
]


@pytest.mark.parametrize(("key", "value", "message", "allowed"), BAD)
def test_bad_values_name_the_key_and_what_is_allowed(repo, paper, key, value, message, allowed):
    with pytest.raises(tdl_config.ConfigError) as error:
        resolve(repo, with_change(paper, key, value))
    assert message in str(error.value)
    assert allowed in str(error.value)
