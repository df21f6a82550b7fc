"""How each contract column is read: the typed select list over the raw scan, as SQL text (pure)."""

from __future__ import annotations

from orchestration.contract import Family
from orchestration.contract.families import TAX_CODE_LENGTH, TAX_CODE_MASK, TAX_CODE_PATTERN, Column
from orchestration.ingest.identifiers import ident

NUMERIC = ("decimal", "double", "int")
# Dates and local timestamps as the contract writes them (no offset: timestamps are Europe/Rome local time).
ISO_TEXT = {
    "date": r"\s*\d{4}-\d{2}-\d{2}\s*",
    "timestamp": r"\s*\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?\s*",
}


def is_cast(c: Column, src_type: str) -> bool:
    """Whether the column as read needs a cast to the contract type (CSV: every non-text column)."""
    return not (src_type.upper() == c.sql_type.upper() or (c.type == "str" and src_type.upper() == "VARCHAR"))


def masked(expr: str) -> str:
    """A text with anything shaped like a tax code replaced: what a rule quotes from it is safe to store."""
    return (f"case when length({expr}) < {TAX_CODE_LENGTH} then {expr} "
            f"else regexp_replace({expr}, '{TAX_CODE_PATTERN}', '{TAX_CODE_MASK}', 'g') end")


def carries_tax_code(expr: str) -> str:
    """Whether a masked text held a tax code in clear: the mask is in it (the rule reads what raw keeps)."""
    return f"contains({expr}, '{TAX_CODE_MASK}')"


def free_text(c: Column) -> bool:
    """Identifiers and free text: no code list checks them, so a tax code in clear is its own finding."""
    return c.type == "str" and not c.domain and not c.values and not c.personal


def typed_columns(fam: Family, cols: dict[str, str]) -> str:
    """Select list over the raw scan `s`: typed contract columns, plus the text (and double) of cast ones."""
    parts = ["_row"]
    for c in fam.columns:
        n = s = ident(c.name)
        if c.personal:
            # Pseudonymised in the read itself: no table, not even this temporary one, ever holds the clear value
            # (a temporary table can spill to disk). Normalised first, so ' rssmra…' and 'RSSMRA…' are one person.
            parts.append(f"case when trim({s}::varchar) = '' then null "
                         f"else sha256($key || '|' || upper(trim({s}::varchar))) end as {n}")
            continue
        if not is_cast(c, cols[n]):
            # A blank text is a missing value: not_null catches it, and no code rule repeats the finding.
            if c.type == "str":
                parts.append(f"case when trim({s}) = '' then null else {masked(s)} end as {n}")
            else:
                parts.append(f"{s} as {n}")
            continue
        parts.append(f"{masked(f'{s}::varchar')} as {n}__txt")
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
