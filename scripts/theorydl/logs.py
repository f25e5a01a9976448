"""A job's log: everything the job prints, and TensorFlow's C++ notes, go to its log file."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from pathlib import Path


def log_to(path: str | Path) -> None:
    """Send stdout, stderr (TensorFlow's C++ logs included) and ``logging`` to ``path``.

    If the job then dies of an exception, its one-line summary also goes to the terminal the job
    was started from, beside the log's path: the traceback is in the log, but the reason should
    not depend on the log being writable (a full disk) or on anyone opening it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    terminal = os.dup(2)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True
    )
    # TensorFlow's Python side logs through absl at INFO (e.g. "Sharding callback duration"
    # after every compiled call): noise that would bury the progress lines.
    logging.getLogger("absl").setLevel(logging.WARNING)
    logging.getLogger("tensorflow").setLevel(logging.WARNING)

    def report_failure(kind, error, traceback) -> None:
        with contextlib.suppress(OSError):
            sys.__excepthook__(kind, error, traceback)
        summary = f"{kind.__name__}: {error}\n  (job log: {path})\n"
        with contextlib.suppress(OSError):
            os.write(terminal, summary.encode())

    sys.excepthook = report_failure
