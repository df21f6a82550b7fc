"""The delivery's rows as temp relation `t` (see `landing`), checked: month column, row rules, rows breaking them."""

from __future__ import annotations

import duckdb

from orchestration.contract import Family
from orchestration.ingest.identifiers import ident, literal, literal_col, used
from orchestration.ingest.messages import FileRejected, excerpt
from orchestration.ingest.rules import Rule


def build_lookups(con: duckdb.DuckDBPyConnection, fam: Family) -> None:
    """Temp tables for the rules over t: bad_codes and dups (both usually empty).

    Codes are checked once per distinct value (a file has thousands of rows but a few hundred codes), and
    duplicate keys by one aggregate; the row rules then only test membership in these small tables.
    """
    con.execute(
        "create or replace temp table bad_codes (column_name varchar, code varchar, rule_id varchar)"
    )
    for c in fam.columns:
        if not c.domain:
            continue
        n = ident(c.name)
        levels = ", ".join(literal(lv) for lv in c.levels) if c.levels else None
        wrong_level = f"r.level not in ({levels})" if levels else "false"
        # Identifiers and constants from the contract; the codes themselves stay in the tables.
        con.execute(
            "insert into bad_codes "  # noqa: S608
            f"select {literal(n)}, d.code, case when r.code is null then 'unknown_code' else 'wrong_level' end "
            f"from (select distinct {n} as code from t where {n} is not null) d "
            "left join (select code, min(level) as level from ref_codes "
            f"where domain = {literal(c.domain)} group by code) r on r.code = d.code "
            f"where r.code is null or {wrong_level}"
        )
    if fam.key:
        keys = ", ".join(ident(k) for k in fam.key)
        not_null = " and ".join(f"{ident(k)} is not null" for k in fam.key)
        # Rows with a null key part fail not_null; they do not make the other rows duplicates.
        con.execute(
            f"create or replace temp table dups as select {keys} from t where {not_null} "  # noqa: S608
            f"group by {keys} having count(*) > 1"
        )


def month_mismatch(con: duckdb.DuckDBPyConnection, fam: Family, params: dict) -> None:
    if not fam.month_column:
        return
    mc = ident(fam.month_column)
    n, first_row, first_val = con.execute(
        f"select count(*), min(_row), arg_min({mc}::varchar, _row) from t "  # noqa: S608
        f"where {mc} is not null and ({mc} < $month_start or {mc} >= $month_end)",
        {k: params[k] for k in ("month_start", "month_end")},
    ).fetchone()
    if n:
        raise FileRejected(
            "month_mismatch",
            f"{n} row(s) have {mc} outside the file's month {params['month_start']:%Y-%m} "
            f"(first at row {first_row}: {excerpt(first_val)})",
        )


def find_violations(con: duckdb.DuckDBPyConnection, rules: list[Rule], params: dict) -> int:
    """Fill temp table viol(_row, column_name, rule_id, value); return the number of rows with a violation.

    Two passes with the same predicates: one scan flags the bad rows (usually none), then the per-rule
    selects run over the flagged rows only. The result is exactly the union of the rules over every row.
    """
    any_bad = " or ".join(f"({r.cond})" for r in rules)
    sql = f"create or replace temp table bad as select _row from t where {any_bad}"  # noqa: S608
    con.execute(sql, used(sql, **params))
    n_bad = con.execute("select count(*) from bad").fetchone()[0]
    if n_bad == 0:
        con.execute(
            "create or replace temp table viol (_row bigint, column_name varchar, rule_id varchar, value varchar)"
        )
        return 0
    con.execute("create or replace temp table tb as select * from t semi join bad using (_row)")
    union = "\nunion all\n".join(
        f"select _row, {literal_col(r.column)} as column_name, {literal(r.rule)} as rule_id, "  # noqa: S608
        f"({r.value})::varchar as value from tb where {r.cond}"
        for r in rules
    )
    sql = f"create or replace temp table viol as {union}"  # noqa: S608
    con.execute(sql, used(sql, **params))
    con.execute("drop table tb")
    return n_bad
