"""Write a family's month as the contract says: typed columns, one file per family per month."""

from __future__ import annotations

import shutil
from collections.abc import Iterable
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


def write_chunked(
    con: duckdb.DuckDBPyConnection, fam_name: str, chunks: Iterable[dict[date, pd.DataFrame]], out: Path, fmt: str
) -> list[tuple[Path, int]]:
    """Write each chunk's months as Parquet parts in a hidden folder, then one file per month: the parts
    concatenated in chunk order by DuckDB (streamed, order-preserving, so the bytes are deterministic)."""
    parts_dir = out / f".{fam_name}.parts"
    shutil.rmtree(parts_dir, ignore_errors=True)
    parts_dir.mkdir(parents=True)
    parts: dict[date, list[Path]] = {}
    rows: dict[date, int] = {}
    try:
        for k, chunk in enumerate(chunks):
            for month, df in chunk.items():
                part = write(con, fam_name, month, df, parts_dir, "parquet")
                path = part.with_name(f"{part.stem}.{k:04d}.parquet")
                part.replace(path)
                parts.setdefault(month, []).append(path)
                rows[month] = rows.get(month, 0) + len(df)
        written = []
        for month in sorted(parts):
            path = out / file_name(fam_name, month, fmt)
            tmp = path.with_name(f".{path.name}.part")
            rel = con.read_parquet([str(p) for p in parts[month]])
            if fmt == "parquet":
                rel.write_parquet(str(tmp), compression="zstd")
            else:
                rel.write_csv(str(tmp), header=True)
            tmp.replace(path)
            written.append((path, rows[month]))
    finally:
        shutil.rmtree(parts_dir, ignore_errors=True)
    return written
