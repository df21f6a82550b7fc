"""Each suite catches a deliberately broken fixture, one per rule family, and passes on clean data.

Every test takes a private copy of the session's sample warehouse, breaks it with SQL, validates the one suite
concerned (extract suites on one month only, as a monthly run does) and checks the exact failed expectation.
"""

# ruff: noqa: S608 - the SQL breaks a private test copy with constants of this module

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from orchestration.contract.families import TAX_CODE_PATTERN
from orchestration.synthetic.practices import fake_tax_codes
from tests.helpers import query
from tests.quality.conftest import MONTH, break_with, failed, validate_one

pytestmark = pytest.mark.slow

IN_MONTH = f"delivery_month = date '{MONTH}-01'"
# Shaped like an Italian tax code, made up: it must never come back out of a check.
# Generated at test time, never committed: shaped like a codice fiscale, belonging to nobody.
FAKE_TAX_CODE = str(fake_tax_codes(np.random.default_rng(2021), 1)[0])


def test_the_suites_pass_on_clean_data(sample_copy, suite_defs):
    from orchestration.quality.runner import validate

    raw = [s for n, s in suite_defs.items() if n.startswith("raw_")]
    outcomes = validate(sample_copy.warehouse, raw, "test", months=(MONTH, MONTH))
    problems = {o.suite: [(r.expectation, r.observed_value) for r in o.errors] for o in outcomes if o.errors}
    assert not problems
    raw_warnings = {o.suite: [r.expectation for r in o.warnings] for o in outcomes if o.kind == "raw" and o.warnings}
    assert not raw_warnings
    assert all(r.partition == MONTH for o in outcomes if o.kind == "raw" for r in o.rows)
    # A row check that passes the quick pass reports its counts without the detailed one: 0 of the month's rows,
    # counted here from raw independently.
    for o in outcomes:
        family = o.suite.removeprefix("raw_")
        n = query(sample_copy.warehouse, f"select count(*) from raw.{family} where delivery_id in (select "
                  f"delivery_id from audit.current_deliveries where family = ? and month = date '{MONTH}-01')",
                  [family])[0][0]
        counted = [r for r in o.rows if r.element_count is not None]
        assert counted and all((r.element_count, r.unexpected_count) == (n, 0) for r in counted), o.suite
        assert all(r.observed_value == f"0 of {n:,} rows" for r in counted), o.suite


def test_schema_a_dropped_column(sample_copy, suite_defs):
    break_with(sample_copy.warehouse, "alter table raw.costs drop column is_closing")
    out = validate_one(sample_copy.warehouse, suite_defs["raw_costs"])
    bad = failed(out)
    assert bad["schema.columns"].severity == "error"
    assert "missing: is_closing" in bad["schema.columns"].observed_value


def test_type_a_changed_column_type(sample_copy, suite_defs):
    break_with(sample_copy.warehouse, "alter table raw.revenue alter amount_eur type double")
    out = validate_one(sample_copy.warehouse, suite_defs["raw_revenue"])
    bad = failed(out)
    assert list(bad) == ["type.columns"]
    assert json.loads(bad["type.columns"].failing_keys) == [{"column_name": "amount_eur", "observed": "DOUBLE"}]


def test_nulls_in_a_required_column(sample_copy, suite_defs):
    break_with(sample_copy.warehouse,
               f"update raw.practices set product_code = null where {IN_MONTH} and _row in (2, 3, 5)")
    out = validate_one(sample_copy.warehouse, suite_defs["raw_practices"])
    bad = failed(out)
    assert set(bad) == {"not_null.product_code"}
    row = bad["not_null.product_code"]
    assert row.unexpected_count == 3 and row.severity == "error"
    assert sorted(k["_row"] for k in json.loads(row.failing_keys)) == [2, 3, 5]


def test_code_domain_an_unknown_code_and_a_tax_code_in_a_code_column(sample_copy, suite_defs):
    break_with(sample_copy.warehouse,
               f"update raw.staff set role = 'astronaut' where {IN_MONTH} and _row = 1",
               f"update raw.staff set structure_code = '{FAKE_TAX_CODE}' where {IN_MONTH} and _row = 2")
    out = validate_one(sample_copy.warehouse, suite_defs["raw_staff"])
    bad = failed(out)
    assert bad["code_domain.role"].unexpected_count == 1
    assert bad["code_domain.structure_code"].unexpected_count == 1
    assert "astronaut" in bad["code_domain.role"].observed_value
    text = json.dumps([r.__dict__ for r in out.rows], default=str) + json.dumps(out.gx_result, default=str)
    assert not re.search(TAX_CODE_PATTERN, text)


def test_date_order_a_practice_defined_before_it_was_received(sample_copy, suite_defs):
    break_with(sample_copy.warehouse,
               f"update raw.practices set defined_on = received_on - 30 where {IN_MONTH} and _row in "
               f"(select _row from raw.practices where {IN_MONTH} and defined_on is not null order by _row limit 2)")
    out = validate_one(sample_copy.warehouse, suite_defs["raw_practices"])
    bad = failed(out)
    assert bad["date_order.received_on.defined_on"].unexpected_count == 2
    assert all(r.severity == "error" for r in bad.values())


def test_volume_a_month_far_above_the_previous_one_is_a_warning(sample_copy, suite_defs):
    break_with(sample_copy.warehouse,
               f"update audit.load_ledger set rows_accepted = rows_accepted * 5 where family = 'revenue' "
               f"and month = date '{MONTH}-01'")
    out = validate_one(sample_copy.warehouse, suite_defs["raw_revenue"])
    bad = failed(out)
    assert list(bad) == ["volume.vs_previous_month"]
    assert bad["volume.vs_previous_month"].severity == "warning"
    assert not out.errors


def test_privacy_a_clear_tax_code_in_a_pseudonym_column_is_caught_but_never_shown(sample_copy, suite_defs):
    break_with(sample_copy.warehouse,
               f"update raw.practices set applicant_pseudonym = '{FAKE_TAX_CODE}' where {IN_MONTH} and _row = 4",
               f"update raw.practices set practice_id = '{FAKE_TAX_CODE}' where {IN_MONTH} and _row = 6")
    out = validate_one(sample_copy.warehouse, suite_defs["raw_practices"])
    bad = failed(out)
    assert bad["privacy.applicant_pseudonym_format"].unexpected_count == 1
    assert bad["privacy.no_tax_code_in_clear"].unexpected_count == 1
    text = json.dumps([r.__dict__ for r in out.rows], default=str) + json.dumps(out.gx_result, default=str)
    assert FAKE_TAX_CODE not in text and not re.search(TAX_CODE_PATTERN, text)


def test_plan_reconciliation_reports_the_plans_anomalies_as_findings(sample_copy, suite_defs):
    """docs/decisions.md §13: the anomalies of the shipped reference data come out as findings, and only as findings."""
    from orchestration.quality.runner import validate

    plan = [s for n, s in suite_defs.items() if n.startswith("plan_")]
    outcomes = {o.suite: o for o in validate(sample_copy.warehouse, plan, "test")}
    assert not any(o.errors or o.warnings for o in outcomes.values())

    def keys(suite, expectation):
        return json.loads(failed(outcomes[suite])[expectation].failing_keys)

    assert {k["item_code"]: k["diff"] for k in keys("plan_ieep_2020", "reconciliation.actual_sum_to_parent")} == {
        "higher_revenues": 8999, "ieep_total_2020": -8999}  # printed 8,858,432,446 vs components 8,858,423,447
    assert {k["node_code"]: (k["national"], k["regions"]) for k in keys(
        "plan_targets", "reconciliation.regional_targets_sum_to_national")} == {
        "REAL_ESTATE_DISPOSALS.UNITS": (600, 580), "REAL_ESTATE_DISPOSALS.VALUE": (60_000_000, 59_200_000)}
    assert [k["structure_code"] for k in keys("plan_structures", "placement.uncertain_parent")] == ["rossano_calabro"]
    assert [k["structure_code"] for k in keys(
        "plan_standard_costs", "plausibility.rent_cost_trend_differs_from_level")] == ["valle_daosta"]
    assert [k["structure_code"] for k in keys(
        "plan_standard_costs", "plausibility.consumables_cost_per_capita_vs_3y")] == ["basilicata"]
    rounding = [k for k in keys("plan_ieep_by_region", "reconciliation.items_rounding")]
    assert rounding and all(abs(k["diff"]) == 1 for k in rounding)
    # Within the ±1 EUR tolerance nothing is beyond it: the 2021 IEEP tables reconcile.
    assert "reconciliation.items_sum_to_parent" not in failed(outcomes["plan_ieep_by_region"])

    # A real break in a seed is beyond the tolerance, and still a finding of the plan's data, not a run failure.
    break_with(sample_copy.warehouse, "update reference.ieep_items set national_target_2021_eur = "
                                      "national_target_2021_eur + 100 where item_code = 'eca_assessed'")
    out = validate_one(sample_copy.warehouse, suite_defs["plan_ieep_items"], months=None)
    assert [k["item_code"] for k in json.loads(
        failed(out)["reconciliation.items_sum_to_parent"].failing_keys)] == ["contribution_revenue_total"]
    assert not out.errors
