"""The read-only copy of the warehouse that BI tools open, swapped in atomically after each green run.

DuckDB allows one writing process, and any other process's connection blocks it (docs/stack_notes.md §2), so BI
never opens the working file. After a run succeeds, the working file is checkpointed and copied, under its
own write lock, to a staging folder beside the published path; the copy is opened read-only and compared
with the source; then `os.replace` swaps it in. A reader holding the previous copy keeps reading it (the
rename does not touch an open file); a reader opening afterwards gets the new one; nobody sees a partial file.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from orchestration.config import settings
from orchestration.warehouse.connection import connect

log = logging.getLogger(__name__)

STAGING_PREFIX = ".publishing-"
# A staging folder older than this is debris from a crashed publish, not one in progress.
STALE_STAGING_SECONDS = 3600


class PublishError(RuntimeError):
    """The copy did not match the source: the previous published copy stays in place."""


@dataclass(frozen=True)
class Published:
    path: Path
    size_bytes: int
    tables: int
    rows: int
    seconds: float
    unbound_views: tuple[str, ...] = ()


# Hashing every row of raw would read the whole extract history on each publish; the schemas BI reads are
# hashed in full (a torn block fails DuckDB's block checksum on read), raw is compared by row counts.
COUNT_ONLY_SCHEMAS = ("raw",)


def _fingerprints(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, int]]:
    """(row count, order-independent hash of every row) per table."""
    tables = con.execute(
        "select schema_name, table_name from duckdb_tables() where not internal and not temporary "
        "order by schema_name, table_name"
    ).fetchall()
    out = {}
    for schema, table in tables:
        ident = '"' + schema.replace('"', '""') + '"."' + table.replace('"', '""') + '"'
        if schema in COUNT_ONLY_SCHEMAS:
            n, h = con.execute(f"select count(*), 0 from {ident}").fetchone()  # noqa: S608
        else:
            n, h = con.execute(f"select count(*), coalesce(bit_xor(hash(t)), 0) from {ident} t").fetchone()  # noqa: S608
        out[f"{schema}.{table}"] = (int(n), int(h))
    return out


def _unbound_views(con: duckdb.DuckDBPyConnection) -> list[str]:
    bad = []
    views = con.execute(
        "select schema_name, view_name from duckdb_views() where not internal and not temporary"
    ).fetchall()
    for schema, view in views:
        ident = '"' + schema.replace('"', '""') + '"."' + view.replace('"', '""') + '"'
        try:
            con.execute(f"select * from {ident} limit 0")  # noqa: S608
        except duckdb.Error:
            bad.append(f"{schema}.{view}")
    return bad


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _clear_stale_staging(folder: Path) -> None:
    now = time.time()
    for p in folder.glob(STAGING_PREFIX + "*"):
        try:
            if p.is_dir() and now - p.stat().st_mtime > STALE_STAGING_SECONDS:
                shutil.rmtree(p, ignore_errors=True)
        except FileNotFoundError:
            pass


def publish(source: Path | None = None, target: Path | None = None) -> Published:
    """Copy the warehouse to the published path atomically; raise PublishError and keep the old copy if the
    new one does not match."""
    t0 = time.perf_counter()
    s = settings()
    source = Path(source or s.warehouse)
    target = Path(target or s.published_warehouse)
    if not source.exists():
        raise PublishError(f"nothing to publish: {source} does not exist")
    if source.resolve() == target.resolve():
        raise PublishError("the published copy must not be the working warehouse")
    target.parent.mkdir(parents=True, exist_ok=True)
    _clear_stale_staging(target.parent)
    # Same file system (same folder) so the final rename is atomic; same file name so DuckDB gives the copy
    # the same catalogue name as the source while it is verified, and after the swap.
    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=target.parent))
    tmp = staging / target.name
    try:
        # Read-write on purpose: the exclusive lock keeps every other writer out while the bytes are copied,
        # and CHECKPOINT moves the WAL into the main file, so the file alone is the whole database.
        con = connect(source)
        try:
            con.execute("checkpoint")
            expected = _fingerprints(con)
            shutil.copyfile(source, tmp)
        finally:
            con.close()
        with tmp.open("rb") as fh:
            os.fsync(fh.fileno())
        try:
            check = connect(tmp, read_only=True)
            try:
                got = _fingerprints(check)
                unbound = _unbound_views(check)
            finally:
                check.close()
        except duckdb.Error as exc:
            raise PublishError(f"the copy does not open read-only: {str(exc)[:500]}") from exc
        if got != expected:
            diff = sorted(k for k in set(got) | set(expected) if got.get(k) != expected.get(k))
            raise PublishError("the copy differs from the warehouse in " + ", ".join(diff[:10]))
        if unbound:
            log.warning("views that do not bind in the published copy (catalogue name?): %s", ", ".join(unbound))
        os.chmod(tmp, 0o444)  # a BI tool that forgets read_only gets a clear error, not a private fork
        os.replace(tmp, target)
        _fsync_dir(target.parent)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return Published(
        path=target,
        size_bytes=target.stat().st_size,
        tables=len(expected),
        rows=sum(n for n, _ in expected.values()),
        seconds=time.perf_counter() - t0,
        unbound_views=tuple(unbound),
    )


def connect_published(path: Path | None = None, attempts: int = 5, wait_seconds: float = 1.0):
    """Open the published copy read-only, retrying the rare transient error (no copy published yet)."""
    path = Path(path or settings().published_warehouse)
    for attempt in range(1, attempts + 1):
        try:
            return duckdb.connect(str(path), read_only=True)
        except duckdb.IOException:
            if attempt == attempts:
                raise
            time.sleep(wait_seconds)
    raise AssertionError("unreachable")
