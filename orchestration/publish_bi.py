"""The read-only copy of the warehouse that BI tools open, swapped in atomically after each green run.

DuckDB allows one writing process, and any other process's connection blocks it (docs/stack_notes.md §2), so BI
never opens the working file. After a run succeeds the publisher opens the working file under its own write
lock and writes, into a staging file beside the published path, only what BI and the report-type readers read
(PUBLISHED_SCHEMAS, PUBLISHED_TABLES: docs/decisions.md §21): the extract rows (raw, staging) and the big
intermediate tables stay in the working file, where the commands that need them read
(orchestration.warehouse.connection.reader_path). The copy is opened read-only and compared with the source;
then `os.replace` swaps it in. A reader holding the previous copy keeps reading it (the rename does not touch
an open file); a reader opening afterwards gets the new one; nobody sees a partial file.
"""

from __future__ import annotations

import functools
import logging
import operator
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


# What the copy carries: every table and view of these schemas (the BI layer, the seeds, the run's ledger and
# checks, the publications, the saved scenarios) ...
PUBLISHED_SCHEMAS = ("marts", "reference", "audit", "publish", "scenario")
# ... and the few intermediate tables the report-type readers join to the marts (summary: the annual targets;
# diff and explain: the actuals' sources, the tree, the structure hierarchy), sized by nodes x structures x
# months, never by the extracts.
PUBLISHED_TABLES = (
    "intermediate.int_kpi_actuals", "intermediate.int_kpi_targets", "intermediate.int_kpi_tree",
    "intermediate.int_structure_ancestors",
)
COPY_ALIAS = "bi_copy"
COMMENTS_KEY = "(comments)"


def _ident(schema: str, name: str) -> str:
    return '"' + schema.replace('"', '""') + '"."' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _published_tables(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    every = con.execute(
        "select schema_name, table_name from duckdb_tables() "
        "where database_name = current_database() and not internal and not temporary order by 1, 2"
    ).fetchall()
    return [(s, t) for s, t in every if s in PUBLISHED_SCHEMAS or f"{s}.{t}" in PUBLISHED_TABLES]


def _fingerprints(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, int]]:
    """(row count, order-independent hash of every row) per published table, and of the tables' comments (the
    column help BI tools show)."""
    tables = _published_tables(con)
    out = {}
    for schema, table in tables:
        n, h = con.execute(
            f"select count(*), coalesce(bit_xor(hash(t)), 0) from {_ident(schema, table)} t"  # noqa: S608
        ).fetchone()
        out[f"{schema}.{table}"] = (int(n), int(h))
    comments = con.execute(
        "select schema_name, table_name, hash(column_name, comment) from duckdb_columns() "
        "where database_name = current_database() and comment is not null"
    ).fetchall()
    published = {f"{s}.{t}" for s, t in tables}
    mine = [h for s, t, h in comments if f"{s}.{t}" in published]
    out[COMMENTS_KEY] = (len(mine), functools.reduce(operator.xor, mine, 0))
    return out


def _build_copy(con: duckdb.DuckDBPyConnection, tmp: Path) -> list[str]:
    """Write the published tables and views of `con`'s database, with their comments, into the new file `tmp`;
    return the views left out because they do not bind there (they read what the copy does not carry)."""
    src = con.execute("select current_database()").fetchone()[0]
    tables = _published_tables(con)
    # No bound parameters in this module: binding one makes DuckDB's Python client import pandas (seconds).
    here = f"database_name = {_literal(src)}"
    # The source's own DDL keeps the column types and constraints; under `use` its schemas are the copy's.
    ddl = dict(con.execute(
        f"select schema_name || '.' || table_name, sql from duckdb_tables() where {here}"  # noqa: S608
    ).fetchall())
    views = [v for v in con.execute(
        f"select schema_name, view_name, sql from duckdb_views() where {here} and not internal order by view_oid"  # noqa: S608
    ).fetchall() if v[0] in PUBLISHED_SCHEMAS]
    comments = con.execute(
        f"select schema_name, table_name, null, comment from duckdb_tables() where {here} "  # noqa: S608
        f"and comment is not null union all select schema_name, view_name, null, comment from duckdb_views() "
        f"where {here} and comment is not null union all "
        f"select schema_name, table_name, column_name, comment from duckdb_columns() where {here} "
        "and comment is not null"
    ).fetchall()
    skipped: list[str] = []
    con.execute(f"attach {_literal(str(tmp))} as {COPY_ALIAS}")
    try:
        con.execute(f"use {COPY_ALIAS}")
        try:
            # One transaction for the tables (one commit, not one per statement); each view on its own, since a
            # view that does not bind aborts the transaction it is in.
            con.execute("begin transaction")
            for schema in sorted({s for s, _ in tables} | {v[0] for v in views}):
                con.execute(f'create schema if not exists "{schema}"')
            for schema, table in tables:
                con.execute(ddl[f"{schema}.{table}"])
                rel = _ident(schema, table)
                con.execute(f'insert into {rel} select * from "{src}".{rel}')  # noqa: S608 (catalogue names)
            con.execute("commit")
            for schema, view, sql in views:
                try:
                    con.execute(sql)
                except duckdb.Error:
                    skipped.append(f"{schema}.{view}")
            kinds = {f"{s}.{t}": "table" for s, t in tables}
            kinds |= {f"{s}.{v}": "view" for s, v, _ in views if f"{s}.{v}" not in skipped}
            con.execute("begin transaction")
            for schema, name, column, text in comments:
                kind = kinds.get(f"{schema}.{name}")
                if kind is None:
                    continue
                what = f"column {_ident(schema, name)}.\"{column}\"" if column else f"{kind} {_ident(schema, name)}"
                con.execute(f"comment on {what} is {_literal(text)}")
            con.execute("commit")
        finally:
            con.execute(f'use "{src}"')
        con.execute(f"checkpoint {COPY_ALIAS}")
    finally:
        con.execute(f"detach {COPY_ALIAS}")
    return skipped


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
    """Write what BI reads to the published path atomically; raise PublishError and keep the old copy if the
    new one does not match the warehouse."""
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
        # Read-write on purpose: the exclusive lock keeps every other writer out while the copy is written, so
        # the fingerprints and the copy are of one state.
        con = connect(source)
        try:
            expected = _fingerprints(con)
            skipped = _build_copy(con, tmp)
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
        unbound = sorted({*unbound, *skipped})
        if unbound:
            log.warning("views left out of the published copy (they read what it does not carry): %s",
                        ", ".join(unbound))
        os.chmod(tmp, 0o444)  # a BI tool that forgets read_only gets a clear error, not a private fork
        os.replace(tmp, target)
        _fsync_dir(target.parent)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return Published(
        path=target,
        size_bytes=target.stat().st_size,
        tables=len(expected) - 1,
        rows=sum(n for k, (n, _) in expected.items() if k != COMMENTS_KEY),
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
