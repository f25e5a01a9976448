"""Where the training jobs of a results folder are, from the lines their logs already hold.

    python -m theorydl.status                 # results/quick, results/paper, ... whichever exist
    python -m theorydl.status results/paper   # one scale

Every training job logs a ``progress`` line per evaluation (step / total, elapsed, ETA at its
pace so far, the median over seeds of its first metric) and a ``finished`` line per variant
(``engine.progress_line``); this reads the last of them for every variant of every job log.
"""

from __future__ import annotations

import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

PROGRESS = re.compile(
    r"progress (?P<family>\w+)/(?P<variant>\S+) step (?P<step>\d+)/(?P<total>\d+) "
    r"\((?P<pct>\d+)%\) elapsed (?P<elapsed>\S+) eta (?P<eta>\S+) "
    r"(?P<metric>\S+) median (?P<median>\S+)"
)
FINISHED = re.compile(
    r"finished (?P<family>\w+)/(?P<variant>\S+) at step (?P<step>\d+) in (?P<time>\S+)"
)
RESUMED = re.compile(r"resumed (?P<family>\w+)/(?P<variant>\S+) at step (?P<step>\d+)")


@dataclass
class Variant:
    """The last that a job's log says of one variant."""

    job: str
    variant: str
    state: str  # finished | training | stopped
    step: int
    total: int | None
    elapsed: str
    eta: str
    metric: str
    resumed: int = 0


def read_log(path: Path, quiet_after_s: float = 300.0) -> list[Variant]:
    """The variants one training log speaks of, in order. A variant whose last line is a
    progress line is ``training`` if the log changed within ``quiet_after_s``, else
    ``stopped`` (killed, or waiting on a dead job)."""
    found: dict[str, Variant] = {}
    job = path.stem.removeprefix("train_")
    for line in path.read_text(errors="replace").splitlines():
        if match := PROGRESS.search(line):
            found[match["variant"]] = Variant(
                job,
                match["variant"],
                "training",
                int(match["step"]),
                int(match["total"]),
                match["elapsed"],
                match["eta"],
                f"{match['metric']} {match['median']}",
                found[match["variant"]].resumed if match["variant"] in found else 0,
            )
        elif match := FINISHED.search(line):
            known = found.get(match["variant"])
            found[match["variant"]] = Variant(
                job,
                match["variant"],
                "finished",
                int(match["step"]),
                int(match["step"]),
                match["time"],
                "-",
                known.metric if known else "",
                known.resumed if known else 0,
            )
        elif (match := RESUMED.search(line)) and match["variant"] in found:
            found[match["variant"]].resumed += 1
    quiet = time.time() - path.stat().st_mtime > quiet_after_s
    for variant in found.values():
        if variant.state == "training" and quiet:
            variant.state = "stopped"
    return list(found.values())


def status(results: Path) -> list[Variant]:
    """Every variant of every training log under ``results/logs``."""
    return [v for log in sorted(results.glob("logs/*/train_*.log")) for v in read_log(log)]


def render(results: Path, variants: list[Variant]) -> str:
    """A plain-text table, one line per variant, and a summary line."""
    lines = [f"{results}:"]
    header = ("job", "variant", "state", "step", "elapsed", "eta", "median metric")
    rows = [
        (
            v.job,
            v.variant,
            v.state + (f" (resumed {v.resumed}x)" if v.resumed else ""),
            f"{v.step}/{v.total}" if v.total else str(v.step),
            v.elapsed,
            v.eta,
            v.metric,
        )
        for v in variants
    ]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        lines.append("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))
    done = sum(v.state == "finished" for v in variants)
    lines.append(
        f"{done} of {len(variants)} variants finished (variants not started yet: none shown)"
    )
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    roots = [Path(a) for a in argv] or sorted(p for p in Path("results").glob("*") if p.is_dir())
    if not roots:
        print("no results folder here (run from the repository, or name one)", file=sys.stderr)
        return 1
    for root in roots:
        if not (root / "logs").is_dir():
            print(f"{root}: no logs/ (not a results folder of this workflow?)", file=sys.stderr)
            return 1
        print(render(root, status(root)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
