"""Validate one extract file against the contract and land it in raw, as one transaction.

Every load appends exactly one ledger row (loaded, restated, unchanged or rejected) and never changes an
earlier one. The work is done by DuckDB: Python builds statements from contract identifiers only and
binds every value (file path, month, key) as a parameter.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb

from orchestration.config import pseudonym_key, settings
from orchestration.contract import FAMILIES, Family, parse_file_name
from orchestration.contract.families import WINDOW_START
from orchestration.ingest.reference import register_reference
from orchestration.ingest.schema import ensure_schema

log = logging.getLogger(__name__)

LOOSE_NAME_HINT = "expected <family>_<YYYY-MM>.<parquet|csv>"


@dataclass(frozen=True)
class LoadResult:
    delivery_id: int | None
    file: str
    family: str | None
    month: date | None
    outcome: str
    rows_read: int = 0
    rows_accepted: int = 0
    rows_rejected: int = 0
    min_event_month: date | None = None
    message: str = ""


class FileRejected(Exception):
    def __init__(self, rule: str, message: str, rows_read: int = 0):
        super().__init__(message)
        self.rule = rule
        self.rows_read = rows_read


def connect(path: Path | None = None, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    s = settings()
    path = path or s.warehouse
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), read_only=read_only)
    con.execute(f"set memory_limit = '{_safe_setting(s.memory_limit)}'")
    con.execute(f"set threads = {int(s.threads)}")
    return con


def _safe_setting(value: str) -> str:
    if not all(ch.isalnum() or ch in ". " for ch in value):
        raise ValueError(f"invalid memory limit {value!r}")
    return value


def file_checksum(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _month_start(ym: str) -> date:
    y, m = ym.split("-")
    return date(int(y), int(m), 1)


def _next_month(d: date) -> date:
    return date(d.year + (d.month == 12), d.month % 12 + 1, 1)


def _display_name(name: str) -> str:
    # Hostile names (control characters, shell metacharacters) are shown escaped, never interpreted.
    return repr(name)


# --------------------------------------------------------------------------------------------- reading


def _read_source(con: duckdb.DuckDBPyConnection, path: Path, ext: str) -> None:
    """Create temp table src (all columns as read, plus _row 1-based data row number)."""
    if path.stat().st_size == 0:
        raise FileRejected("empty_file", "the file is empty (0 bytes)")
    try:
        if ext == "parquet":
            con.execute(
                "create or replace temp table src as "
                "select * exclude (file_row_number), file_row_number + 1 as _row "
                "from read_parquet(?, file_row_number = true)",
                [str(path)],
            )
        else:
            con.execute("set preserve_insertion_order = true")
            con.execute(
                "create or replace temp table src as "
                "select *, row_number() over () as _row from read_csv(?, header = true, all_varchar = true, "
                "delim = ',', quote = '\"', escape = '\"', auto_detect = true, strict_mode = true, "
                "null_padding = false, encoding = 'utf-8')",
                [str(path)],
            )
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0][:300]
        raise FileRejected("unreadable", f"the file cannot be read as {ext.upper()}: {first}") from None


def _source_columns(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    rows = con.execute(
        "select column_name, data_type from duckdb_columns() where table_name = 'src' and database_name = 'temp' order by column_index"
    ).fetchall()
    return {name: dtype for name, dtype in rows if name != "_row"}


def _check_columns(fam: Family, cols: dict[str, str]) -> None:
    names = [c.lstrip("\ufeff") for c in cols]
    missing = [c for c in fam.column_names if c not in names]
    extra = [c for c in names if c not in fam.column_names]
    if len(names) == 1 and missing and any(sep in names[0] for sep in (";", "\t", "|")):
        raise FileRejected(
            "missing_column",
            f"the header has a single column {names[0][:80]!r}: the file seems to use another delimiter "
            "than ',' (missing columns: " + ", ".join(missing) + ")",
        )
    if missing and extra:
        raise FileRejected(
            "missing_column",
            "missing column(s) " + ", ".join(missing) + "; unexpected column(s) "
            + ", ".join(repr(e) for e in extra) + " (renamed?)",
        )
    if missing:
        raise FileRejected("missing_column", "missing column(s) " + ", ".join(missing))
    if extra:
        raise FileRejected("extra_column", "unexpected column(s) " + ", ".join(repr(e) for e in extra))


def _typed_select(fam: Family, cols: dict[str, str]) -> str:
    parts = ["_row"]
    for c in fam.columns:
        src_name = next(n for n in cols if n.lstrip("\ufeff") == c.name)
        q = '"' + src_name.replace('"', '""') + '"'
        if cols[src_name].upper() == c.sql_type.upper() or (c.type == "str" and cols[src_name] == "VARCHAR"):
            parts.append(f"{q} as {c.name}")
            parts.append(f"{q}::varchar as {c.name}__txt")
        else:
            if c.type in ("decimal", "double", "int"):
                parts.append(f"try_cast({q} as double) as {c.name}__dbl")
            parts.append(f"try_cast({q} as {c.sql_type}) as {c.name}")
            parts.append(f"{q}::varchar as {c.name}__txt")
    return ", ".join(parts)


# ------------------------------------------------------------------------------------------ row rules


def _violation_queries(fam: Family, cols: dict[str, str]) -> list[str]:
    """SQL selects returning (_row, column_name, rule_id, value) over temp table t.

    Parameters used: $month_start, $month_end (exclusive), $window_start.
    """
    qs: list[str] = []

    def sel(cond: str, column: str, rule: str, value_expr: str | None = None) -> str:
        v = value_expr or f"{column}__txt"
        return f"select _row, '{column}' as column_name, '{rule}' as rule_id, {v} as value from t where {cond}"

    for c in fam.columns:
        n = c.name
        if c.required:
            qs.append(sel(f"{n}__txt is null or trim({n}__txt) = ''", n, "not_null"))
        qs.append(sel(f"{n}__txt is not null and trim({n}__txt) <> '' and {n} is null", n, "type"))
        if c.type in ("decimal", "double", "int"):
            has_dbl = f"{n}__dbl" in _typed_select(fam, cols)
            if has_dbl:
                qs.append(sel(f"{n}__dbl is not null and not isfinite({n}__dbl)", n, "out_of_range"))
            if c.min is not None:
                qs.append(sel(f"{n} is not null and {n} < {float(c.min)!r}", n, "out_of_range"))
            if c.max is not None:
                qs.append(sel(f"{n} is not null and {n} > {float(c.max)!r}", n, "out_of_range"))
        if c.domain:
            qs.append(
                sel(
                    f"{n} is not null and not exists (select 1 from ref_codes r "
                    f"where r.domain = '{c.domain}' and r.code = t.{n})",
                    n,
                    "unknown_code",
                )
            )
            if c.levels:
                levels = ", ".join(f"'{lv}'" for lv in c.levels)
                qs.append(
                    sel(
                        f"{n} is not null and exists (select 1 from ref_codes r where r.domain = '{c.domain}' "
                        f"and r.code = t.{n} and r.level not in ({levels}))",
                        n,
                        "wrong_level",
                    )
                )
        if c.values:
            vals = ", ".join(f"'{v}'" for v in c.values)
            qs.append(sel(f"{n} is not null and {n} not in ({vals})", n, "unknown_code"))
        if c.type == "str" and not c.domain and not c.values and not c.personal:
            qs.append(sel(f"regexp_matches({n}, '^[=+\\-@\\t\\r]')", n, "formula_text"))
        if c.window:
            if c.type == "timestamp":
                qs.append(
                    sel(
                        f"{n} is not null and ({n} < $window_start::timestamp or {n} >= $month_end::timestamp)",
                        n,
                        "date_window",
                    )
                )
            else:
                qs.append(sel(f"{n} is not null and ({n} < $window_start or {n} >= $month_end)", n, "date_window"))
    for a, b in fam.date_order:
        qs.append(sel(f"{a} is not null and {b} is not null and {a} > {b}", b, "date_order",
                      f"{a}__txt || ' > ' || {b}__txt"))
    if fam.key:
        key_cols = ", ".join(fam.key)
        key_txt = " || '|' || ".join(f"coalesce({k}__txt, '')" for k in fam.key)
        qs.append(
            f"select _row, '{'+'.join(fam.key)}' as column_name, 'duplicate_key' as rule_id, {key_txt} as value "
            f"from t qualify count(*) over (partition by {key_cols}) > 1"
        )
    if "outcome_requires_defined_on" in fam.extra_rules:
        qs.append(sel("defined_on is not null and outcome is null", "outcome", "not_null"))
        qs.append(sel("defined_on is null and outcome is not null", "defined_on", "not_null"))
    if "smart_within_headcount" in fam.extra_rules:
        qs.append(sel("smart_workers > headcount", "smart_workers", "out_of_range"))
    if fam.name == "survey":
        qs.append(sel("wave is not null and wave > year($month_start)", "wave", "date_window"))
    return qs


def _month_mismatch(con: duckdb.DuckDBPyConnection, fam: Family, params: dict) -> None:
    if not fam.month_column:
        return
    mc = fam.month_column
    n, first_row, first_val = con.execute(
        f"select count(*), min(_row), arg_min({mc}__txt, _row) from t "
        f"where {mc} is not null and ({mc} < $month_start or {mc} >= $month_end)",
        {k: params[k] for k in ("month_start", "month_end")},
    ).fetchone()
    if n:
        raise FileRejected(
            "month_mismatch",
            f"{n} row(s) have {mc} outside the file's month {params['month_start']:%Y-%m} "
            f"(first at row {first_row}: {first_val!r})",
        )


# ------------------------------------------------------------------------------------- min event month


def _used(sql: str, **params) -> dict:
    """DuckDB refuses named parameters a statement does not use: pass only those it names."""
    return {k: v for k, v in params.items() if f"${k}" in sql}


def _event_expr(fam: Family) -> str:
    if fam.stateful:
        state = ", ".join(f"{e}::date" for e in fam.state_events)
        return (
            f"least(coalesce(least({state}), {fam.month_column}), "
            f"case when prev.id is null then {fam.first_event}::date else {fam.month_column} end)"
        )
    if fam.month_column:
        return f"{fam.month_column}::date"
    return "$month_start"


def _min_event_month(
    con: duckdb.DuckDBPyConnection,
    fam: Family,
    month_start: date,
    delivery_id: int,
    superseded_id: int | None,
    first_delivery: bool,
) -> date:
    if fam.stateful and first_delivery:
        # The opening file: its events predate reporting; KPIs start with the next month.
        return _next_month(month_start)
    key = fam.key[0]
    prev_join = ""
    if fam.stateful:
        prev_join = (
            f"left join (select distinct r.{key} as id from {fam.raw_table} r "
            "join audit.current_deliveries c on c.delivery_id = r.delivery_id "
            f"where r.delivery_month < $month_start) prev on prev.id = v.{key}"
        )
    expr = _event_expr(fam)
    sql = f"select min({expr}) from (select * from {fam.raw_table} where delivery_id = $did) v {prev_join}"
    m = con.execute(sql, _used(sql, month_start=month_start, did=delivery_id)).fetchone()[0]
    if superseded_id is not None:
        sup_sql = f"select min({expr}) from (select * from {fam.raw_table} where delivery_id = $sid) v {prev_join}"
        sup = con.execute(sup_sql, _used(sup_sql, month_start=month_start, sid=superseded_id)).fetchone()[0]
        m = min(x for x in (m, sup) if x is not None) if (m or sup) else None
    m = m or month_start
    if isinstance(m, datetime):
        m = m.date()
    return date(m.year, m.month, 1)


# ------------------------------------------------------------------------------------------- the load


def _ledger(con, delivery_id, file, fam, month, checksum, outcome, message, read=0, acc=0, rej=0, mem=None):
    con.execute(
        "insert into audit.load_ledger values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [delivery_id, file, fam, month, checksum, read, acc, rej, mem, outcome, message, datetime.now()],
    )


def load_file(path: Path | str, con: duckdb.DuckDBPyConnection | None = None) -> LoadResult:
    """Load one file. Opens (and closes) the warehouse unless a connection is given."""
    path = Path(path)
    own = con is None
    con = con or connect()
    try:
        ensure_schema(con)
        return _load(con, path)
    finally:
        if own:
            con.close()


def _load(con: duckdb.DuckDBPyConnection, path: Path) -> LoadResult:
    name = path.name
    shown = _display_name(name)
    delivery_id = con.execute("select nextval('audit.delivery_seq')").fetchone()[0]
    parsed = parse_file_name(name)
    checksum = file_checksum(path) if path.is_file() else None

    def reject(fam_name, month, rule, msg, read=0):
        message = f"{shown} rejected [{rule}]: {msg}"
        _ledger(con, delivery_id, name, fam_name, month, checksum, "rejected", message, read, 0, read)
        log.warning(message)
        return LoadResult(delivery_id, name, fam_name, month, "rejected", read, 0, read, None, message)

    if parsed is None:
        import re

        m = re.match(r"^([A-Za-z0-9]+(?:_[A-Za-z]+)*)_(\d{4}-\d{2})\.(parquet|csv)$", name)
        if m and m.group(1) not in FAMILIES:
            return reject(None, None, "unknown_family", f"unknown extract family {m.group(1)!r}; known: "
                          + ", ".join(FAMILIES))
        return reject(None, None, "bad_file_name", LOOSE_NAME_HINT)
    fam_name, ym, ext = parsed
    if fam_name not in FAMILIES:
        return reject(None, None, "unknown_family", f"unknown extract family {fam_name!r}; known: " + ", ".join(FAMILIES))
    fam = FAMILIES[fam_name]
    month_start = _month_start(ym)
    month_end = _next_month(month_start)

    current = con.execute(
        "select l.delivery_id, l.checksum from audit.current_deliveries c "
        "join audit.load_ledger l using (delivery_id) where c.family = ? and c.month = ?",
        [fam_name, month_start],
    ).fetchone()
    if current and current[1] == checksum:
        message = f"{shown}: identical to delivery {current[0]} (same checksum), nothing to do"
        _ledger(con, delivery_id, name, fam_name, month_start, checksum, "unchanged", message)
        return LoadResult(delivery_id, name, fam_name, month_start, "unchanged", message=message)
    superseded_id = current[0] if current else None
    first_delivery = (
        con.execute(
            "select count(*) from audit.current_deliveries where family = ? and month < ?", [fam_name, month_start]
        ).fetchone()[0]
        == 0
    )

    key, key_id = pseudonym_key()
    try:
        con.execute("begin transaction")
        register_reference(con)
        _read_source(con, path, ext)
        cols = _source_columns(con)
        _check_columns(fam, cols)
        con.execute(f"create or replace temp table t as select {_typed_select(fam, cols)} from src")  # noqa: S608
        con.execute("drop table src")
        rows_read = con.execute("select count(*) from t").fetchone()[0]
        if rows_read == 0:
            raise FileRejected("empty_file", "the file has a header but no data rows")
        params = {"month_start": month_start, "month_end": month_end, "window_start": WINDOW_START}
        try:
            _month_mismatch(con, fam, params)
        except FileRejected as exc:
            exc.rows_read = rows_read
            raise
        union = "\nunion all\n".join(_violation_queries(fam, cols))
        con.execute(f"create or replace temp table viol as {union}", _used(union, **params))  # noqa: S608
        rejected = con.execute("select count(distinct _row) from viol").fetchone()[0]
        accepted = rows_read - rejected
        threshold = settings().restatement_min_valid_share
        if superseded_id is not None and accepted < threshold * rows_read:
            raise FileRejected(
                "too_many_invalid",
                f"restatement with only {accepted} of {rows_read} rows valid (below {threshold:.0%}); "
                f"delivery {superseded_id} stays current",
                rows_read,
            )
        select_cols = []
        for c in fam.columns:
            if c.personal:
                select_cols.append(
                    f"case when {c.name} is null then null else sha256($key || '|' || {c.name}) end "
                    f"as {c.name.removesuffix('_tax_code')}_pseudonym"
                )
            else:
                select_cols.append(c.name)
        if fam.personal_columns:
            select_cols.append("$key_id as key_id")
        raw_cols = [c.name if not c.personal else f"{c.name.removesuffix('_tax_code')}_pseudonym" for c in fam.columns]
        raw_cols += (["key_id"] if fam.personal_columns else []) + ["delivery_id", "delivery_month", "_file", "_row"]
        con.execute(
            f"insert into {fam.raw_table} ({', '.join(raw_cols)}) select "  # noqa: S608
            + ", ".join(select_cols)
            + ", $delivery_id, $month_start, $file, _row "
            "from t anti join viol using (_row)",
            {
                **({"key": key, "key_id": key_id} if fam.personal_columns else {}),
                "delivery_id": delivery_id,
                "month_start": month_start,
                "file": name,
            },
        )
        personal = {c.name for c in fam.personal_columns}
        value_expr = (
            "case when column_name in (" + ", ".join(f"'{p}'" for p in personal) + ") "
            "then 'sha256:' || sha256($key || '|' || coalesce(value, '')) else left(value, 200) end"
            if personal
            else "left(value, 200)"
        )
        con.execute(
            f"insert into audit.quarantine select $delivery_id, $file, _row, column_name, rule_id, {value_expr} "  # noqa: S608
            "from viol order by _row, column_name, rule_id",
            {"delivery_id": delivery_id, "file": name, **({"key": key} if personal else {})},
        )
        mem = _min_event_month(con, fam, month_start, delivery_id, superseded_id, first_delivery)
        outcome = "restated" if superseded_id is not None else "loaded"
        message = f"{shown}: {accepted} of {rows_read} rows accepted, {rejected} quarantined"
        if superseded_id is not None:
            message += f"; supersedes delivery {superseded_id}"
        _ledger(con, delivery_id, name, fam_name, month_start, checksum, outcome, message,
                rows_read, accepted, rejected, mem)
        con.execute("drop table if exists t; drop table if exists viol")
        con.execute("commit")
        log.info(message)
        return LoadResult(delivery_id, name, fam_name, month_start, outcome, rows_read, accepted, rejected, mem, message)
    except FileRejected as exc:
        con.execute("rollback")
        return reject(fam_name, month_start, exc.rule, str(exc), exc.rows_read)
    except Exception:
        con.execute("rollback")
        raise


def inbox_files(inbox: Path) -> list[Path]:
    """Files in load order: by month, the opening month first, then by family name."""
    files = [p for p in inbox.iterdir() if p.is_file() and not p.name.startswith(".")]

    def order(p: Path):
        parsed = parse_file_name(p.name)
        return (parsed[1], parsed[0]) if parsed else ("9999", p.name)

    return sorted(files, key=order)


def load_inbox(inbox: Path | None = None, con: duckdb.DuckDBPyConnection | None = None,
               families: tuple[str, ...] | None = None) -> list[LoadResult]:
    """Load what is new in the inbox: a file whose name and checksum the ledger has seen is skipped."""
    inbox = Path(inbox or settings().inbox)
    own = con is None
    con = con or connect()
    results: list[LoadResult] = []
    try:
        ensure_schema(con)
        seen = set(con.execute("select file, checksum from audit.load_ledger").fetchall())
        for p in inbox_files(inbox):
            parsed = parse_file_name(p.name)
            if families is not None and (parsed is None or parsed[0] not in families):
                continue
            if (p.name, file_checksum(p)) in seen:
                continue
            results.append(_load(con, p))
    finally:
        if own:
            con.close()
    return results
