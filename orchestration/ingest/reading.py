"""Reading an extract file: the scan DuckDB runs, its columns checked against the contract, read errors explained.

Nothing is loaded here: `describe` asks DuckDB for the file's columns without reading its rows.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from orchestration.contract import Family
from orchestration.ingest.messages import FileRejected, excerpt

_CSV_OPTIONS = (
    # The delimiter, quoting and header are the contract's, not guessed. comment = '' and skip = 0: left to
    # the sniffer, a row starting with '#' is silently dropped as a comment and leading lines it does not
    # like are silently skipped.
    "header = true, all_varchar = true, delim = ',', quote = '\"', escape = '\"', comment = '', skip = 0, "
    "auto_detect = true, strict_mode = true, null_padding = false, encoding = 'utf-8'"
)


def reader(ext: str, path_param: str = "?") -> str:
    """The file as a subquery with _row, its 1-based data row number; the path is the bound `path_param`."""
    if ext == "parquet":
        scan = f"read_parquet({path_param}, file_row_number = true)"
        return f"(select * exclude (file_row_number), file_row_number + 1 as _row from {scan})"  # noqa: S608
    return f"(select *, row_number() over () as _row from read_csv({path_param}, {_CSV_OPTIONS}))"  # noqa: S608


def unreadable(exc: duckdb.Error, ext: str) -> FileRejected:
    """A rejection that explains a DuckDB read error without quoting file content."""
    text = str(exc)
    line = re.search(r"[Ll]ine:? (\d+)", text)
    where = f" (line {line.group(1)})" if line else ""
    if "not utf-8 encoded" in text or "Invalid unicode" in text:
        return FileRejected("encoding", f"the file is not UTF-8{where}: re-export it as UTF-8")
    if ext == "csv":
        if "sniffing" in text or "Expected Number of Columns" in text or "quote" in text.lower():
            return FileRejected(
                "unreadable",
                f"not a well-formed CSV{where}: rows with a different number of fields, an unterminated "
                "quote, or lines before the header",
            )
        return FileRejected("unreadable", f"the file cannot be read as CSV{where}")
    if "parquet" in text.lower() or "magic" in text.lower() or "too small" in text.lower():
        return FileRejected("unreadable", "the file cannot be read as Parquet (truncated or not a Parquet file)")
    return FileRejected("unreadable", f"the file cannot be read as {ext.upper()}")


def describe(con: duckdb.DuckDBPyConnection, path: Path, ext: str) -> dict[str, str]:
    """Column name -> DuckDB type of the file as read, without loading it."""
    try:
        rel = con.execute(f"describe select * from {reader(ext)}", [str(path)]).fetchall()  # noqa: S608
    except duckdb.Error as exc:
        raise unreadable(exc, ext) from None
    return {name: dtype for name, dtype, *_ in rel if name != "_row"}


def check_columns(fam: Family, cols: dict[str, str]) -> None:
    # Exact names only: afterwards every column the SQL names is a contract identifier. (DuckDB strips a
    # UTF-8 byte-order mark before the header, so a BOM never reaches the names.)
    names = list(cols)
    missing = [c for c in fam.column_names if c not in names]
    extra = [c for c in names if c not in fam.column_names]
    shown_extra = ", ".join(excerpt(e) for e in extra[:10]) + (f" and {len(extra) - 10} more" * (len(extra) > 10))
    if len(names) == 1 and missing and any(sep in names[0] for sep in (";", "\t", "|")):
        raise FileRejected(
            "wrong_delimiter",
            f"the header has a single column {excerpt(names[0])}: the file uses another delimiter than ','",
        )
    if missing and not set(names) & set(fam.column_names):
        raise FileRejected(
            "missing_column",
            "none of the contract's columns is in the header (is the header row missing?); expected: "
            + ", ".join(fam.column_names),
        )
    if missing and extra:
        raise FileRejected(
            "missing_column",
            "missing column(s) " + ", ".join(missing) + "; unexpected column(s) " + shown_extra + " (renamed?)",
        )
    if missing:
        raise FileRejected("missing_column", "missing column(s) " + ", ".join(missing))
    if extra:
        # Also a column named twice: DuckDB reads the second as <name>_1.
        raise FileRejected("extra_column", "unexpected column(s) " + shown_extra)
