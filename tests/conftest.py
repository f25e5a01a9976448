"""Shared test setup: TensorFlow configured once, as every job configures it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import yaml

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


@pytest.fixture(scope="module")
def paper(repo):
    """config/config.yaml as loaded, before any scale or check: the paper scale."""
    return yaml.safe_load((repo / "config" / "config.yaml").read_text())


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory) -> Path:
    """A fresh copy of the repository after `snakemake --cores 2 --config scale=smoke`.

    Run once per test session; every family's workflow tests read its outputs.
    """
    from helpers import fresh_copy, snakemake

    workdir = fresh_copy(tmp_path_factory.mktemp("smoke") / "repo")
    done = snakemake(workdir, "--cores", "2", "--config", "scale=smoke")
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    return workdir
