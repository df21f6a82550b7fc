"""`piramide export --format parquet`: every marts table as a Parquet file, for BI tools whose DuckDB driver is
older than the warehouse's storage format (a driver bundling an older DuckDB cannot open the file).

One file per table plus `manifest.json` (rows, columns with types and descriptions, SHA-256 of each file), read
through a read-only connection. Files are written into a staging folder and swapped in at the end, so a tool
refreshing from the folder never mixes two exports.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from orchestration.config import settings

EXPORT_SCHEMA = "marts"


@dataclass(frozen=True)
class ExportResult:
    folder: Path
    tables: list[dict]
    seconds: float
    skipped: list[dict]


def default_export_dir() -> Path:
    return settings().warehouse.parent / "export" / "parquet"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def export_parquet(out: Path | None = None, warehouse: Path | None = None) -> ExportResult:
    t0 = time.perf_counter()
    src = warehouse or settings().warehouse
    folder = Path(out) if out else default_export_dir()
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = folder.parent / f".{folder.name}.staging"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    con = duckdb.connect(str(src), read_only=True)
    try:
        relations = con.execute(
            "select table_name, comment, 'table' from duckdb_tables() where schema_name = ? "
            "union all select view_name, comment, 'view' from duckdb_views() where schema_name = ? and not internal "
            "order by 1",
            [EXPORT_SCHEMA, EXPORT_SCHEMA],
        ).fetchall()
        tables, skipped = [], []
        for name, comment, kind in relations:
            file = staging / f"{name}.parquet"
            ident = f"{_quote(EXPORT_SCHEMA)}.{_quote(name)}"
            target = str(file).replace("'", "''")
            try:
                con.execute(f"copy (select * from {ident}) to '{target}' (format parquet, compression zstd)")  # noqa: S608
            except duckdb.Error as exc:
                # A view over a table this warehouse does not have yet (e.g. no publication so far) is reported
                # in the manifest; a table that cannot be read is a real error.
                if kind != "view":
                    raise
                file.unlink(missing_ok=True)
                skipped.append({"table": f"{EXPORT_SCHEMA}.{name}", "kind": kind, "error": str(exc).splitlines()[0]})
                continue
            rows = con.execute(f"select count(*) from {ident}").fetchone()[0]  # noqa: S608
            columns = [
                {"name": c, "type": t, "description": d}
                for c, t, d in con.execute(
                    "select column_name, data_type, comment from duckdb_columns() "
                    "where schema_name = ? and table_name = ? order by column_index",
                    [EXPORT_SCHEMA, name],
                ).fetchall()
            ]
            tables.append({"table": f"{EXPORT_SCHEMA}.{name}", "kind": kind, "file": file.name, "rows": rows,
                           "bytes": file.stat().st_size, "sha256": _sha256(file), "description": comment,
                           "columns": columns})
        version = con.execute("select version()").fetchone()[0]
    finally:
        con.close()
    manifest = {
        "source": src.name,
        "schema": EXPORT_SCHEMA,
        "exported_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "duckdb_version": version,
        "format": "parquet (zstd)",
        "tables": tables,
        "skipped": skipped,
    }
    (staging / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    old = folder.parent / f".{folder.name}.old"
    shutil.rmtree(old, ignore_errors=True)
    if folder.exists():
        os.replace(folder, old)
    os.replace(staging, folder)
    shutil.rmtree(old, ignore_errors=True)
    return ExportResult(folder, tables, time.perf_counter() - t0, skipped)
