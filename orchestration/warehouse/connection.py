"""Opening the warehouse: settings applied once, and a lock held by another process reported, not crashed on.

DuckDB lets one process write a file; any other process's connection fails at once with "Could not set lock
on file ... Conflicting lock is held in <program> (PID n)". That is a normal situation (the sensor's run, a
second operator), so it becomes `WarehouseBusy`, which names the holder and says what to do; `wait` retries
until a deadline instead.
"""

from __future__ import annotations

import logging
import os
import re
import time
from pathlib import Path

import duckdb

from orchestration.config import settings

log = logging.getLogger(__name__)

# The exit code of a command that found the warehouse in use (sysexits.h EX_TEMPFAIL: try again later).
EXIT_BUSY = 75
WAIT_ENV = "PIRAMIDE_LOCK_WAIT"

_LOCK_RE = re.compile(r"Conflicting lock is held in (?P<program>.*?) \(PID (?P<pid>\d+)\)")
_RETRY_EVERY = 0.5


class WarehouseError(RuntimeError):
    """A problem with the warehouse file the operator must act on (in use, unreadable)."""


class WarehouseBusy(WarehouseError):
    """Another process holds the warehouse's lock."""

    def __init__(self, path: Path, pid: int | None, process: str, waited: float = 0):
        self.path, self.pid, self.process, self.waited = path, pid, process, waited
        holder = f"PID {pid} ({process})" if pid else process or "another process"
        after = f" after waiting {waited:.0f} s" if waited else ""
        super().__init__(
            f"warehouse {path} is in use by {holder}{after}: let it finish and retry, "
            "or re-run with --wait SECONDS to wait for it"
        )


def lock_holder(message: str) -> tuple[int | None, str] | None:
    """(PID, process) from DuckDB's lock-conflict message; None when the message is not a lock conflict."""
    if "Could not set lock" not in message and "Conflicting lock" not in message:
        return None
    m = _LOCK_RE.search(message)
    if not m:
        return None, ""
    pid = int(m.group("pid"))
    return pid, process_name(pid) or Path(m.group("program")).name


def process_name(pid: int) -> str:
    """The holder's command line, shortened ('piramide load', 'dbt build'); '' if it cannot be read."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return ""
    words = [" ".join(a.decode(errors="replace").split()) for a in argv if a]
    # An interpreter running a script or console entry point: show the script, not the interpreter.
    if len(words) > 1 and Path(words[0]).name.startswith("python") and not words[1].startswith("-"):
        words = words[1:]
    if words:
        words[0] = Path(words[0]).name
    text = " ".join(words)
    return text if len(text) <= 80 else text[:79] + "…"


def lock_wait() -> float:
    """Seconds to wait for the lock when the caller does not say: PIRAMIDE_LOCK_WAIT (the CLI's --wait)."""
    return float(os.environ.get(WAIT_ENV) or 0)


def open_duckdb(path: Path, read_only: bool = False, wait: float | None = None) -> duckdb.DuckDBPyConnection:
    """duckdb.connect, turning a lock conflict into WarehouseBusy (after retrying for `wait` seconds)."""
    wait = lock_wait() if wait is None else wait
    start = time.monotonic()
    deadline = start + max(wait, 0)
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:
            holder = lock_holder(str(exc))
            if holder is None:
                raise
            now = time.monotonic()
            if now >= deadline:
                raise WarehouseBusy(path, *holder, waited=now - start if wait > 0 else 0) from None
            log.debug("warehouse in use by PID %s; retrying", holder[0])
            time.sleep(min(_RETRY_EVERY, deadline - now))


def connect(path: Path | None = None, read_only: bool = False, wait: float | None = None) -> duckdb.DuckDBPyConnection:
    """The warehouse (or `path`) with the project's settings; `wait` defaults to PIRAMIDE_LOCK_WAIT (0)."""
    s = settings()
    path = path or s.warehouse
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    con = open_duckdb(path, read_only=read_only, wait=wait)
    con.execute(f"set memory_limit = '{_safe_setting(s.memory_limit)}'")
    con.execute(f"set threads = {int(s.threads)}")
    # CSV rows are numbered by row_number() over the scan: only an order-preserving scan makes it the file row.
    con.execute("set preserve_insertion_order = true")
    # A load commits once per file; checkpointing after each would rewrite the tables' tails every time.
    # Committed data is safe in the WAL either way; the checkpoint happens when the WAL grows or at close.
    con.execute("set checkpoint_threshold = '1GB'")
    try:
        # Timestamps are Europe/Rome local time (the landing contract): a Parquet TIMESTAMPTZ converts to it.
        con.execute("set TimeZone = 'Europe/Rome'")
    except duckdb.Error:  # pragma: no cover - ICU is bundled with the Python wheels
        log.debug("ICU unavailable: time zone left at the default")
    return con


def _safe_setting(value: str) -> str:
    if not all(ch.isalnum() or ch in ". " for ch in value):
        raise ValueError(f"invalid memory limit {value!r}")
    return value


def reader_path(extract_rows: bool = False) -> Path:
    """What a reader opens: the published BI copy when it exists and is at least as new as the working file,
    else the working file. Reading the copy leaves the working file's lock to the pipeline; the working file's
    WAL counts towards its age. The copy carries the marts and what the report-type readers read, not the
    extract rows (orchestration.publish_bi): a reader that needs them (trace, explain's lineage down to the
    files and rows) says `extract_rows=True` and reads the working file."""
    s = settings()
    working, published = s.warehouse, s.published_warehouse
    if extract_rows or not published.exists():
        return working
    newest = max((p.stat().st_mtime for p in (working, Path(f"{working}.wal")) if p.exists()), default=0.0)
    return published if published.stat().st_mtime >= newest else working


def connect_reader(path: Path | None = None, extract_rows: bool = False) -> duckdb.DuckDBPyConnection:
    """A read-only connection for a reader (report, summary, explain, trace, diff): `path`, else
    reader_path(extract_rows); `wait` is PIRAMIDE_LOCK_WAIT (the CLI's --wait), WarehouseBusy after it."""
    return connect(path or reader_path(extract_rows), read_only=True)
