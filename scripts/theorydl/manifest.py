"""The results manifest: what every output is, which rule made it, and its checksum.

``results/<scale>/manifest.json`` lists every file under ``results/<scale>/`` (but logs,
benchmarks, checkpoints, LaTeX build files and the kept npm tarballs) with its sha256, size and
producing rule, plus the resolved config. ``snakemake verify`` recomputes the checksums and names
every file that changed, vanished or appeared since. Two runs of the same config can be compared
file by file through their manifests (the run metrics and tables are byte-identical on the same
machine).
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from snakemake.io import regex_from_filepattern

from theorydl.runs import atomic_write_text

# Not results: job records, resumable state, LaTeX's scratch, and the npm tarballs the dataset
# rule keeps as a download cache (pinned by their sha512, checked each time they are read).
IGNORED = ("logs", "benchmarks", "checkpoints", "report/build", "datasets/npm")
NAME = "manifest.json"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def result_files(results: Path) -> list[Path]:
    """Every file the manifest covers, relative to the working directory, sorted."""
    ignored = [results / part for part in IGNORED] + [results / NAME]
    return sorted(
        p
        for p in results.rglob("*")
        if p.is_file()
        and not any(p == i or i in p.parents for i in ignored)
        and not p.name.startswith(".")
    )


@functools.cache
def _compiled(pattern: str) -> re.Pattern:
    return re.compile(regex_from_filepattern(pattern))


def producer(path: str, patterns: Iterable[tuple[str, Iterable[str]]]) -> str:
    """The rule whose output pattern matches ``path`` ('unknown' if none does)."""
    # Most outputs are plain paths (a grouped job lists every run file): compare those, and
    # compile each wildcard pattern once, not once per file (thousands of files × patterns).
    for rule, outputs in patterns:
        if any(p == path or ("{" in p and _compiled(p).match(path)) for p in outputs):
            return rule
    return "unknown"


def build(results: Path, patterns: Iterable[tuple[str, Iterable[str]]], config: Mapping) -> dict:
    """The manifest of ``results`` as a dict."""
    patterns = list(patterns)
    files = {
        str(p): {"sha256": sha256(p), "bytes": p.stat().st_size, "rule": producer(str(p), patterns)}
        for p in result_files(results)
    }
    return {"files": files, "config": config}


def write(path: Path, manifest: Mapping[str, Any]) -> None:
    atomic_write_text(path, json.dumps(manifest, indent=1, sort_keys=True, default=str) + "\n")


def verify(manifest_path: Path) -> list[str]:
    """Every difference between ``results/`` now and its manifest, one line each."""
    recorded = json.loads(Path(manifest_path).read_text())["files"]
    now = {str(p) for p in result_files(Path(manifest_path).parent)}
    problems = [f"missing: {name}" for name in sorted(set(recorded) - now)]
    problems += [f"not in the manifest: {name}" for name in sorted(now - set(recorded))]
    for name in sorted(set(recorded) & now):
        entry = recorded[name]
        if Path(name).stat().st_size != entry["bytes"] or sha256(Path(name)) != entry["sha256"]:
            problems.append(f"changed: {name} (made by rule {entry['rule']})")
    return problems
