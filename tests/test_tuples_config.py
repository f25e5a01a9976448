"""The tuples block of the configuration: scales, rejections, and what each scale can judge."""

import copy
import dataclasses

import pytest
import yaml

from theorydl import config as tdl_config


def resolve(repo, paper, scale="paper", **changes):
    config = copy.deepcopy(paper)
    for path, value in changes.items():
        *parents, last = path.split("__")
        node = config
        for key in parents:
            node = node[key]
        node[last] = value
    return tdl_config.resolve(
        tdl_config.deep_merge(config, {"scale": scale}), cli={"scale": scale}, root=repo
    )


def test_paper_scale_has_the_papers_budgets(repo, paper):
    variants = resolve(repo, paper)["_variants"]["tuples"]
    assert set(variants) == {f"{m}-k{k}" for m in ("e2e", "dec") for k in (1, 2, 3, 4)}
    for k in (1, 2, 3, 4):
        assert variants[f"e2e-k{k}"]["steps"] == 20_000  # the script's default
        assert variants[f"dec-k{k}"]["steps"] == 2_500  # Fig 3's caption
        assert variants[f"dec-k{k}"]["batch_size"] == 200
        assert variants[f"dec-k{k}"]["epsilon"] == 1e-5
        assert variants[f"dec-k{k}"]["train_pool"] == 500_000


def tuples_claims(repo):
    claims = yaml.safe_load((repo / "config" / "claims.yaml").read_text())["claims"]
    return [c for c in claims if c["family"] == "tuples"]


@pytest.mark.parametrize("scale", ["paper", "quick"])
def test_each_scale_runs_what_its_claims_need(repo, paper, tf, scale):
    resolved = resolve(repo, paper, scale)
    variants = resolved["_variants"]["tuples"]
    from theorydl.families.tuples.spec import CHUNK_IMAGES, SnrConfig

    images = SnrConfig(**resolved["tuples"]["snr"]["hparams"]).images
    judged = set()
    for claim in tuples_claims(repo):
        if claim["table"] == "tuples_seeds":
            where = claim["where"]
            hparams = variants[f"{where['method']}-k{where['k']}"]
            ran = {"budget": hparams["steps"], "batch_size": hparams["batch_size"]}
        else:
            chunks = -(-images // CHUNK_IMAGES)
            ran = {"tuples": chunks * (CHUNK_IMAGES // claim["where"]["k"])}
        if all(ran[column] >= need for column, need in claim["requires"].items()):
            judged.add(claim["id"])
    every = {c["id"] for c in tuples_claims(repo)}
    # The quick scale judges every claim but E2E on pairs, which needs the paper's batch and budget.
    pairs = {"tuples-e2e-k2-learns", "tuples-e2e-k2-can-learn"}
    expected = every if scale == "paper" else every - pairs
    assert judged == expected


def test_schema_lists_exactly_the_dataclass_fields(repo, tf):
    from theorydl.families.tuples.spec import SnrConfig, TuplesConfig

    schema = tdl_config.load_schema(repo)["definitions"]
    axes = {"k", "method"}  # each variant's own, set by tuples.ks and tuples.methods
    fields = {f.name for f in dataclasses.fields(TuplesConfig)} - axes
    assert set(schema["tuples_hparams"]["properties"]) == fields
    snr_fields = {f.name for f in dataclasses.fields(SnrConfig)}
    assert set(schema["tuples_snr_hparams"]["properties"]) == snr_fields


BAD = [  # (key path, bad value, what the message must contain)
    ("tuples__methods", ["e2e", "joint"], "config key 'tuples.methods.1': value 'joint'"),
    ("tuples__ks", [0, 2], "config key 'tuples.ks.0': value 0"),
    ("tuples__seeds", [], "config key 'tuples.seeds': value []"),
    ("tuples__hparams", {"k": 3}, "'tuples.hparams.k' is not a known setting"),
    ("tuples__hparams", {"label": "product"}, "'tuples.hparams.label': value 'product'"),
    ("tuples__hparams", {"train_pool": 100}, "train_pool (100) must hold at least one batch"),
    ("tuples__hparams", {"batch_size": 0}, "'tuples.hparams.batch_size': value 0"),
    ("tuples__variant_hparams", {"dec-3": {"steps": 9}}, "'tuples.variant_hparams.dec-3'"),
    ("tuples__snr", {"ks": [1], "init_seeds": [0], "hparams": {"dec_loss": "last"}}, "'last'"),
    (
        "tuples__snr",
        {"ks": [1, 4], "init_seeds": [0], "hparams": {"batch_size": 1000}},
        "'tuples.snr.hparams.batch_size': value 1000 exceeds the 600 tuples of k = 4",
    ),
]


@pytest.mark.parametrize(("key", "value", "message"), BAD, ids=[f"{k}={v!r}" for k, v, _ in BAD])
def test_bad_values_are_rejected_with_key_value_and_what_is_allowed(
    repo, paper, key, value, message
):
    with pytest.raises(tdl_config.ConfigError) as error:
        resolve(repo, paper, **{key: value})
    text = str(error.value)
    assert message in text
    assert "Allowed" in text or "known keys" in text or "must hold" in text
