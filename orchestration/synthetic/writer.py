"""Write a family's month as the contract says: typed columns, one file per family per month."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

from orchestration.contract import family


def file_name(fam: str, month: date, fmt: str) -> str:
    return f"{fam}_{month:%Y-%m}.{fmt}"


def write(con: duckdb.DuckDBPyConnection, fam_name: str, month: date, df: pd.DataFrame, out: Path, fmt: str) -> Path:
    fam = family(fam_name)
    path = out / file_name(fam_name, month, fmt)
    casts = ", ".join(f"cast({c.name} as {c.sql_type}) as {c.name}" for c in fam.columns)
    con.register("frame", df)
    options = "format parquet, compression zstd" if fmt == "parquet" else "format csv, header true"
    tmp = path.with_name(path.name + ".part")
    # Identifiers come from the contract; the path is ours. Written next to the target, then renamed,
    # so the inbox never holds a half-written file.
    con.execute(f"copy (select {casts} from frame) to '{tmp}' ({options})")  # noqa: S608
    con.unregister("frame")
    tmp.replace(path)
    return path
