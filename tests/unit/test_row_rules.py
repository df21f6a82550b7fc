"""The row-rule compiler is a pure function of (family, column types as read): checked without DuckDB."""

from __future__ import annotations

import ast
from pathlib import Path

from orchestration.contract import FAMILIES
from orchestration.ingest.rules import compile_rules

ROOT = Path(__file__).resolve().parents[2]


def _pairs(fam: str, cols: dict[str, str]) -> list[tuple[str, str]]:
    return [(r.column, r.rule) for r in compile_rules(FAMILIES[fam], cols)]


def _as_csv(fam: str) -> dict[str, str]:
    return {c.name: "VARCHAR" for c in FAMILIES[fam].columns}


def _as_parquet(fam: str) -> dict[str, str]:
    return {c.name: c.sql_type for c in FAMILIES[fam].columns}


def test_the_compiler_imports_no_database():
    tree = ast.parse((ROOT / "orchestration" / "ingest" / "rules.py").read_text())
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names} | {
        n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert not any(m and m.split(".")[0] == "duckdb" for m in imported)


def test_a_csv_needs_a_type_rule_for_exactly_its_non_text_columns():
    # practices: received_on, entitlement_on, defined_on, changed_on are dates and review_flag a boolean; read
    # from a CSV they are text, so each needs a `type` rule; a Parquet file brings them typed.
    csv, parquet = _pairs("practices", _as_csv("practices")), _pairs("practices", _as_parquet("practices"))
    assert set(csv) - set(parquet) == {
        ("received_on", "type"), ("entitlement_on", "type"), ("defined_on", "type"), ("changed_on", "type"),
        ("review_flag", "type"),
    }
    assert set(parquet) <= set(csv)


def test_practices_rules_as_the_contract_lists_them():
    pairs = _pairs("practices", _as_parquet("practices"))
    # Every required column is not_null (6 str + received_on, changed_on, review_flag), in column order, first.
    required = [c.name for c in FAMILIES["practices"].columns if c.required]
    assert [c for c, r in pairs if r == "not_null"][: len(required)] == required
    # The tax code is only ever checked for presence: never quoted by a code or text rule.
    assert [r for c, r in pairs if c == "applicant_tax_code"] == ["not_null"]
    # The three date orders of a practice, the key, and the outcome/defined_on pairing, in this order, last.
    assert pairs[-6:] == [
        ("defined_on", "date_order"), ("changed_on", "date_order"), ("changed_on", "date_order"),
        ("practice_id", "duplicate_key"), ("outcome", "not_null"), ("defined_on", "not_null"),
    ]
    # Codes are checked against the code lists (and their level) for structures, against the list for products.
    assert ("structure_code", "wrong_level") in pairs and ("product_code", "wrong_level") not in pairs
    assert ("practice_id", "formula_text") in pairs and ("practice_id", "personal_data") in pairs


def test_numeric_bounds_come_from_the_contract():
    staff = FAMILIES["staff"]
    rules = {(r.column, r.rule): r for r in compile_rules(staff, _as_csv("staff"))}
    wd = next(c for c in staff.columns if c.name == "working_days")
    cond = rules[("working_days", "out_of_range")].cond
    assert f"> {float(wd.max)!r}" in cond and f"< {float(wd.min)!r}" in cond
    # A whole-number column read as text also refuses 3.5 (type) rather than rounding it.
    assert "trunc" in rules[("working_days", "type")].cond
    # smart workers above the head count is the family's own rule, after the column rules.
    assert ("smart_workers", "out_of_range") in rules
    assert rules[("smart_workers", "out_of_range")].cond == "smart_workers > headcount"


def test_the_same_input_compiles_to_the_same_rules():
    assert compile_rules(FAMILIES["contacts"], _as_csv("contacts")) == compile_rules(
        FAMILIES["contacts"], _as_csv("contacts"))
