"""Retries for transient failures only: a lock held by another process is worth waiting for, bad data is not."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb

from orchestration.warehouse.connection import WarehouseBusy

# 20 s, 40 s, 80 s (each +/- jitter): long enough for a BI tool or a sensor to let go of the file.
RETRY_POLICY = dg.RetryPolicy(
    max_retries=3, delay=20, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)

_TRANSIENT_MARKERS = ("could not set lock", "conflicting lock", "resource temporarily unavailable")


def is_transient(exc: BaseException) -> bool:
    """A DuckDB lock conflict (another process has the file open) or an interrupted file system call."""
    if isinstance(exc, dg.Failure):
        return False
    if isinstance(exc, BlockingIOError | InterruptedError | WarehouseBusy):
        return True
    return isinstance(exc, duckdb.IOException) and any(m in str(exc).lower() for m in _TRANSIENT_MARKERS)


@contextmanager
def retry_only_transient(what: str) -> Iterator[None]:
    """Let transient errors reach the step's RetryPolicy; turn every other error into a final failure.

    Retrying a failed dbt test or a bug three times only delays the alert by minutes.
    """
    try:
        yield
    except dg.Failure:
        raise
    except Exception as exc:
        if is_transient(exc):
            raise
        raise dg.Failure(
            description=f"{what} failed: {type(exc).__name__}: {str(exc)[:2000]}", allow_retries=False
        ) from exc


def probe_writer_lock(path: Path) -> None:
    """Raise the (transient) lock error now if another process holds the warehouse.

    dbt opens the file in a subprocess and reports a lock conflict as an ordinary model error; probing
    first lets the RetryPolicy wait for the lock instead of failing the whole build.
    """
    if not path.exists():
        return
    con = duckdb.connect(str(path))
    con.close()
