"""A plan change is data: adding a leaf, removing one and moving weights between siblings is done in the plan's
reference tables (the seeds' content) alone, and the pipeline builds the new tree with no change to SQL or Python."""

# ruff: noqa: S608 - the SQL edits a private test copy with constants of this module

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from tests.conftest import run_dbt

pytestmark = pytest.mark.slow
DEC = date(2021, 12, 31)


def _score(actual: float, target: float, cap_high: float = 0.5) -> float:
    return 100 * (1 + min(cap_high, max(-0.5, (actual - target) / abs(target))))


def test_a_new_leaf_a_removed_leaf_and_moved_weights_build_without_code(sample_copy):
    con = duckdb.connect(str(sample_copy.warehouse))
    try:
        # OBJ_I (communication and user relations): I.1 0.5, I.2 0.1, I.P1 0.2, I.P2 0.2. The new tree: I.2 goes,
        # I.3 comes (the Customer Care index against a target of 100, weight 0.1), I.1 gives 0.1 to I.P1.
        con.execute("insert into reference.kpi_nodes select * replace ('I.3' as node_code, 0.1 as weight, "
                    "'Customer Care (obiettivo 100)' as name_it, 'Customer Care (target 100)' as name_en) "
                    "from reference.kpi_nodes where node_code = 'I.1'")
        con.execute("insert into reference.kpi_applicability select * replace ('I.3' as node_code) "
                    "from reference.kpi_applicability where node_code = 'I.1'")
        con.execute("insert into reference.kpi_targets select * replace ('I.3' as node_code, 100.0 as target_value) "
                    "from reference.kpi_targets where node_code = 'I.1' and year = 2021")
        for table in ("kpi_nodes", "kpi_applicability", "kpi_targets", "target_rules"):
            con.execute(f"delete from reference.{table} where node_code = 'I.2'")
        con.execute("update reference.kpi_nodes set weight = 0.4 where node_code = 'I.1'")
        con.execute("update reference.kpi_nodes set weight = 0.3 where node_code = 'I.P1'")
    finally:
        con.close()
    run_dbt("build", "--select", "kpi_nodes+", "kpi_applicability+", "kpi_targets+", "target_rules+",
            "--exclude", "resource_type:seed", "test_type:unit")

    con = duckdb.connect(str(sample_copy.warehouse), read_only=True)
    try:
        nodes = {r[0]: r[1:] for r in con.execute(
            "select node_code, parent_code, weight, score from marts.fct_value_pyramid "
            "where structure_code = 'nazionale' and period_end = ? and (parent_code = 'OBJ_I' or node_code = 'OBJ_I')",
            [DEC]).fetchall()}
        (cc_actual,) = con.execute("select actual_value from marts.fct_kpi_scores where kpi_code = 'I.1' "
                                   "and structure_code = 'nazionale' and period_end = ?", [DEC]).fetchone()
        gone = con.execute("select count(*) from marts.fct_kpi_scores where kpi_code = 'I.2'").fetchone()[0]
        in_dim = {r[0] for r in con.execute(
            "select node_code from marts.dim_kpi where parent_code = 'OBJ_I'").fetchall()}
    finally:
        con.close()
    assert in_dim == {"I.1", "I.3", "I.P1", "I.P2"} and gone == 0
    assert {k: v[1] for k, v in nodes.items() if k != "OBJ_I"} == {"I.1": 0.4, "I.3": 0.1, "I.P1": 0.3, "I.P2": 0.2}
    # The new leaf is scored by the plan's rule on its own target, from the quantity it names.
    assert nodes["I.3"][2] == pytest.approx(_score(cc_actual, 100.0), rel=1e-12)
    # The objective is the weighted mean of its children with a score, under the new weights.
    children = [(v[1], v[2]) for k, v in nodes.items() if k != "OBJ_I" and v[2] is not None]
    expected = sum(w * s for w, s in children) / sum(w for w, _ in children)
    assert nodes["OBJ_I"][2] == pytest.approx(expected, rel=1e-12)
