"""Validate one extract file against the contract and land it in raw, as one transaction.

Every load appends exactly one ledger row (loaded, restated, unchanged or rejected) and never changes an
earlier one. The work is done by DuckDB: statements are built from contract identifiers only (checked by
`_ident`), and every value that comes from outside the code (file path, month, key, codes) is a bound
parameter.

Crash safety: the raw rows, the quarantine rows and the ledger row of a delivery are written in one
transaction, so a load killed at any point leaves either all of them or none. A delivery_id taken from the
sequence by a load that never committed is simply never used (ids may have gaps); after a crash DuckDB may
hand the same number out again, which is harmless because nothing committed carries it. The rerun finds no
ledger row for the file and loads it again: recovery is the ordinary load.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb

from orchestration.config import pseudonym_key, settings
from orchestration.contract import FAMILIES, Family, parse_file_name
from orchestration.contract.families import (
    LOOSE_FILE_NAME_RE,
    TAX_CODE_PATTERN,
    WINDOW_START,
    Column,
)
from orchestration.ingest.reference import register_reference
from orchestration.ingest.schema import ensure_schema

log = logging.getLogger(__name__)

LOOSE_NAME_HINT = "expected <family>_<YYYY-MM>.<parquet|csv>"
TAX_CODE_RE = re.compile(TAX_CODE_PATTERN)
_IDENT_RE = re.compile(r"[a-z_][a-z0-9_]*\Z")
# Longest excerpt of anything read from a file (a header, a DuckDB message) that a message may quote.
_EXCERPT = 120


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
    rule: str | None = None  # the file rule of a rejection (KPI_SPEC section 10)


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
    # CSV rows are numbered by row_number() over the scan: only an order-preserving scan makes it the file row.
    con.execute("set preserve_insertion_order = true")
    # A load commits once per file; checkpointing after each would rewrite the tables' tails every time.
    # Committed data is safe in the WAL either way; the checkpoint happens when the WAL grows or at close.
    con.execute("set checkpoint_threshold = '1GB'")
    try:
        # Timestamps are Europe/Rome local time (LANDING_CONTRACT): a Parquet TIMESTAMPTZ converts to it.
        con.execute("set TimeZone = 'Europe/Rome'")
    except duckdb.Error:  # pragma: no cover - ICU is bundled with the Python wheels
        log.debug("ICU unavailable: time zone left at the default")
    return con


def _safe_setting(value: str) -> str:
    if not all(ch.isalnum() or ch in ". " for ch in value):
        raise ValueError(f"invalid memory limit {value!r}")
    return value


# Every column name the load statements may name: the contract's columns and the pseudonym columns of raw.
_CONTRACT_NAMES = frozenset(
    {c.name for f in FAMILIES.values() for c in f.columns}
    | {c.name.removesuffix("_tax_code") + "_pseudonym" for f in FAMILIES.values() for c in f.personal_columns}
)


def _ident(name: str) -> str:
    """An identifier that goes into SQL: only the contract's own (lower-case) column names pass."""
    if not _IDENT_RE.match(name) or name not in _CONTRACT_NAMES:
        raise ValueError(f"not a contract identifier: {name!r}")
    return name


def _literal(value: str) -> str:
    """A contract constant (domain name, level, allowed value) as a SQL string literal."""
    if not re.fullmatch(r"[A-Za-z0-9_]+", value):
        raise ValueError(f"not a contract constant: {value!r}")
    return f"'{value}'"


def _literal_col(column: str) -> str:
    """A quarantine column name: a contract column, or key columns joined by '+'."""
    return "'" + "+".join(_ident(part) for part in column.split("+")) + "'"


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


def redact(text: str) -> str:
    """Mask anything shaped like a tax code: messages quote headers and DuckDB errors, which quote the file."""
    return TAX_CODE_RE.sub("<tax code>", text)


def _display_name(name: str) -> str:
    # Hostile names (control characters, shell metacharacters) are shown escaped, never interpreted.
    return redact(repr(name))


def _excerpt(text: str) -> str:
    text = redact(text)
    return repr(text[:_EXCERPT] + ("…" if len(text) > _EXCERPT else ""))


# --------------------------------------------------------------------------------------------- reading

_CSV_OPTIONS = (
    # The delimiter, quoting and header are the contract's, not guessed. comment = '' and skip = 0: left to
    # the sniffer, a row starting with '#' is silently dropped as a comment and leading lines it does not
    # like are silently skipped.
    "header = true, all_varchar = true, delim = ',', quote = '\"', escape = '\"', comment = '', skip = 0, "
    "auto_detect = true, strict_mode = true, null_padding = false, encoding = 'utf-8'"
)


def _reader(ext: str, path_param: str = "?") -> str:
    """The file as a subquery with _row, its 1-based data row number; the path is the bound `path_param`."""
    if ext == "parquet":
        scan = f"read_parquet({path_param}, file_row_number = true)"
        return f"(select * exclude (file_row_number), file_row_number + 1 as _row from {scan})"  # noqa: S608
    return f"(select *, row_number() over () as _row from read_csv({path_param}, {_CSV_OPTIONS}))"  # noqa: S608


def _unreadable(exc: duckdb.Error, ext: str) -> FileRejected:
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


def _describe(con: duckdb.DuckDBPyConnection, path: Path, ext: str) -> dict[str, str]:
    """Column name -> DuckDB type of the file as read, without loading it."""
    try:
        rel = con.execute(f"describe select * from {_reader(ext)}", [str(path)]).fetchall()  # noqa: S608
    except duckdb.Error as exc:
        raise _unreadable(exc, ext) from None
    return {name: dtype for name, dtype, *_ in rel if name != "_row"}


def _check_columns(fam: Family, cols: dict[str, str]) -> None:
    # Exact names only: afterwards every column the SQL names is a contract identifier. (DuckDB strips a
    # UTF-8 byte-order mark before the header, so a BOM never reaches the names.)
    names = list(cols)
    missing = [c for c in fam.column_names if c not in names]
    extra = [c for c in names if c not in fam.column_names]
    shown_extra = ", ".join(_excerpt(e) for e in extra[:10]) + (f" and {len(extra) - 10} more" * (len(extra) > 10))
    if len(names) == 1 and missing and any(sep in names[0] for sep in (";", "\t", "|")):
        raise FileRejected(
            "wrong_delimiter",
            f"the header has a single column {_excerpt(names[0])}: the file uses another delimiter than ','",
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


# ------------------------------------------------------------------------------------------ the rules


def _is_cast(c: Column, src_type: str) -> bool:
    """Whether the column as read needs a cast to the contract type (CSV: every non-text column)."""
    return not (src_type.upper() == c.sql_type.upper() or (c.type == "str" and src_type.upper() == "VARCHAR"))


NUMERIC = ("decimal", "double", "int")
# Dates and local timestamps as the contract writes them (no offset: timestamps are Europe/Rome local time).
ISO_TEXT = {
    "date": r"\s*\d{4}-\d{2}-\d{2}\s*",
    "timestamp": r"\s*\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?\s*",
}


# A tax code has 16 characters: a shorter text (most codes and identifiers) cannot hold one, and skipping the
# regular expression for it makes the read a fifth faster.
TAX_CODE_LENGTH = 16


def _masked(expr: str) -> str:
    """A text with anything shaped like a tax code replaced: what a rule quotes from it is safe to store."""
    return (f"case when length({expr}) < {TAX_CODE_LENGTH} then {expr} "
            f"else regexp_replace({expr}, '{TAX_CODE_PATTERN}', '<tax code>', 'g') end")


def _free_text(c: Column) -> bool:
    """Identifiers and free text: no code list checks them, so a tax code in clear is its own finding."""
    return c.type == "str" and not c.domain and not c.values and not c.personal


def _typed_columns(fam: Family, cols: dict[str, str]) -> str:
    """Select list over the raw scan `s`: typed contract columns, plus the text (and double) of cast ones."""
    parts = ["_row"]
    for c in fam.columns:
        n = s = _ident(c.name)
        if c.personal:
            # Pseudonymised in the read itself: no table, not even this temporary one, ever holds the clear value
            # (a temporary table can spill to disk). Normalised first, so ' rssmra…' and 'RSSMRA…' are one person.
            parts.append(f"case when trim({s}::varchar) = '' then null "
                         f"else sha256($key || '|' || upper(trim({s}::varchar))) end as {n}")
            continue
        if not _is_cast(c, cols[n]):
            # A blank text is a missing value: not_null catches it, and no code rule repeats the finding.
            if c.type == "str":
                parts.append(f"case when trim({s}) = '' then null else {_masked(s)} end as {n}")
                if _free_text(c):
                    parts.append(f"(length({s}) >= {TAX_CODE_LENGTH} and regexp_matches({s}, '{TAX_CODE_PATTERN}')) "
                                 f"as {n}__tax_code")
            else:
                parts.append(f"{s} as {n}")
            continue
        parts.append(f"{_masked(f'{s}::varchar')} as {n}__txt")
        if c.type in NUMERIC:
            parts.append(f"try_cast({s} as double) as {n}__dbl")
        if c.type == "int":
            # try_cast('3.5' as bigint) rounds to 4: an integer column accepts integral values only.
            d = f"try_cast({s} as double)"
            parts.append(f"case when isfinite({d}) and {d} = trunc({d}) then try_cast({d} as bigint) end as {n}")
        elif c.type in ISO_TEXT and cols[n].upper() == "VARCHAR":
            # DuckDB's date cast ignores trailing text ('2021-01-05 junk' is 5 January): ISO text only.
            parts.append(f"case when regexp_full_match({s}, '{ISO_TEXT[c.type]}') "
                         f"then try_cast({s} as {c.sql_type}) end as {n}")
        else:
            parts.append(f"try_cast({s} as {c.sql_type}) as {n}")
    return ", ".join(parts)


@dataclass(frozen=True)
class Rule:
    column: str
    rule: str
    cond: str  # SQL predicate over temp table t (contract identifiers only)
    value: str  # SQL expression of the offending value, for the quarantine


def _rules(fam: Family, cols: dict[str, str]) -> list[Rule]:
    """Every row rule of the family, in the fixed order the quarantine lists them."""
    rules: list[Rule] = []
    for c in fam.columns:
        n = _ident(c.name)
        cast = _is_cast(c, cols[n]) and not c.personal
        txt = f"{n}__txt" if cast else (n if c.type == "str" else f"{n}::varchar")
        if c.required:
            blank = f"({txt} is null or trim({txt}) = '')" if cast else f"{n} is null"
            rules.append(Rule(n, "not_null", blank, txt))
        present = f"{txt} is not null and trim({txt}) <> ''"
        if cast and c.type in NUMERIC:
            dbl = f"{n}__dbl"
            integral = f" or (isfinite({dbl}) and {dbl} <> trunc({dbl}))" if c.type == "int" else ""
            rules.append(Rule(n, "type", f"{present} and ({dbl} is null{integral})", txt))
            bounds = ["not isfinite({d})"]
            if c.min is not None:
                bounds.append(f"{{d}} < {float(c.min)!r}")
            if c.max is not None:
                bounds.append(f"{{d}} > {float(c.max)!r}")
            # A finite number the contract type cannot hold (1e20 in DECIMAL(18,2)) is out of range, too.
            bounds.append(f"{n} is null")
            whole = f" and (not isfinite({dbl}) or {dbl} = trunc({dbl}))" if c.type == "int" else ""
            cond = f"{dbl} is not null{whole} and (" + " or ".join(b.format(d=dbl) for b in bounds) + ")"
            rules.append(Rule(n, "out_of_range", cond, txt))
        elif cast:
            rules.append(Rule(n, "type", f"{present} and {n} is null", txt))
        elif c.type in NUMERIC:
            bounds = ["not isfinite({d})"] if c.type == "double" else []
            if c.min is not None:
                bounds.append(f"{{d}} < {float(c.min)!r}")
            if c.max is not None:
                bounds.append(f"{{d}} > {float(c.max)!r}")
            if bounds:
                cond = f"{n} is not null and (" + " or ".join(b.format(d=n) for b in bounds) + ")"
                rules.append(Rule(n, "out_of_range", cond, txt))
        if c.domain:
            for rule in ("unknown_code", "wrong_level") if c.levels else ("unknown_code",):
                member = f"{n} in (select code from bad_codes where column_name = {_literal(n)} "  # noqa: S608
                rules.append(Rule(n, rule, member + f"and rule_id = {_literal(rule)})", txt))
        if c.values:
            values = ", ".join(_literal(v) for v in c.values)
            rules.append(Rule(n, "unknown_code", f"{n} is not null and {n} not in ({values})", txt))
        if _free_text(c):
            # Spreadsheet formula injection (OWASP CSV injection): refused, never stored.
            rules.append(Rule(n, "formula_text", f"regexp_matches({n}, '^[=+\\-@\\t\\r]')", txt))
            if not cast:
                # Identifiers and free text must not carry a tax code in clear (the read masked it already; a
                # column of another type in the file cannot spell one).
                rules.append(Rule(n, "personal_data", f"{n}__tax_code", txt))
        if c.window:
            lo, hi = ("$window_start::timestamp", "$month_end::timestamp") if c.type == "timestamp" else (
                "$window_start", "$month_end")
            rules.append(Rule(n, "date_window", f"{n} is not null and ({n} < {lo} or {n} >= {hi})", txt))
    for a, b in fam.date_order:
        a, b = _ident(a), _ident(b)
        rules.append(Rule(b, "date_order", f"{a} is not null and {b} is not null and {a} > {b}",
                          f"{a}::varchar || ' > ' || {b}::varchar"))
    if fam.key:
        key_txt = " || '|' || ".join(f"coalesce({_ident(k)}::varchar, '')" for k in fam.key)
        keys = ", ".join(_ident(k) for k in fam.key)
        member = f"({keys}) in (select {keys} from dups)"  # noqa: S608
        rules.append(Rule("+".join(fam.key), "duplicate_key", member, key_txt))
    if "outcome_requires_defined_on" in fam.extra_rules:
        rules.append(Rule("outcome", "not_null", "defined_on is not null and outcome is null", "outcome"))
        rules.append(Rule("defined_on", "not_null", "defined_on is null and outcome is not null",
                          "defined_on::varchar"))
    if "smart_within_headcount" in fam.extra_rules:
        rules.append(Rule("smart_workers", "out_of_range", "smart_workers > headcount",
                          "smart_workers::varchar || ' > ' || headcount::varchar"))
    if fam.name == "survey":
        rules.append(Rule("wave", "date_window", "wave is not null and wave > year($month_start)", "wave::varchar"))
    return rules


def _build_t(con: duckdb.DuckDBPyConnection, fam: Family, cols: dict[str, str], path: Path, ext: str) -> None:
    """Temp tables for the rules: t (the file read once, typed), bad_codes and dups (both usually empty).

    Codes are checked once per distinct value (a file has thousands of rows but a few hundred codes), and
    duplicate keys by one aggregate; the row rules then only test membership in these small tables.
    """
    sql = (f"create or replace temp table t as select {_typed_columns(fam, cols)} "  # noqa: S608
           f"from {_reader(ext, '$path')} s")
    try:
        params = {"path": str(path)}
        if fam.personal_columns:
            params["key"] = pseudonym_key()[0]
        con.execute(sql, params)
    except duckdb.Error as exc:
        raise _unreadable(exc, ext) from None
    con.execute(
        "create or replace temp table bad_codes (column_name varchar, code varchar, rule_id varchar)"
    )
    for c in fam.columns:
        if not c.domain:
            continue
        n = _ident(c.name)
        levels = ", ".join(_literal(lv) for lv in c.levels) if c.levels else None
        wrong_level = f"r.level not in ({levels})" if levels else "false"
        # Identifiers and constants from the contract; the codes themselves stay in the tables.
        con.execute(
            "insert into bad_codes "  # noqa: S608
            f"select {_literal(n)}, d.code, case when r.code is null then 'unknown_code' else 'wrong_level' end "
            f"from (select distinct {n} as code from t where {n} is not null) d "
            "left join (select code, min(level) as level from ref_codes "
            f"where domain = {_literal(c.domain)} group by code) r on r.code = d.code "
            f"where r.code is null or {wrong_level}"
        )
    if fam.key:
        keys = ", ".join(_ident(k) for k in fam.key)
        not_null = " and ".join(f"{_ident(k)} is not null" for k in fam.key)
        # Rows with a null key part fail not_null; they do not make the other rows duplicates.
        con.execute(
            f"create or replace temp table dups as select {keys} from t where {not_null} "  # noqa: S608
            f"group by {keys} having count(*) > 1"
        )


def _month_mismatch(con: duckdb.DuckDBPyConnection, fam: Family, params: dict) -> None:
    if not fam.month_column:
        return
    mc = _ident(fam.month_column)
    n, first_row, first_val = con.execute(
        f"select count(*), min(_row), arg_min({mc}::varchar, _row) from t "  # noqa: S608
        f"where {mc} is not null and ({mc} < $month_start or {mc} >= $month_end)",
        {k: params[k] for k in ("month_start", "month_end")},
    ).fetchone()
    if n:
        raise FileRejected(
            "month_mismatch",
            f"{n} row(s) have {mc} outside the file's month {params['month_start']:%Y-%m} "
            f"(first at row {first_row}: {_excerpt(first_val)})",
        )


def _find_violations(con: duckdb.DuckDBPyConnection, rules: list[Rule], params: dict) -> int:
    """Fill temp table viol(_row, column_name, rule_id, value); return the number of rows with a violation.

    Two passes with the same predicates: one scan flags the bad rows (usually none), then the per-rule
    selects run over the flagged rows only. The result is exactly the union of the rules over every row.
    """
    any_bad = " or ".join(f"({r.cond})" for r in rules)
    sql = f"create or replace temp table bad as select _row from t where {any_bad}"  # noqa: S608
    con.execute(sql, _used(sql, **params))
    n_bad = con.execute("select count(*) from bad").fetchone()[0]
    if n_bad == 0:
        con.execute(
            "create or replace temp table viol (_row bigint, column_name varchar, rule_id varchar, value varchar)"
        )
        return 0
    con.execute("create or replace temp table tb as select * from t semi join bad using (_row)")
    union = "\nunion all\n".join(
        f"select _row, {_literal_col(r.column)} as column_name, {_literal(r.rule)} as rule_id, "  # noqa: S608
        f"({r.value})::varchar as value from tb where {r.cond}"
        for r in rules
    )
    sql = f"create or replace temp table viol as {union}"  # noqa: S608
    con.execute(sql, _used(sql, **params))
    con.execute("drop table tb")
    return n_bad


# ------------------------------------------------------------------------------------- min event month


def _used(sql: str, **params) -> dict:
    """DuckDB refuses named parameters a statement does not use: pass only those it names."""
    return {k: v for k, v in params.items() if re.search(rf"\${k}\b", sql)}


def _event_expr(fam: Family) -> str:
    if fam.stateful:
        state = ", ".join(f"{_ident(e)}::date" for e in fam.state_events)
        return (
            f"least(coalesce(least({state}), {fam.month_column}), "
            f"case when prev.id is null then {fam.first_event}::date else {fam.month_column} end)"
        )
    if fam.month_column:
        return f"{_ident(fam.month_column)}::date"
    return "$month_start"


def _min_event_of(con, fam: Family, rows_sql: str, params: dict):
    """min(event) over the rows of `rows_sql` (a select over contract columns), to the month.

    For a stateful family this is the month of min(_event_expr) without probing every row's history: every row
    counts its state events (or its month column: both lie in the file's month or before), and an item new to
    the warehouse adds its first event. Only a row whose first event is in an earlier month than all of those
    can lower the result, so only those rows' ids are looked up in the earlier deliveries, and only in the
    delivery months from the earliest such first event on (an item's rows are never delivered before it began).
    """
    if not fam.stateful:
        sql = f"with v as ({rows_sql}) select min({_event_expr(fam)}) from v"  # noqa: S608
        return con.execute(sql, _used(sql, **params)).fetchone()[0]
    key, first = _ident(fam.key[0]), _ident(fam.first_event)
    state = ", ".join(f"{_ident(e)}::date" for e in fam.state_events)
    sql = f"""
        with v as ({rows_sql}),
        base as (select min(coalesce(least({state}), {fam.month_column})) as m from v),
        candidates as (
            select {key} as id, {first}::date as f from v
            where {first}::date < date_trunc('month', coalesce((select m from base), $month_start + interval 1 month))
        ),
        seen as (
            select distinct r.{key} as id from {fam.raw_table} r
            join audit.current_deliveries c on c.delivery_id = r.delivery_id
            where r.delivery_month < $month_start
              and r.delivery_month >= (select date_trunc('month', min(f)) from candidates)
              and r.{key} in (select id from candidates)
        )
        select least((select m from base), (select min(f) from candidates anti join seen using (id)))
    """  # noqa: S608
    return con.execute(sql, _used(sql, **params)).fetchone()[0]


def _min_event_month(
    con: duckdb.DuckDBPyConnection,
    fam: Family,
    month_start: date,
    has_bad: bool,
    superseded_id: int | None,
    first_delivery: bool,
) -> date:
    """The earliest event month among the delivery's rows and the rows it supersedes (LANDING_CONTRACT)."""
    if fam.stateful and first_delivery:
        # The opening file: its events predate reporting; KPIs start with the next month.
        return _next_month(month_start)
    accepted = "select * from t anti join bad using (_row)" if has_bad else "select * from t"
    m = _min_event_of(con, fam, accepted, {"month_start": month_start})
    if superseded_id is not None:
        sup = _min_event_of(
            con, fam, f"select * from {fam.raw_table} where delivery_id = $sid",  # noqa: S608
            {"month_start": month_start, "sid": superseded_id},
        )
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


def _ensure_reference(con: duckdb.DuckDBPyConnection) -> None:
    """The code lists, read from the seeds once per connection (a temp table outlives the file transactions)."""
    exists = con.execute(
        "select count(*) from duckdb_tables() where temporary and table_name = 'ref_codes'"
    ).fetchone()[0]
    if not exists:
        register_reference(con)


def load_file(path: Path | str, con: duckdb.DuckDBPyConnection | None = None) -> LoadResult:
    """Load one file. Opens (and closes) the warehouse unless a connection is given."""
    path = Path(path)
    own = con is None
    con = con or connect()
    try:
        ensure_schema(con)
        _ensure_reference(con)
        return _load(con, path)
    finally:
        if own:
            con.close()


def _load(con: duckdb.DuckDBPyConnection, path: Path, checksum: str | None = None) -> LoadResult:
    name = path.name
    shown = _display_name(name)
    log.info("loading %s", shown)
    try:
        checksum = checksum or (file_checksum(path) if path.is_file() else None)
    except OSError:
        checksum = None

    # Also on a connection not made by connect(): CSV row numbers rely on an order-preserving scan.
    con.execute("set preserve_insertion_order = true")
    con.execute("begin transaction")
    delivery_id = con.execute("select nextval('audit.delivery_seq')").fetchone()[0]
    fam_name: str | None = None
    month_start: date | None = None
    try:
        fam_name, month_start, ext = _parse_name(name)
        fam = FAMILIES[fam_name]
        month_end = _next_month(month_start)
        if checksum is None:
            raise FileRejected("unreadable", "not a readable regular file")

        current = con.execute(
            "select l.delivery_id, l.checksum from audit.current_deliveries c "
            "join audit.load_ledger l using (delivery_id) where c.family = ? and c.month = ?",
            [fam_name, month_start],
        ).fetchone()
        if current and current[1] == checksum:
            message = f"{shown}: identical to delivery {current[0]} (same checksum), nothing to do"
            _ledger(con, delivery_id, name, fam_name, month_start, checksum, "unchanged", message)
            con.execute("commit")
            log.info(message)
            return LoadResult(delivery_id, name, fam_name, month_start, "unchanged", message=message)
        superseded_id = current[0] if current else None
        first_delivery = (
            con.execute(
                "select count(*) from audit.current_deliveries where family = ? and month < ?", [fam_name, month_start]
            ).fetchone()[0]
            == 0
        )
        if path.stat().st_size == 0:
            raise FileRejected("empty_file", "the file is empty (0 bytes)")
        with path.open("rb") as fh:
            magic = fh.read(4)
        if ext == "csv" and magic == b"PAR1":
            raise FileRejected("unreadable", "the file is Parquet, but its name ends in .csv")
        cols = _describe(con, path, ext)
        _check_columns(fam, cols)
        _build_t(con, fam, cols, path, ext)
        rows_read = con.execute("select count(*) from t").fetchone()[0]
        if rows_read == 0:
            raise FileRejected("empty_file", "the file has its columns but no data rows")
        params = {"month_start": month_start, "month_end": month_end, "window_start": WINDOW_START}
        try:
            _month_mismatch(con, fam, params)
            rejected = _find_violations(con, _rules(fam, cols), params)
            accepted = rows_read - rejected
            threshold = settings().restatement_min_valid_share
            if superseded_id is not None and accepted < threshold * rows_read:
                raise FileRejected(
                    "too_many_invalid",
                    f"restatement with only {accepted} of {rows_read} rows valid (below {threshold:.0%}); "
                    f"delivery {superseded_id} stays current",
                )
        except FileRejected as exc:
            exc.rows_read = rows_read
            raise
        key, key_id = pseudonym_key()
        # Phase markers at DEBUG: operators see where a slow load is; the crash tests kill at these points.
        log.debug("%s: %d rows read, %d with findings; inserting", shown, rows_read, rejected)
        _insert_rows(con, fam, delivery_id, month_start, name, key, key_id, has_bad=rejected > 0)
        mem = _min_event_month(con, fam, month_start, rejected > 0, superseded_id, first_delivery)
        outcome = "restated" if superseded_id is not None else "loaded"
        message = f"{shown}: {accepted} of {rows_read} rows accepted, {rejected} quarantined"
        if superseded_id is not None:
            message += f"; supersedes delivery {superseded_id}"
        _ledger(con, delivery_id, name, fam_name, month_start, checksum, outcome, message,
                rows_read, accepted, rejected, mem)
        for temp in ("t", "viol", "bad", "bad_codes", "dups"):
            con.execute(f"drop table if exists {temp}")
        log.debug("%s: committing delivery %d", shown, delivery_id)
        con.execute("commit")
        log.info(message)
        return LoadResult(delivery_id, name, fam_name, month_start, outcome, rows_read, accepted, rejected, mem,
                          message)
    except FileRejected as exc:
        # Nothing of the file stays; the rejection is the attempt's one ledger row, committed on its own.
        con.execute("rollback")
        message = redact(f"{shown} rejected [{exc.rule}]: {exc}")
        con.execute("begin transaction")
        _ledger(con, delivery_id, name, fam_name, month_start, checksum, "rejected", message,
                exc.rows_read, 0, exc.rows_read)
        con.execute("commit")
        log.warning(message)
        return LoadResult(delivery_id, name, fam_name, month_start, "rejected", exc.rows_read, 0, exc.rows_read,
                          None, message, exc.rule)
    except BaseException:
        con.execute("rollback")
        raise


def _parse_name(name: str) -> tuple[str, date, str]:
    parsed = parse_file_name(name)
    if parsed is None:
        loose = LOOSE_FILE_NAME_RE.fullmatch(name)
        if loose and loose.group("family") not in FAMILIES:
            raise FileRejected("unknown_family", f"unknown extract family {_excerpt(loose.group('family'))}; "
                               "known: " + ", ".join(FAMILIES))
        raise FileRejected("bad_file_name", LOOSE_NAME_HINT)
    fam_name, ym, ext = parsed
    if fam_name not in FAMILIES:
        raise FileRejected("unknown_family", f"unknown extract family {fam_name!r}; known: " + ", ".join(FAMILIES))
    month = _month_start(ym)
    today = date.today()
    if month < WINDOW_START or month > date(today.year, today.month, 1):
        raise FileRejected("month_window", f"the file's month {ym} is outside {WINDOW_START:%Y-%m} .. this month")
    return fam_name, month, ext


def _insert_rows(con, fam: Family, delivery_id: int, month_start: date, name: str, key: str, key_id: str,
                 has_bad: bool) -> None:
    """The accepted rows into raw (tax codes hashed in this statement) and the violations into quarantine."""
    select_cols, raw_cols = [], []
    for c in fam.columns:
        n = _ident(c.name)
        if c.personal:
            # Already the keyed hash: `t` is pseudonymised as it is read (_typed_columns).
            select_cols.append(n)
            raw_cols.append(_ident(n.removesuffix("_tax_code") + "_pseudonym"))
        else:
            select_cols.append(n)
            raw_cols.append(n)
    if fam.personal_columns:
        select_cols.append("$key_id")
        raw_cols.append("key_id")
    raw_cols += ["delivery_id", "delivery_month", "_file", "_row"]
    sql = (
        f"insert into {fam.raw_table} ({', '.join(raw_cols)}) select "  # noqa: S608
        + ", ".join(select_cols)
        + ", $delivery_id, $month_start, $file, _row from t"
        + (" anti join bad using (_row)" if has_bad else "")
    )
    # Rows carry their file row in _row, so raw needs no insertion order: an unordered insert costs half.
    con.execute("set preserve_insertion_order = false")
    try:
        con.execute(sql, _used(sql, key=key, key_id=key_id, delivery_id=delivery_id, month_start=month_start,
                                file=name))
    finally:
        con.execute("set preserve_insertion_order = true")
    if not has_bad:
        return
    personal = [_literal(c.name) for c in fam.personal_columns]
    # Personal values are kept only as their keyed hash; anything else shaped like a tax code is masked.
    masked = f"regexp_replace(left(value, 200), '{TAX_CODE_PATTERN}', '<tax code>', 'g')"
    value_expr = (
        f"case when column_name in ({', '.join(personal)}) "
        f"then 'sha256:' || value else {masked} end"
        if personal
        else masked
    )
    sql = (
        f"insert into audit.quarantine select $delivery_id, $file, _row, column_name, rule_id, {value_expr} "  # noqa: S608
        "from viol order by _row, column_name, rule_id"
    )
    con.execute(sql, _used(sql, delivery_id=delivery_id, file=name, key=key))


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
        _ensure_reference(con)
        seen = set(con.execute("select file, checksum from audit.load_ledger").fetchall())
        for p in inbox_files(inbox):
            parsed = parse_file_name(p.name)
            if families is not None and (parsed is None or parsed[0] not in families):
                continue
            checksum = file_checksum(p)
            if (p.name, checksum) in seen:
                continue
            results.append(_load(con, p, checksum))
    finally:
        if own:
            con.close()
    return results
