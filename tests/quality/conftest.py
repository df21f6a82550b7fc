"""Helpers for the data-quality tests: break a private copy of the sample warehouse with SQL, then validate."""

from __future__ import annotations

import duckdb
import pytest

# A month every family of the sample delivers: broken rows are put there and the raw suites validate only it.
MONTH = "2021-03"
SCOPE = (MONTH, MONTH)


@pytest.fixture(scope="session")
def suite_defs():
    from orchestration.quality.suites import all_suites

    return {s.name: s for s in all_suites()}


def break_with(warehouse, *statements: str) -> None:
    con = duckdb.connect(str(warehouse))
    try:
        for sql in statements:
            con.execute(sql)
    finally:
        con.close()


def validate_one(warehouse, suite, months=SCOPE):
    from orchestration.quality.runner import validate

    (outcome,) = validate(warehouse, [suite], run_id="test", months=months)
    return outcome


def failed(outcome) -> dict:
    """expectation id -> row, for the failed expectations of a suite outcome."""
    return {r.expectation: r for r in outcome.rows if not r.success}
