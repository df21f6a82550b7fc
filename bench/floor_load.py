"""The load floor (issue 13): a plain DuckDB insert of the inbox files into typed tables, one transaction per file.

The tables are created with the pipeline warehouse's own `raw` DDL (same columns, same types), in a fresh file
opened with the project's connection settings (memory_limit, threads, checkpoint threshold) and the loader's
unordered insert. Each file is read and inserted as it is: columns cast to raw's types, the tax code hashed
(sha256 of the key and the value, as the loader does, so no tax code is stored in clear), the delivery columns
filled. No rule, quarantine, ledger or gate: what is left of the load when everything the pipeline adds to a
plain insert is taken away. Prints one JSON line: seconds, rows and files per family.

    .venv/bin/python bench/floor_load.py INBOX PIPELINE_WAREHOUSE FLOOR_WAREHOUSE
"""

from __future__ import annotations

import json
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from orchestration.config import pseudonym_key  # noqa: E402
from orchestration.contract.families import parse_file_name  # noqa: E402
from orchestration.warehouse.connection import connect  # noqa: E402


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def raw_tables(pipeline: Path) -> dict[str, tuple[str, list[tuple[str, str]]]]:
    """{table: (DDL, [(column, type)])} of the pipeline warehouse's raw schema."""
    import duckdb

    con = duckdb.connect(str(pipeline), read_only=True)
    try:
        ddl = dict(con.execute("select table_name, sql from duckdb_tables() where schema_name = 'raw'").fetchall())
        cols: dict[str, list[tuple[str, str]]] = {}
        for table, column, type_ in con.execute(
            "select table_name, column_name, data_type from duckdb_columns() where schema_name = 'raw' "
            "order by table_name, column_index"
        ).fetchall():
            cols.setdefault(table, []).append((column, type_))
    finally:
        con.close()
    return {t: (ddl[t], cols[t]) for t in ddl}


def select_list(columns: list[tuple[str, str]], in_file: set[str]) -> str:
    out = []
    for name, type_ in columns:
        tax = name.removesuffix("_pseudonym") + "_tax_code"
        if name in in_file:
            out.append(f"cast({_q(name)} as {type_})")
        elif name.endswith("_pseudonym") and tax in in_file:
            out.append(f"sha256($key || '|' || upper(trim({_q(tax)}::varchar)))")
        elif name == "key_id":
            out.append("$key_id")
        elif name in ("delivery_id", "delivery_month", "_file", "_row"):
            out.append({"delivery_id": "$delivery_id", "delivery_month": "$month", "_file": "$file",
                        "_row": "file_row_number + 1"}[name])
        else:
            out.append(f"cast(null as {type_})")
    return ", ".join(out)


def main(inbox: Path, pipeline: Path, floor: Path) -> dict:
    tables = raw_tables(pipeline)
    floor.unlink(missing_ok=True)
    Path(f"{floor}.wal").unlink(missing_ok=True)
    key, key_id = pseudonym_key()
    files = sorted(p for p in inbox.iterdir() if parse_file_name(p.name) and parse_file_name(p.name)[0] in tables)
    con = connect(floor)
    stats: dict[str, dict[str, int]] = {}
    t0 = time.perf_counter()
    try:
        con.execute("create schema raw")
        for ddl, _ in tables.values():
            con.execute(ddl)
        # The loader's insert: raw rows carry their file row, so no insertion order to keep.
        con.execute("set preserve_insertion_order = false")
        for delivery_id, path in enumerate(files, start=1):
            family, month, ext = parse_file_name(path.name)
            reader = ("read_parquet($path, file_row_number = true)" if ext == "parquet" else
                      "(select *, row_number() over () - 1 as file_row_number from read_csv($path, header = true))")
            described = con.execute(f"describe select * from {reader}", {"path": str(path)}).fetchall()  # noqa: S608
            in_file = {r[0] for r in described}
            sql = (f"insert into raw.{_q(family)} select {select_list(tables[family][1], in_file)} "  # noqa: S608
                   f"from {reader}")
            params = {"path": str(path), "delivery_id": delivery_id, "file": path.name,
                      "month": date.fromisoformat(month + "-01")}
            if "$key" in sql:
                params |= {"key": key, "key_id": key_id}
            con.execute("begin transaction")
            n = con.execute(sql, params).fetchone()[0]
            con.execute("commit")
            s = stats.setdefault(family, {"files": 0, "rows": 0})
            s["files"] += 1
            s["rows"] += int(n)
        con.execute("checkpoint")
    finally:
        con.close()
    return {"seconds": time.perf_counter() - t0, "families": stats,
            "rows": sum(s["rows"] for s in stats.values()), "files": len(files)}


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))))
