"""The only text that reaches the loader's SQL: contract identifiers and constants, checked here."""

from __future__ import annotations

import re

from orchestration.contract import FAMILIES

_IDENT_RE = re.compile(r"[a-z_][a-z0-9_]*\Z")

# Every column name the load statements may name: the contract's columns and the pseudonym columns of raw.
_CONTRACT_NAMES = frozenset(
    {c.name for f in FAMILIES.values() for c in f.columns}
    | {c.name.removesuffix("_tax_code") + "_pseudonym" for f in FAMILIES.values() for c in f.personal_columns}
)


def ident(name: str) -> str:
    """An identifier that goes into SQL: only the contract's own (lower-case) column names pass."""
    if not _IDENT_RE.match(name) or name not in _CONTRACT_NAMES:
        raise ValueError(f"not a contract identifier: {name!r}")
    return name


def literal(value: str) -> str:
    """A contract constant (domain name, level, allowed value) as a SQL string literal."""
    if not re.fullmatch(r"[A-Za-z0-9_]+", value):
        raise ValueError(f"not a contract constant: {value!r}")
    return f"'{value}'"


def literal_col(column: str) -> str:
    """A quarantine column name: a contract column, or key columns joined by '+'."""
    return "'" + "+".join(ident(part) for part in column.split("+")) + "'"


def used(sql: str, **params) -> dict:
    """DuckDB refuses named parameters a statement does not use: pass only those it names."""
    return {k: v for k, v in params.items() if re.search(rf"\${k}\b", sql)}
