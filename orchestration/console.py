"""What a person reads: short progress lines on the console, everything else in a log file.

The stages report through the `piramide.progress` logger (one line each as they finish, a few lines for long
ones); the libraries (Dagster events, dbt, Great Expectations, alembic) log as they like, into the run's log file
in the warehouse folder. `--verbose` sends all of it to the console too.
"""

from __future__ import annotations

import logging
import sys
import time
import warnings
from pathlib import Path

PROGRESS = "piramide.progress"
progress = logging.getLogger(PROGRESS)
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class _Plain(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return record.getMessage()


def log_path(warehouse: Path) -> Path:
    return Path(warehouse).resolve().parent / "logs" / "piramide.log"


def setup(warehouse: Path, verbose: bool = False) -> Path:
    """Route logging: every record to the log file, progress (or, verbose, everything) to the console."""
    path = log_path(warehouse)
    path.parent.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
        h.close()
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    file_handler = logging.FileHandler(path, encoding="utf-8")
    file_handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root.addHandler(file_handler)
    console = logging.StreamHandler(sys.stdout)
    if verbose:
        console.setFormatter(logging.Formatter(LOG_FORMAT))
    else:
        console.setFormatter(_Plain())
        console.addFilter(lambda r: r.name == PROGRESS or r.levelno >= logging.ERROR and r.name.startswith("orch"))
    root.addHandler(console)
    progress.setLevel(logging.INFO)
    # Library deprecation and beta warnings are for the log, not for the operator.
    logging.captureWarnings(True)
    warnings.simplefilter("default")
    return path


class Progress:
    """A few lines for a long stage: one at each third of the way, with the count and the seconds so far."""

    def __init__(self, what: str, total: int, steps: int = 3):
        self.what, self.total, self.steps = what, max(total, 0), steps
        self.done, self._next, self._t0 = 0, 1, time.perf_counter()

    def advance(self, n: int = 1) -> None:
        self.done += n
        if not self.total:
            return
        while self._next <= self.steps and self.done * self.steps >= self._next * self.total:
            if self._next < self.steps:  # the last line is the stage's own summary
                progress.info(f"  {self.what}: {self.done:,} of {self.total:,} "
                              f"({time.perf_counter() - self._t0:.0f} s)")
            self._next += 1
