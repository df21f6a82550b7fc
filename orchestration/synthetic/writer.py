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
    # Written next to the target under a hidden name (the loader skips dot-files), then renamed, so the inbox
    # never holds a half-written file. The path goes to DuckDB's writer as an argument, never into SQL text
    # (an output folder with a quote in its name would otherwise break, or inject into, the COPY statement).
    tmp = path.with_name(f".{path.name}.part")
    rel = con.sql(f"select {casts} from frame")  # noqa: S608 - identifiers from the contract
    if fmt == "parquet":
        rel.write_parquet(str(tmp), compression="zstd")
    else:
        rel.write_csv(str(tmp), header=True)
    con.unregister("frame")
    tmp.replace(path)
    return path
