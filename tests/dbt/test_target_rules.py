"""Targets the plan states as rules on an earlier year (seed target_rules, objective tables L2107-2740), derived
on the session's sample (2020-2021) and compared with the rule applied by hand to the 2021 year-end actuals."""

from __future__ import annotations

from datetime import date

import pytest

from tests.helpers import query

pytestmark = pytest.mark.slow


def test_2022_rule_targets_are_the_rule_on_the_2021_year_end(sample_build):
    actual = dict(query(sample_build.warehouse,
                        "select kpi_code, actual_value from marts.fct_kpi_scores where structure_code = 'nazionale' "
                        "and period_end = ? and kpi_code in ('F.1', 'C.1', 'C.2', 'I.2')", [date(2021, 12, 31)]))
    derived = {r[0]: r[1:] for r in query(
        sample_build.warehouse,
        "select node_code, target_value, plan_line, target_source from intermediate.int_kpi_plan_targets "
        "where structure_code = 'nazionale' and year = 2022 and node_code in ('F.1', 'C.1', 'C.2', 'I.2')")}
    # F.1 (L2335-2339): 1.02 x the larger of the 2021 target (8,855,168,560 EUR) and the 2021 actual, the
    # sample's actual brought back to plan units by its scale.
    f1 = 1.02 * max(8855168560.0, actual["F.1"] / sample_build.scale)
    assert derived["F.1"] == (pytest.approx(f1), "2335-2339", "rule: 1.02 x max(2021 target, 2021 year-end actual)")
    # C.1, C.2 (L2174-2201): +2 % on the 2021 actual share, relative; I.2 (L2668-2670): +10 % on the followers.
    assert derived["C.1"] == (pytest.approx(1.02 * actual["C.1"]), "2174-2176", "rule: 1.02 x 2021 year-end actual")
    assert derived["C.2"][0] == pytest.approx(1.02 * actual["C.2"])
    assert derived["I.2"] == (pytest.approx(1.10 * actual["I.2"]), "2668-2670", "rule: 1.1 x 2021 year-end actual")
    # The 2023 rules need the 2022 year-end, which the sample does not have: no target yet, not a guess.
    assert query(sample_build.warehouse, "select count(*) from intermediate.int_kpi_plan_targets "
                                         "where year = 2023 and node_code in ('F.1', 'C.1', 'C.2', 'I.2')") == [(0,)]


def test_seeded_targets_keep_their_source(sample_build):
    rows = query(sample_build.warehouse,
                 "select target_source, count(*) from intermediate.int_kpi_targets "
                 "where node_code = 'D.1' and structure_code in ('nazionale', 'alessandria') group by all")
    # D.1's 2021 target is seeded for the nation; a provincial office takes it (stock: target_fallbacks).
    assert sorted(rows) == [("national seed", 12), ("seed", 12)]
