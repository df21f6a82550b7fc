"""The append-only `publish` schema: its tables, and what a publication is stamped with (code, seeds, deliveries).

Only `insert` statements write here. There is no update or delete path in this package (tests/publication
scans it), DuckDB has no grants to forbid one, so every publication also carries a SHA-256 of its rows
(`content_hash`) that `verify` recomputes: a row changed behind the package's back is detected, not silent.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from dataclasses import dataclass
from datetime import date, datetime
from importlib import metadata
from pathlib import Path

import duckdb

from orchestration.config import DBT_PROJECT_DIR, ROOT, seeds_dir
from orchestration.warehouse import ddl
from orchestration.warehouse.vocabulary import relation_exists

# Seed files up to this size are kept verbatim (deduplicated by hash) so `diff` can show which rows changed.
SEED_COPY_MAX_BYTES = 2_000_000
# The files that compute the scores: a change here is a "changed code" cause in `diff`.
CODE_GLOBS = ("models/**/*.sql", "models/**/*.yml", "macros/**/*.sql", "dbt_project.yml")


def ensure_publish_schema(con: duckdb.DuckDBPyConnection) -> None:
    ddl.apply(con, "publish")


def has_publish_schema(con: duckdb.DuckDBPyConnection) -> bool:
    return relation_exists(con, "publish", "publications")


def columns(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> list[str]:
    return [r[0] for r in con.execute(
        "select column_name from duckdb_columns() where schema_name = ? and table_name = ? order by column_index",
        [schema, name],
    ).fetchall()]


def ident(name: str) -> str:
    """A quoted identifier (names come from the catalogue or from code, never from the user)."""
    return '"' + name.replace('"', '""') + '"'


# ------------------------------------------------------------------------------------------ stamps


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def code_hash() -> str:
    """SHA-256 over the dbt models, macros and project file: what turns extracts into scores."""
    h = hashlib.sha256()
    files = sorted({p for g in CODE_GLOBS for p in DBT_PROJECT_DIR.glob(g) if p.is_file()})
    for p in files:
        h.update(p.relative_to(DBT_PROJECT_DIR).as_posix().encode() + b"\0")
        h.update(hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()


def code_version() -> str:
    """Package version and git commit, marked when the scoring code has uncommitted changes."""
    try:
        version = metadata.version("piramide")
    except metadata.PackageNotFoundError:
        version = "unknown"
    text = f"piramide {version}"
    commit = _git("rev-parse", "--short=12", "HEAD")
    if commit:
        dirty = _git("status", "--porcelain", "--", "dbt_project/models", "dbt_project/macros",
                     "dbt_project/dbt_project.yml", "seeds")
        text += f" git {commit}" + (" (uncommitted changes)" if dirty else "")
    return text


@dataclass(frozen=True)
class SeedFile:
    name: str
    sha256: str
    size_bytes: int
    content: str | None


def seed_files(folder: Path | None = None) -> list[SeedFile]:
    out = []
    for p in sorted((folder or seeds_dir()).iterdir()):
        if not p.is_file() or p.name.startswith("."):
            continue
        data = p.read_bytes()
        keep = len(data) <= SEED_COPY_MAX_BYTES
        out.append(SeedFile(p.name, hashlib.sha256(data).hexdigest(), len(data),
                            data.decode("utf-8", errors="replace") if keep else None))
    return out


def seeds_hash(files: list[SeedFile]) -> str:
    h = hashlib.sha256()
    for f in files:
        h.update(f"{f.name}\0{f.sha256}\n".encode())
    return h.hexdigest()


def current_deliveries(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """The ledger's current delivery of every family and month: what the marts were built from."""
    rows = con.execute(
        "select c.delivery_id, c.family, c.month, l.file, l.checksum, l.rows_accepted, l.min_event_month, "
        "l.outcome, l.loaded_at from audit.current_deliveries c join audit.load_ledger l using (delivery_id) "
        "order by c.family, c.month"
    ).fetchall()
    keys = ("delivery_id", "family", "month", "file", "checksum", "rows_accepted", "min_event_month", "outcome",
            "loaded_at")
    return [{k: _plain(v) for k, v in zip(keys, r, strict=True)} for r in rows]


def _plain(v):
    if isinstance(v, datetime):
        return v.isoformat(sep=" ", timespec="seconds")
    if isinstance(v, date):
        return v.isoformat()
    return v


def to_json(value) -> str:
    return json.dumps(value, sort_keys=True, default=_plain, separators=(",", ":"))


# ------------------------------------------------------------------------------------------ integrity

# Ordered by the primary key, so the hash does not depend on storage order.
HASHED = {
    "published_scores": "structure_code, kpi_code",
    "published_pyramid": "structure_code, node_code",
    "published_seeds": "seed_name",
}


def content_hash(con: duckdb.DuckDBPyConnection, publication_id: int) -> str:
    """SHA-256 over every published row of one publication."""
    h = hashlib.sha256()
    for table, order in HASHED.items():
        cur = con.execute(
            f"select * from publish.{table} where publication_id = ? order by {order}",  # noqa: S608 (constants)
            [publication_id],
        )
        h.update(table.encode() + b"\0")
        while batch := cur.fetchmany(5000):
            for row in batch:
                h.update(repr(row).encode())
                h.update(b"\n")
    return h.hexdigest()


def verify(con: duckdb.DuckDBPyConnection, publication_id: int) -> bool:
    """True when the publication's rows are still exactly those it was stamped with."""
    row = con.execute(
        "select content_hash from publish.publications where publication_id = ? and event = 'publish'",
        [publication_id],
    ).fetchone()
    return bool(row) and row[0] == content_hash(con, publication_id)
