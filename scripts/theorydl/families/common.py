"""What the families' specs share (no TensorFlow: the workflow reads the specs when it parses)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def untrained(
    family: str, key: str, chosen: Iterable[Any], trained_key: str, trained: list[Any], what: str
) -> list[str]:
    """A problem for each value of ``<family>.<key>`` (a figure's dimensions, k or seed) that is
    not among the values this run trains (``<family>.<trained_key>``); ``what`` names one."""
    return [
        f"config key '{family}.{key}': value {value} is not a trained {what}. "
        f"Allowed: values of {family}.{trained_key} ({trained})"
        for value in chosen
        if value not in trained
    ]


def unshared(
    family: str, resolved: Mapping[str, Mapping[str, Any]], keys: Iterable[str], why: str
) -> list[str]:
    """A problem for each hyperparameter of ``keys`` whose value differs between the variants
    of ``family`` (``resolved``: variant → hyperparameters), where ``why`` one value is needed."""
    problems = []
    for key in keys:
        values = {variant: hparams[key] for variant, hparams in resolved.items()}
        if len({repr(v) for v in values.values()}) > 1:
            shown = ", ".join(f"{variant}: {value}" for variant, value in values.items())
            problems.append(
                f"config key '{family}.variant_hparams.<variant>.{key}': values differ ({shown}). "
                f"Allowed: one value for every variant ({why}); set it in {family}.hparams"
            )
    return problems
