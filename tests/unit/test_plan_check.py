"""`piramide plan check` on the project's seeds and on copies broken on purpose (no warehouse needed)."""

from __future__ import annotations

import csv
import shutil

import pytest

from orchestration.cli import main
from orchestration.config import SEEDS_DIR
from orchestration.plan_check import check_plan, plan_years


def errors(findings):
    return {f.subject: f.message for f in findings if f.severity == "error"}


@pytest.fixture
def seeds(tmp_path):
    copy = tmp_path / "seeds"
    shutil.copytree(SEEDS_DIR, copy)
    return copy


def edit(seeds, name, change):
    """Rewrite seeds/<name>.csv: `change(rows)` edits the list of dict rows in place."""
    path = seeds / f"{name}.csv"
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        fields, rows = reader.fieldnames, list(reader)
    change(rows)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def row(rows, **key):
    (hit,) = [r for r in rows if all(r[k] == v for k, v in key.items())]
    return hit


def test_the_plan_years_come_from_the_parameters_seed():
    assert plan_years() == [2021, 2022, 2023]


def test_2021_seeds_are_complete(capsys):
    assert check_plan([2021]) == []
    assert main(["plan", "check", "--year", "2021"]) == 0
    assert capsys.readouterr().out.strip() == f"plan check 2021 ({SEEDS_DIR}): 0 errors, 0 warnings"


def test_2022_names_the_leaves_without_a_target(seeds, capsys):
    found = errors(check_plan([2022]))
    # National leaves the 2022 seeds do not cover yet, and the territorial ones that need the 2022 budget.
    for leaf in ("IMP_REPUTATION", "IMP_CONTINUITY", "QUALITY_PROD", "PRODUCTIVITY", "SUSSIDIARIETA"):
        assert found[f"{leaf} @ national 2022"] == "no target"
    assert found["PRODUCTIVITY @ provincial 2022"] == (
        "116 of 116 structures without a target (agrigento, alessandria, ancona, aosta, arezzo, ...)")
    # D.2 has its 2022 target (plan L2237-2247); F.1, C.1, C.2, I.2 and the six quality indices a rule
    # (target_rules): not listed.
    rule_leaves = ("F.1", "C.1", "C.2", "I.2", "A.1", "B.1", "G.3", "G.4", "H.1", "I.1")
    for leaf in ("D.2", *rule_leaves):
        assert not [s for s in found if s.startswith(f"{leaf} ")], leaf
    # Without the rules seed the rule-based leaves are missing too.
    (seeds / "target_rules.csv").unlink()
    without_rules = errors(check_plan([2022], seeds))
    assert set(without_rules) - set(found) == {f"{leaf} @ national 2022" for leaf in rule_leaves}
    assert main(["plan", "check", "--year", "2022"]) == 1
    out = capsys.readouterr().out
    assert "ERROR   targets      IMP_REPUTATION @ national 2022: no target" in out
    assert out.strip().endswith(f"{len(found)} errors, 21 warnings")


def test_a_broken_weight_names_its_parent_and_level(seeds, capsys):
    edit(seeds, "perspective_weights",
         lambda rows: row(rows, level="regional", node_code="QUALITY_PROD").update(weight="0.35"))
    found = errors(check_plan([2021], seeds))
    assert list(found) == ["PG_PROCESSI @ regional"]
    assert found["PG_PROCESSI @ regional"].startswith("the weights of its children sum to 1.1, not 1 (")
    assert main(["plan", "check", "--year", "2021", "--seeds", str(seeds)]) == 1
    assert "PG_PROCESSI @ regional" in capsys.readouterr().out


def test_a_leaf_under_a_parent_that_does_not_apply_is_an_orphan(seeds):
    # The central producers' subsidiarity leaf without PG_PROCESSI at their level (the 36 orphan rows).
    edit(seeds, "kpi_applicability",
         lambda rows: row(rows, node_code="PG_PROCESSI", level="central").update(applies="false"))
    assert errors(check_plan([2021], seeds)) == {
        "SUSSIDIARIETA @ central": "applies where its parent PG_PROCESSI does not: its rows would have no parent"}


def test_a_missing_structure_target_is_listed_but_an_intensive_one_falls_back(seeds):
    def drop(rows):
        rows.remove(row(rows, node_code="IMPROVEMENT_PROJECTS.A", structure_code="piemonte", year="2021"))
        rows.remove(row(rows, node_code="CUSTOMER_CARE", structure_code="alessandria", year="2021"))

    edit(seeds, "kpi_targets", drop)
    # CUSTOMER_CARE (ytd_ratio) takes the national target (target_fallbacks); a flow part does not.
    assert errors(check_plan([2021], seeds)) == {
        "IMPROVEMENT_PROJECTS.A @ regional 2021": "1 of 23 structures without a target (piemonte)"}


def test_profiles_polarity_and_unknown_parents(seeds):
    edit(seeds, "target_profiles", lambda rows: row(rows, node_code="SUSSIDIARIETA", month="9").update(share="0.4"))

    def nodes(rows):
        row(rows, node_code="IG_PSI").update(polarity="0")
        row(rows, node_code="I.2").update(parent_code="OBJ_Z")

    edit(seeds, "kpi_nodes", nodes)
    found = errors(check_plan([2021], seeds))
    assert found["SUSSIDIARIETA"] == "shares [0.2, 0.5, 0.4, 1.0] decrease or leave (0, 1]"
    assert found["IG_PSI"] == "polarity is 0, not +1 or -1"
    assert found["I.2"] == "parent OBJ_Z is not a node"
    # OBJ_I loses a child, so its weights no longer sum to 1 at any level.
    assert found["OBJ_I @ national"].startswith("the weights of its children sum to 0.9, not 1")
