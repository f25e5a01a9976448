"""Configuration: scales, schema validation, and the resolved hyperparameters of every job.

``config/config.yaml`` is the paper scale. ``scale: quick`` or ``scale: smoke`` lays
``config/scales/<scale>.yaml`` over it (mappings merge key by key, lists are replaced whole), and
whatever the command line or a user's ``--configfile`` sets wins over both. The merged config is
checked against ``workflow/schemas/config.schema.yaml`` and then against the rules a schema
cannot state (cross-field checks, the hyperparameter dataclasses). Every problem found is
reported at once, each naming the key, the value and what is allowed.

Hyperparameter *values* have one home: the dataclass in the family's spec (the authors'
defaults). A family block may override them for all its variants (``hparams``) or for one
(``variant_hparams``); the variant's own axis (``d`` for parity) comes from the spec.
"""

from __future__ import annotations

import copy
import dataclasses
import importlib
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import jsonschema
import yaml

SCALES = ("paper", "quick", "smoke")
# The experiment families, each a package theorydl/families/<name>/ (README: "Adding a family").
FAMILIES = ("parity", "tuples", "stocks", "curves", "flat", "sharing", "gating", "hierarchical")
# The modules of a family's package; spec is what the workflow reads when it parses, the others
# run inside jobs (model and theory import TensorFlow).
FAMILY_PARTS = ("spec", "model", "analysis", "figures")


class ConfigError(ValueError):
    """One or more invalid configuration values; the message lists every one."""


def family_module(name: str, part: str = "spec") -> ModuleType:
    """A module of a family's package: its ``spec`` (no TensorFlow) unless ``part`` says which."""
    if name not in FAMILIES:
        raise KeyError(f"unknown family {name!r}; known: {', '.join(FAMILIES)}")
    return importlib.import_module(f"theorydl.families.{name}.{part}")


def family_jobs(name: str, block: dict[str, Any]) -> dict[str, list[str]] | None:
    """A family's training jobs (job name → variants trained in it), or None where every variant
    is a job of its own (the spec defines no ``jobs``)."""
    spec = family_module(name)
    return spec.jobs(block) if hasattr(spec, "jobs") else None


def variant_seeds(name: str, block: Mapping[str, Any], hparams: Mapping[str, Any]) -> list[int]:
    """The seeds a variant of family ``name`` trains: the first ``repeats`` of the family's
    seeds where its spec's ``repeats(block, hparams)`` gives a number (an experiment that the
    authors repeated fewer times than the family's others), else all of them."""
    seeds = list(block["seeds"])
    spec = family_module(name)
    wanted = spec.repeats(dict(block), dict(hparams)) if hasattr(spec, "repeats") else None
    return seeds if wanted is None else seeds[:wanted]


def wants_gpu(name: str, hparams: Mapping[str, Any]) -> bool:
    """Whether a variant of family ``name`` trains on a GPU even though the family is in
    ``cpu_families`` (its spec's ``wants_gpu(hparams)``: steps large enough to gain from one)."""
    spec = family_module(name)
    return bool(spec.wants_gpu(dict(hparams))) if hasattr(spec, "wants_gpu") else False


def variant_datasets(
    name: str, resolved: Mapping[str, Mapping[str, Any]], variants: Sequence[str]
) -> list[str]:
    """The datasets of rule ``dataset`` that ``variants`` of a family read (their spec's
    ``datasets(hparams)``; none where the spec has no such function), each named once."""
    spec = family_module(name)
    if not hasattr(spec, "datasets"):
        return []
    return list(dict.fromkeys(d for v in variants for d in spec.datasets(dict(resolved[v]))))


def timing_tables() -> set[str]:
    """The tables that hold timings of this machine (each spec's ``TIMINGS``): the only tables
    two runs of one commit may differ in, besides the cost tables (``runtime_*``)."""
    return {name for family in FAMILIES for name in getattr(family_module(family), "TIMINGS", ())}


def known_tables() -> dict[str, list[str]]:
    """Every aggregated table the families write, with its columns (what claims may name)."""
    tables: dict[str, list[str]] = {}
    for name in FAMILIES:
        tables.update(family_module(name).TABLES)
    return tables


def deep_merge(base: dict, override: dict) -> dict:
    """``override`` laid over ``base``: mappings merge recursively, anything else replaces."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _normalise_switches(config: dict) -> None:
    # YAML 1.1 reads a bare on/off as a boolean; the report switch is spelled on/off/auto.
    if isinstance(config.get("report"), bool):
        config["report"] = "on" if config["report"] else "off"


def apply_scale(config: dict, cli: dict, root: Path) -> dict:
    """The paper config with the chosen scale's overrides and then the command line's.

    Snakemake's ``config`` already holds the command line's values; a caller that starts from
    config.yaml alone (a benchmark) may not, so ``cli`` is laid over it first, and the scale is
    read from the result: ``cli={"scale": "quick"}`` over config.yaml gives the quick scale.
    """
    config = deep_merge(config, cli)
    _normalise_switches(config)
    scale = config.get("scale", "paper")
    if scale not in SCALES:
        raise ConfigError(
            f"config key 'scale': value {scale!r} is not allowed. "
            f"Allowed: one of {', '.join(SCALES)}"
        )
    if scale != "paper":
        path = root / "config" / "scales" / f"{scale}.yaml"
        overrides = yaml.safe_load(path.read_text()) or {}
        config = deep_merge(deep_merge(config, overrides), cli)
        _normalise_switches(config)
    return config


def _key(path: Any) -> str:
    return ".".join(str(p) for p in path) or "<top level>"


def _schema_problems(config: dict, schema: dict) -> list[str]:
    validator = jsonschema.Draft7Validator(schema)
    problems = []
    for error in sorted(validator.iter_errors(config), key=lambda e: list(map(str, e.path))):
        allowed = error.schema.get("description", "")
        if error.validator == "additionalProperties":
            known = sorted(error.schema.get("properties", {}))
            patterns = list(error.schema.get("patternProperties", {}))
            for key in sorted(set(error.instance) - set(known)):
                if any(re.search(p, key) for p in patterns):
                    continue
                where = _key([*error.path, key])
                hint = f"one of {', '.join(known)}" if known else allowed
                problems.append(f"config key '{where}' is not a known setting. Allowed: {hint}")
            continue
        problems.append(
            f"config key '{_key(error.path)}': value {error.instance!r} is not allowed "
            f"({error.message}). Allowed: {allowed or 'see workflow/schemas/config.schema.yaml'}"
        )
    return problems


def _resolve_family(name: str, block: dict, problems: list[str]) -> dict[str, dict[str, Any]]:
    """Resolved hyperparameters (plain dicts) of every variant of one family."""
    module = family_module(name)
    axes = module.variants(block)
    resolved = {}
    # Overrides of variants this run does not train are ignored on purpose: a user who narrows
    # `dims` on top of a scale must not have to clear the scale's per-variant budgets too. The
    # schema still rejects keys that cannot name a variant at all (typos).
    for variant, axis in axes.items():
        own = block.get("variant_hparams", {}).get(variant, {})
        values = {**block.get("hparams", {}), **axis, **own}
        try:
            cfg = module.Config(**values)
        except (TypeError, ValueError) as error:
            problems.append(f"config of {name} variant '{variant}': {error}")
            continue
        resolved[variant] = dataclasses.asdict(cfg)
    return resolved


def load_schema(root: Path) -> dict:
    """The config schema: the shared part plus each family's block (``schemas/families/``)."""
    schemas = root / "workflow" / "schemas"
    schema = yaml.safe_load((schemas / "config.schema.yaml").read_text())
    for name in FAMILIES:
        family = yaml.safe_load((schemas / "families" / f"{name}.schema.yaml").read_text())
        schema["definitions"].update(family.get("definitions", {}))
        schema["properties"][name] = family["block"]
        schema["required"].append(name)
    family_lists = [
        schema["properties"]["cpu_families"],
        schema["properties"]["families"]["oneOf"][1],
        schema["properties"]["family_selections"]["additionalProperties"],
    ]
    for names in family_lists:
        names["items"]["enum"] = list(FAMILIES)
        names["items"]["description"] = "one of " + ", ".join(FAMILIES)
    schema["properties"]["families"]["description"] += f" (known families: {', '.join(FAMILIES)})"
    return schema


def selected_families(config: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(the families this run runs end to end, problems): ``families`` is ``all``, the name of
    a selection in ``family_selections``, or a list of names (already checked by the schema)."""
    chosen = config["families"]
    selections = config.get("family_selections", {})
    if isinstance(chosen, list):
        return [f for f in FAMILIES if f in chosen], []
    if chosen == "all":
        return list(FAMILIES), []
    if chosen in selections:
        return [f for f in FAMILIES if f in selections[chosen]], []
    return [], [
        f"config key 'families': value {chosen!r} is neither a family nor a selection. "
        f"Allowed: all, a selection ({', '.join(selections) or 'none defined'}), or a list "
        f"of known families ({', '.join(FAMILIES)})"
    ]


def resolve(config: dict, cli: dict, root: Path) -> dict:
    """Validate the whole config and add ``_variants`` (family → variant → hyperparameters) and
    ``_families`` (the families this run runs end to end, in registry order).

    Raises :class:`ConfigError` listing every problem; nothing is run before this passes.
    """
    config = apply_scale(config, cli, root)
    if isinstance(config.get("families"), str) and config["families"] in FAMILIES:
        config["families"] = [config["families"]]  # --config families=parity: a list of one
    problems = _schema_problems(config, load_schema(root))
    if problems:
        raise ConfigError(_report(problems))
    selected, problems = selected_families(config)
    variants = {}
    for name in FAMILIES:
        variants[name] = _resolve_family(name, config[name], problems)
        problems += family_module(name).check_config(config[name], variants[name])
    if problems:
        raise ConfigError(_report(problems))
    config["_variants"] = variants
    config["_families"] = selected
    return config


def _report(problems: list[str]) -> str:
    lines = "\n".join(f"  - {p}" for p in problems)
    return f"invalid configuration ({len(problems)} problem(s)):\n{lines}"
