"""One Great Expectations suite per extract family (`raw_<family>`), built from the landing contract."""

# ruff: noqa: S608 - queries composed from contract identifiers, seed codes and config numbers, never input
from __future__ import annotations

from orchestration.contract import Family
from orchestration.contract.families import TAX_CODE_LENGTH, TAX_CODE_PATTERN, WINDOW_START
from orchestration.ingest.reference import DOMAINS
from orchestration.ingest.schema import raw_columns_ddl
from orchestration.quality.suites import (
    PSEUDONYM_PATTERN,
    RAW_KEYS,
    Rule,
    SuiteDef,
    _braces,
    _expect,
    _rows,
    _sql_list,
    _types_rule,
    config,
    domain_codes,
)

# --------------------------------------------------------------------------------------------------------------
# Extract families (raw)
# --------------------------------------------------------------------------------------------------------------


def raw_columns(fam: Family) -> list[tuple[str, str]]:
    """(name, DuckDB type) of raw.<family>, from the loader's own DDL."""
    out = []
    for line in raw_columns_ddl(fam).split(",\n"):
        parts = line.strip().split()
        out.append((parts[0], parts[1]))
    return out


def raw_suite(fam: Family) -> SuiteDef:
    cfg = config()
    t = fam.name
    cols = raw_columns(fam)
    names = [c for c, _ in cols]
    rules: list[Rule] = []
    rules.append(_expect(
        "ExpectTableColumnsToMatchSet", "schema.columns", "schema", "error",
        f"raw.{t} has exactly the contract's columns (pseudonyms instead of tax codes) and the lineage columns.",
        column_set=names, exact_match=True))
    rules.append(_types_rule(cols, f"raw.{t}"))
    required = [(c.name.removesuffix("_tax_code") + "_pseudonym") if c.personal else c.name
                for c in fam.columns if c.required]
    required += (["key_id"] if fam.personal_columns else []) + ["delivery_id", "delivery_month", "_file", "_row"]
    for name in required:
        rules.append(_expect("ExpectColumnValuesToNotBeNull", f"not_null.{name}", "not_null", "error",
                             f"{name} is never null.", column=name))
    for c in fam.columns:
        if c.values:
            rules.append(_expect("ExpectColumnValuesToBeInSet", f"code_domain.{c.name}", "code_domain", "error",
                                 f"{c.name} is one of {', '.join(c.values)}.", column=c.name,
                                 value_set=list(c.values)))
        elif c.domain:
            codes = domain_codes(c.domain, c.levels)
            where = f" at level {'/'.join(c.levels)}" if c.levels else ""
            seed = DOMAINS[c.domain][0]
            # A semi-join against the list: DuckDB evaluates a long literal IN list far more slowly.
            rules.append(_rows(
                f"code_domain.{c.name}", "code_domain", "error",
                f"{c.name} is a code of seeds/{seed}{where} ({len(codes)} codes).",
                f"select delivery_id, _row, {c.name} as value from {{batch}} where {c.name} is not null "
                f"and {c.name} not in (select unnest([{_sql_list(codes)}]))"))
        if c.min is not None or c.max is not None:
            rules.append(_expect("ExpectColumnValuesToBeBetween", f"range.{c.name}", "range", "error",
                                 f"{c.name} lies within [{c.min}, {c.max}].", column=c.name,
                                 min_value=c.min, max_value=c.max))
        if c.window:
            hi = "(delivery_month + interval 1 month)"
            lo = f"date '{WINDOW_START.isoformat()}'"
            if c.type == "timestamp":
                hi, lo = f"{hi}::timestamp", f"{lo}::timestamp"
            rules.append(_rows(
                f"date_window.{c.name}", "date_window", "error",
                f"{c.name} lies between {WINDOW_START.isoformat()} and the end of the delivery month.",
                f"select delivery_id, _row from {{batch}} where {c.name} is not null "
                f"and ({c.name} < {lo} or {c.name} >= {hi})"))
    for a, b in fam.date_order:
        rules.append(_expect("ExpectColumnPairValuesAToBeGreaterThanB", f"date_order.{a}.{b}", "date_order", "error",
                             f"{a} <= {b} when both are present.", column_A=b, column_B=a, or_equal=True,
                             ignore_row_if="either_value_is_missing"))
    if fam.month_column:
        m = fam.month_column
        rules.append(_rows(f"delivery_month.{m}", "date_window", "error",
                           f"{m} lies in the delivery month named by the file.",
                           f"select delivery_id, _row from {{batch}} "
                           f"where date_trunc('month', {m})::date <> delivery_month"))
    if fam.key:
        rules.append(_expect("ExpectCompoundColumnsToBeUnique", "key.unique_in_delivery", "key", "error",
                             f"({', '.join(fam.key)}) is unique within a delivery.",
                             column_list=["delivery_id", *fam.key]))
    if "outcome_requires_defined_on" in fam.extra_rules:
        rules.append(_rows("consistency.outcome_defined_on", "consistency", "error",
                           "A practice has an outcome exactly when it has a definition date.",
                           "select delivery_id, _row from {batch} where (outcome is null) <> (defined_on is null)"))
    if "smart_within_headcount" in fam.extra_rules:
        rules.append(_rows("consistency.smart_within_headcount", "consistency", "error",
                           "Smart workers never exceed the headcount.",
                           "select delivery_id, _row from {batch} where smart_workers > headcount"))
    for c in fam.personal_columns:
        p = c.name.removesuffix("_tax_code") + "_pseudonym"
        rules.append(_rows(f"privacy.{p}_format", "privacy", "error",
                           f"{p} is a keyed SHA-256 (64 hex digits): the tax code never lands in clear. "
                           "Checked for format only; the value is never sampled.",
                           f"select delivery_id, _row from {{batch}} "
                           f"where not regexp_full_match({p}, '{_braces(PSEUDONYM_PATTERN)}')"))
    # Identifiers and free text: code columns are already held to their code lists, which no tax code is in.
    text_cols = [c.name for c in fam.columns if c.type == "str" and not (c.domain or c.values or c.personal)]
    if text_cols:
        unions = " union all ".join(
            f"select delivery_id, _row, '{n}' as column_name from {{batch}} "
            f"where length({n}) >= {TAX_CODE_LENGTH} and regexp_matches({n}, '{_braces(TAX_CODE_PATTERN)}')"
            for n in text_cols)
        rules.append(_rows("privacy.no_tax_code_in_clear", "privacy", "error",
                           "No text column holds anything shaped like a tax code (only the row is named).", unions))
    band = cfg["volume_ratio"].get(t, cfg["volume_ratio"]["default"])
    if band is not None and fam.month_column:
        lo, hi = (float(x) for x in band)
        skip_opening = "and prev.month > (select min(month) from per_month)" if fam.stateful else ""
        # Row counts come from the ledger (rows accepted per delivery), so the previous month need not be in scope.
        rules.append(_rows(
            "volume.vs_previous_month", "volume", "warning",
            f"Each month's current delivery has between {lo:g} and {hi:g} times the rows of the previous month's"
            + (" (the opening file is not compared)." if fam.stateful else "."),
            f"""with per_month as (
                    select c.month, l.rows_accepted as rows_delivered
                    from audit.current_deliveries as c
                    inner join audit.load_ledger as l on c.delivery_id = l.delivery_id
                    where c.family = '{t}'),
                in_scope as (select distinct delivery_month as month from {{batch}})
                select cur.month, cur.rows_delivered, prev.rows_delivered as previous_rows
                from in_scope as s
                inner join per_month as cur on cur.month = s.month
                inner join per_month as prev on prev.month = cur.month - interval 1 month {skip_opening}
                where cur.rows_delivered < {lo!r} * prev.rows_delivered
                   or cur.rows_delivered > {hi!r} * prev.rows_delivered"""))
    suite = SuiteDef(
        name=f"raw_{t}", kind="raw", asset_key=("raw", t), key_columns=RAW_KEYS, family=t,
        description=f"Extract family {t}: {fam.description}", rules=rules)
    suite.query = suite.batch_query()
    return suite
