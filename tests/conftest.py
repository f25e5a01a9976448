"""Shared test setup: TensorFlow configured once, as every job configures it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture(scope="session")
def tf():
    """TensorFlow with one thread and op determinism, as the training jobs set it up."""
    from theorydl import runtime

    return runtime.setup_tensorflow(1)


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO
