"""The flat family's config block: scales, and every bad value stopped at parse time."""

import dataclasses

import pytest
from test_config import resolve, with_change

from theorydl import config as tdl_config


def test_paper_scale_runs_the_authors_budgets_per_method(repo, paper):
    variants = resolve(repo, paper)["_variants"]["flat"]
    assert set(variants) == {"non_flat", "end_to_end", "multi_class", "forward_only"}
    assert variants["non_flat"]["learning_rate"] == 0.01
    assert variants["end_to_end"]["learning_rate"] == 0.001
    assert variants["multi_class"]["steps"] == 10_000
    assert variants["forward_only"]["steps"] == 5_000
    assert all(v["step_set"] == "authors" and v["epsilon"] == 1e-5 for v in variants.values())


def test_quick_scale_keeps_the_budgets_with_ten_seeds(repo, paper):
    resolved = resolve(repo, paper, scale="quick")
    assert len(resolved["flat"]["seeds"]) >= 10
    assert resolved["_variants"]["flat"]["end_to_end"]["steps"] == 10_000
    assert resolved["_variants"]["flat"]["forward_only"]["steps"] == 5_000


def test_smoke_scale_is_short_for_every_method(repo, paper):
    variants = resolve(repo, paper, scale="smoke")["_variants"]["flat"]
    assert {v["steps"] for v in variants.values()} == {300}


def test_paper_text_switches_resolve(repo, paper):
    switches = {"step_set": "paper", "multi_class_logits": 55, "smooth_constant_steepness": 100.0}
    variants = resolve(repo, paper, flat={"hparams": switches})["_variants"]["flat"]
    assert variants["multi_class"]["multi_class_logits"] == 55
    assert variants["non_flat"]["steps"] == 10_000  # the method's budget is still its own


BAD = [  # (key to change, bad value, what the message must contain)
    ("flat.seeds", [], "config key 'flat.seeds': value []"),
    ("flat.figure7_seed", 50, "'flat.figure7_seed': value 50 is not a trained seed"),
    ("flat.figure7_seed", "median", "'flat.figure7_seed': value 'median'"),
    ("flat.hparams", {"step_set": "mine"}, "'flat.hparams.step_set': value 'mine'"),
    ("flat.hparams", {"steps": 0}, "'flat.hparams.steps': value 0"),
    ("flat.hparams", {"learning_rate": -1}, "'flat.hparams.learning_rate': value -1"),
    ("flat.hparams", {"beta2": 1.0}, "'flat.hparams.beta2': value 1.0"),
    ("flat.hparams", {"eval_samples": 1}, "'flat.hparams.eval_samples': value 1"),
    ("flat.hparams", {"lr": 0.1}, "'flat.hparams.lr' is not a known setting"),
    ("flat.hparams", {"multi_class_logits": 50}, "multi_class_logits must be at least"),
    ("flat.variant_hparams", {"e2e": {"steps": 5}}, "'flat.variant_hparams.e2e' is not a known"),
    (
        "flat.variant_hparams",
        {"multi_class": {"step_set": "paper"}},
        "'flat.variant_hparams.<variant>.step_set': values differ",
    ),
]


@pytest.mark.parametrize(("key", "value", "message"), BAD, ids=[f"{k}={v!r}" for k, v, _ in BAD])
def test_bad_values_are_rejected_with_key_value_and_what_is_allowed(
    repo, paper, key, value, message
):
    with pytest.raises(tdl_config.ConfigError) as error:
        tdl_config.resolve(with_change(paper, key, value), cli={}, root=repo)
    text = str(error.value)
    assert message in text
    assert "Allowed" in text or "known keys" in text or "must be at least" in text


def test_schema_lists_exactly_the_dataclass_fields_but_the_axis(repo, tf):
    from theorydl.families.flat.spec import FlatConfig

    schema = tdl_config.load_schema(repo)
    fields = {f.name for f in dataclasses.fields(FlatConfig)} - {"method"}
    assert set(schema["definitions"]["flat_hparams"]["properties"]) == fields
