"""The locked environments (envs/lock/): current with their top-level files, every package pinned
with hashes, and the lock a run came from recorded in its provenance."""

import hashlib
import importlib.util
import re
import shutil

import pytest

from theorydl import runtime


@pytest.fixture(scope="module")
def lock(repo):
    spec = importlib.util.spec_from_file_location("envs_lock", repo / "envs" / "lock.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_lock_is_compiled_from_its_sources_as_they_are(lock):
    # Fails when a top-level requirements file is edited and the lock not recompiled.
    assert lock.stale() == [], "run `python envs/lock.py` and commit envs/lock/"


@pytest.mark.parametrize("route", ["cpu", "gpu", "dev"])
def test_every_package_is_pinned_with_hashes(lock, route):
    text = lock.lock_path(route).read_text()
    entries = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 3)[3])
    assert len(entries) > 80  # the transitive closure, not the dozen top-level packages
    for entry in entries:
        assert re.match(r"[A-Za-z0-9._-]+(\[[^\]]*\])?==\S+ \\", entry), entry[:80]
        assert "--hash=sha256:" in entry, entry[:80]


@pytest.mark.parametrize("route", ["cpu", "gpu", "dev"])
def test_the_top_level_pins_are_the_locked_versions(lock, route):
    locked = runtime.locked_pins(lock.lock_path(route))
    for source in lock.sources(route):
        for line in source.read_text().splitlines():
            match = re.match(r"([A-Za-z0-9._-]+)(\[[^\]]*\])?==(\S+)", line)
            if match:
                name = re.sub(r"[-_.]+", "-", match.group(1)).lower()
                assert locked[name] == match.group(3), (source.name, name)


def test_an_edited_source_makes_its_lock_and_those_including_it_stale(lock, tmp_path, monkeypatch):
    shutil.copytree(lock.ENVS, tmp_path / "envs")
    monkeypatch.setattr(lock, "ENVS", tmp_path / "envs")
    monkeypatch.setattr(lock, "LOCKS", tmp_path / "envs" / "lock")
    assert lock.stale() == []
    base = tmp_path / "envs" / "requirements-base.txt"
    base.write_text(base.read_text().replace("seaborn==0.13.2", "seaborn==0.13.1"))
    assert lock.stale() == ["cpu", "gpu", "dev"]  # all three include the base file


def test_a_run_records_the_lock_its_packages_match(repo):
    found = runtime.environment_lock()
    assert found["lock"] in ("cpu", "gpu")
    path = repo / "envs" / "lock" / f"{found['lock']}.txt"
    assert found["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert "tensorflow-cpu" not in found["differs"]  # this test machine runs the CPU route
