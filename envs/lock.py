"""The locked environments: every package, transitive ones included, at an exact version with
its hashes, one lock per install route, compiled from the top-level files people edit.

    python envs/lock.py          # recompile every lock whose sources changed (needs uv: dev deps)
    python envs/lock.py --check  # exit 1, naming them, if a lock is older than its sources
    python envs/lock.py --force  # recompile every lock (newer transitive releases)

A lock's first line records the digest of its sources (the route's requirements file and every
file it includes with ``-r``); ``--check`` and the tests compare it with the files as they are,
so that editing a top-level file without recompiling fails loudly. Locks are compiled for
CPython 3.11 on Linux x86_64 (the machines the README's commands target).
"""

from __future__ import annotations

import argparse
import hashlib
import re
import subprocess
import sys
from pathlib import Path

ENVS = Path(__file__).resolve().parent
LOCKS = ENVS / "lock"
# Install route → the top-level file it is compiled from (envs/<file>) and its lock.
ROUTES = {
    "cpu": "requirements.txt",
    "gpu": "requirements-gpu.txt",
    "dev": "requirements-dev.txt",
}
PYTHON, PLATFORM = "3.11", "x86_64-manylinux_2_28"
HEADER = "# sources-sha256: "


def sources(route: str) -> list[Path]:
    """The route's requirements file and every file it includes (``-r``), in include order."""
    found: list[Path] = []

    def visit(path: Path) -> None:
        if path in found:
            return
        found.append(path)
        for line in path.read_text().splitlines():
            match = re.match(r"\s*-r\s+(\S+)", line)
            if match:
                visit(path.parent / match.group(1))

    visit(ENVS / ROUTES[route])
    return found


def sources_digest(route: str) -> str:
    """sha256 over the route's source files' names and contents."""
    digest = hashlib.sha256()
    for path in sources(route):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def lock_path(route: str) -> Path:
    """envs/lock/<route>.txt."""
    return LOCKS / f"{route}.txt"


def recorded_digest(route: str) -> str | None:
    """The sources digest a lock was compiled from (its first line), or None without a lock."""
    path = lock_path(route)
    if not path.is_file():
        return None
    first = path.read_text().split("\n", 1)[0]
    return first.removeprefix(HEADER) if first.startswith(HEADER) else None


def stale() -> list[str]:
    """The routes whose lock is missing or older than its sources."""
    return [route for route in ROUTES if recorded_digest(route) != sources_digest(route)]


def compile_lock(route: str) -> None:
    """Recompile one route's lock with uv (hashes of every file of every pinned release)."""
    command = [
        "uv", "pip", "compile", ROUTES[route],
        "--generate-hashes", "--no-header", "--quiet",
        "--python-version", PYTHON, "--python-platform", PLATFORM,
    ]  # fmt: skip
    done = subprocess.run(command, cwd=ENVS, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"uv pip compile {ROUTES[route]} failed:\n{done.stderr}")
    LOCKS.mkdir(exist_ok=True)
    header = (
        f"{HEADER}{sources_digest(route)}\n"
        f"# The {route} route's locked environment, compiled from envs/{ROUTES[route]} for "
        f"CPython {PYTHON} on {PLATFORM}\n# by `python envs/lock.py`; do not edit.\n"
    )
    lock_path(route).write_text(header + done.stdout)
    print(f"wrote {lock_path(route).relative_to(ENVS.parent)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only say which locks are stale")
    parser.add_argument("--force", action="store_true", help="recompile every lock")
    args = parser.parse_args()
    outdated = list(ROUTES) if args.force else stale()
    if args.check:
        if outdated:
            sys.exit(
                f"stale locks: {', '.join(outdated)} (a top-level requirements file changed); "
                f"run `python envs/lock.py` and commit envs/lock/"
            )
        print("every lock matches its sources")
        return
    for route in outdated:
        compile_lock(route)


if __name__ == "__main__":
    main()
