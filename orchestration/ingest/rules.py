"""The row rules of a family as SQL predicates over the typed temp table `t` (a pure compiler, no DuckDB).

Each rule names the column and the rule id the quarantine records, the predicate that flags a row and the
expression of the offending value. Only contract identifiers and constants reach the text (`identifiers`).
"""

from __future__ import annotations

from dataclasses import dataclass

from orchestration.contract import Family
from orchestration.ingest.columns import NUMERIC, carries_tax_code, free_text, is_cast
from orchestration.ingest.identifiers import ident, literal


@dataclass(frozen=True)
class Rule:
    column: str
    rule: str
    cond: str  # SQL predicate over temp table t (contract identifiers only)
    value: str  # SQL expression of the offending value, for the quarantine


def compile_rules(fam: Family, cols: dict[str, str]) -> list[Rule]:
    """Every row rule of the family, in the fixed order the quarantine lists them.

    `cols` is the file's column name -> DuckDB type as read (CSV: all VARCHAR): a column read as text gets a
    `type` rule over its text, one read with its contract type does not. Pure: no connection, SQL text only.
    """
    rules: list[Rule] = []
    for c in fam.columns:
        n = ident(c.name)
        cast = is_cast(c, cols[n]) and not c.personal
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
                member = f"{n} in (select code from bad_codes where column_name = {literal(n)} "  # noqa: S608
                rules.append(Rule(n, rule, member + f"and rule_id = {literal(rule)})", txt))
        if c.values:
            values = ", ".join(literal(v) for v in c.values)
            rules.append(Rule(n, "unknown_code", f"{n} is not null and {n} not in ({values})", txt))
        if free_text(c):
            # Spreadsheet formula injection (OWASP CSV injection): refused, never stored.
            rules.append(Rule(n, "formula_text", f"regexp_matches({n}, '^[=+\\-@\\t\\r]')", txt))
            if not cast:
                # Identifiers and free text must not carry a tax code in clear (the read masked it already, so
                # the mask marks it; a column of another type in the file cannot spell one).
                rules.append(Rule(n, "personal_data", carries_tax_code(n), txt))
        if c.window:
            lo, hi = ("$window_start::timestamp", "$month_end::timestamp") if c.type == "timestamp" else (
                "$window_start", "$month_end")
            rules.append(Rule(n, "date_window", f"{n} is not null and ({n} < {lo} or {n} >= {hi})", txt))
    for a, b in fam.date_order:
        a, b = ident(a), ident(b)
        rules.append(Rule(b, "date_order", f"{a} is not null and {b} is not null and {a} > {b}",
                          f"{a}::varchar || ' > ' || {b}::varchar"))
    if fam.key:
        key_txt = " || '|' || ".join(f"coalesce({ident(k)}::varchar, '')" for k in fam.key)
        keys = ", ".join(ident(k) for k in fam.key)
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
