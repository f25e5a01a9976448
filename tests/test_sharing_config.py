"""The sharing config block: scales resolve as documented, bad values stop the run at parse
time with a message naming the key, the value and what is allowed."""

import copy
import re

import pytest
import yaml
from helpers import resolve

from theorydl import config as tdl_config


def test_scales_resolve_to_the_regime_budgets(repo, paper):
    full = resolve(repo, paper)["_variants"]["sharing"]
    assert full["mixed-w2-c1-learned-local"]["epochs"] == 500
    assert full["mixed-w2-c1-learned-local"]["optimizer"] == "adam"
    assert full["walsh-nested-d100-local"]["learning_rate"] == 0.05
    quick = resolve(repo, paper, scale="quick")["_variants"]["sharing"]
    assert quick["mixed-w2-c1-known-local"]["epochs"] == 100
    assert quick["mixed-w2-c1-learned-local"]["epochs"] == 150
    assert quick["walsh-disjoint-d50-local"]["epochs"] == 100
    assert set(quick) < set(full)  # the quick scale runs a subset of the paper's settings
    smoke = resolve(repo, paper, scale="smoke")["_variants"]["sharing"]
    assert all(v["epochs"] == 2 and v["train_examples"] == 500 for v in smoke.values())


def changed(base, path, value):
    config = copy.deepcopy(base)
    *parents, last = path.split(".")
    node = config
    for key in parents:
        node = node[key]
    node[last] = value
    return config


BAD = [  # (key to change, bad value, what the message must contain)
    ("sharing.seeds", [], "config key 'sharing.seeds': value []"),
    ("sharing.architectures", ["conv"], "'sharing.architectures.0': value 'conv'"),
    ("sharing.architectures", ["shared", "dense"], "lacks shared or local"),
    ("sharing.curves.omega", 0, "'sharing.curves.omega': value 0"),
    ("sharing.mix_sweep.mixes", [1], "'sharing.mix_sweep.mixes': value [1]"),
    ("sharing.natural.patches.digits.d", 10, "must be s² for a window side s in [2, 8]"),
    ("sharing.natural.patches.mnist.patch_stride", 30, "patch_stride must lie in [1, 19]"),
    ("sharing.natural.patches", {"cifar": {}}, "'sharing.natural.patches.cifar' is not a known"),
    ("sharing.walsh.dims", {"diagonal": [5]}, "'sharing.walsh.dims.diagonal' is not a known"),
    ("sharing.walsh.curve_dim", 7, "'sharing.walsh.curve_dim': value 7 is not a trained"),
    ("sharing.hparams", {"lerning_rate": 0.1}, "'sharing.hparams.lerning_rate' is not a known"),
    ("sharing.hparams", {"batch_size": 0}, "'sharing.hparams.batch_size': value 0"),
    ("sharing.hparams", {"optimizer": "rmsprop"}, "'sharing.hparams.optimizer': value 'rmsprop'"),
    ("sharing.hparams", {"train_examples": 1050}, "multiple of batch_size"),
    ("sharing.regime_hparams", {"walsh": {"g": "learned"}}, "g must be known"),
    ("sharing.regime_hparams", {"fast": {}}, "'sharing.regime_hparams.fast' is not a known"),
    ("sharing.variant_hparams", {"low-known-conv": {}}, "'sharing.variant_hparams.low-known-conv'"),
]


@pytest.mark.parametrize(("path", "value", "message"), BAD)
def test_bad_values_are_refused_with_the_key_and_what_is_allowed(repo, paper, path, value, message):
    with pytest.raises(tdl_config.ConfigError) as error:
        resolve(repo, changed(paper, path, value))
    assert message in str(error.value)


def test_every_variant_name_fits_the_schemas_pattern(repo, paper):
    schema = yaml.safe_load(
        (repo / "workflow" / "schemas" / "families" / "sharing.schema.yaml").read_text()
    )
    (pattern,) = schema["block"]["properties"]["variant_hparams"]["patternProperties"]
    for scale in ("paper", "quick", "smoke"):
        for name in resolve(repo, paper, scale=scale)["_variants"]["sharing"]:
            assert re.fullmatch(pattern, name), name
