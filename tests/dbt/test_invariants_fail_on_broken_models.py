"""The three invariant tests that recompute from independent inputs fail on a deliberately broken model.

Each case takes a copy of the session's sample, breaks one table the way a model bug would, and runs the
singular test through dbt on the copy: it must pass before and fail after.
"""

from __future__ import annotations

import duckdb
import pytest

from tests.conftest import run_dbt

pytestmark = pytest.mark.slow

TESTS = ("assert_national_ratio_is_ratio_of_sums", "assert_ytd_flow_targets_follow_profile",
         "assert_pyramid_nodes_are_weighted_means")


def sql(path, *statements: str) -> None:
    con = duckdb.connect(str(path))
    try:
        for s in statements:
            con.execute(s)
    finally:
        con.close()


def failures(test: str) -> int:
    proc = run_dbt("test", "--select", test, check=False)
    if proc.returncode == 0:
        return 0
    assert f"Failure in test {test}" in proc.stdout, proc.stdout[-3000:]
    return 1


def test_the_three_invariants_pass_on_the_real_models(sample_copy):
    proc = run_dbt("test", "--select", *TESTS, check=False)
    assert proc.returncode == 0 and "PASS=3" in proc.stdout, proc.stdout[-3000:]


def test_national_ratio_fails_on_a_mean_of_regional_ratios(sample_copy):
    # A national OUTFLOW taken as the mean of the regions' ratios, with numerator and denominator kept
    # consistent with it (the old test compared the three values of that same row, so it passed).
    sql(sample_copy.warehouse, """
        update intermediate.int_kpi_actuals as n
        set actual_value = r.mean_ratio, numerator = r.mean_ratio * n.denominator
        from (
            select a.period_end, avg(a.actual_value) as mean_ratio
            from intermediate.int_kpi_actuals as a
            inner join reference.structures as s using (structure_code)
            where s.level = 'regional' and a.quantity_code = 'OUTFLOW'
            group by all
        ) as r
        where n.structure_code = 'nazionale' and n.quantity_code = 'OUTFLOW' and n.period_end = r.period_end
    """)
    assert failures("assert_national_ratio_is_ratio_of_sums")


def test_ytd_targets_fail_on_a_wrong_month_outside_march(sample_copy):
    # May's sussidiarieta target at 30 % of the annual one instead of the profile's 20 % + 2/3 x 30 %: the old
    # test only looked at March and at the model's own profile share.
    sql(sample_copy.warehouse, """
        update intermediate.int_kpi_targets
        set target_value = annual_target * 0.3, profile_share = 0.3
        where node_code = 'SUSSIDIARIETA' and period_end = date '2021-05-31'
    """)
    assert failures("assert_ytd_flow_targets_follow_profile")


def test_pyramid_fails_on_a_wrong_weight(sample_copy):
    # The pyramid rebuilt on a wrong weight: every node is still the mean of its children with the weights it
    # stores (the old test re-derived it that way and passed), but not with the plan's.
    sql(sample_copy.warehouse,
        "update intermediate.int_kpi_weights set weight = 0.6 where node_code = 'PG_FINANZA' and level = 'national'",
        "update intermediate.int_kpi_weights set weight = 0.1 where node_code = 'PG_PROCESSI' and level = 'national'")
    run_dbt("run", "--select", "fct_value_pyramid")
    assert failures("assert_pyramid_nodes_are_weighted_means")
