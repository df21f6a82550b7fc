"""`piramide whatif`: the pyramid under alternative weights and targets, beside the baseline.

The overrides go to scenario.overrides (bound parameters); dbt then re-runs only the models tagged
`scenario_rescored` with the var `scenario`, which puts them into the `scenario` schema as
<model>__<name> (macros generate_schema_name / generate_alias_name) and makes int_kpi_weights and
int_kpi_targets apply the overrides. Everything upstream (actuals, grid, seeds) is read from the normal schemas,
and the scoring macros stay the one definition of the rule. The baseline marts and the publications are never
written. An unsaved scenario is dropped after printing; a saved one keeps its tables and is copied, with the
baseline beside it, into scenario.saved_scores (marts.fct_scenario_scores).

dbt runs with its own target folder beside the warehouse: a scenario parse must not replace the manifest Dagster
and `piramide explain` read from dbt_project/target.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime

import duckdb

from orchestration.config import dbt_env, settings
from orchestration.publication.publish import parse_period
from orchestration.publication.store import ident
from orchestration.scenario.overrides import NATION, Override, OverrideError, parse_override, validate_overrides
from orchestration.warehouse import ddl
from orchestration.warehouse.connection import connect
from orchestration.warehouse.vocabulary import relation_exists

NAME_RE = re.compile(r"[a-z][a-z0-9_]{0,39}")
DEFAULT_NAME = "adhoc"
# The models tagged scenario_rescored, in dependency order.
RESCORED = ("int_kpi_weights", "int_kpi_targets", "int_kpi_values", "int_kpi_composites", "fct_kpi_scores",
            "fct_value_pyramid")
TOLERANCE = 1e-9


class ScenarioError(RuntimeError):
    """A scenario that cannot run or be found."""


@dataclass
class ScenarioResult:
    name: str
    period_end: date
    saved: bool
    overrides: list[Override]
    weights: list[tuple]
    targets: list[tuple]
    rows: list[tuple]


def _check_name(name: str) -> str:
    if not NAME_RE.fullmatch(name or ""):
        raise ScenarioError(f"invalid scenario name {name!r}: 1-40 lower-case letters, digits and _, starting "
                            "with a letter")
    return name


def _table(model: str, name: str) -> str:
    return f"scenario.{ident(f'{model}__{name}')}"


def _ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    ddl.apply(con, "scenario")


def _is_saved(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return con.execute("select count(*) from scenario.saved where scenario_name = ?", [name]).fetchone()[0] > 0


def _drop_tables(con: duckdb.DuckDBPyConnection, name: str) -> None:
    for model in reversed(RESCORED):
        con.execute(f"drop table if exists {_table(model, name)}")


def _forget(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Remove a scenario: scenarios are scratch work, unlike publications (which nothing ever deletes)."""
    _drop_tables(con, name)
    for table in ("overrides", "saved_scores", "saved"):
        con.execute(f"delete from scenario.{table} where scenario_name = ?", [name])  # noqa: S608 (constants)


def _dbt_run(name: str) -> None:
    from orchestration.warehouse.dbt import run_dbt

    work = settings().warehouse.parent / ".scenario_dbt"
    env = dbt_env()
    env["DBT_TARGET_PATH"] = str(work / "target")
    env["DBT_LOG_PATH"] = str(work / "logs")
    proc = run_dbt("run", "--select", "tag:scenario_rescored", "--vars", json.dumps({"scenario": name}), env=env)
    if proc.returncode != 0:
        raise ScenarioError(f"dbt failed on scenario {name}:\n{proc.stdout[-4000:]}\n{proc.stderr[-1000:]}")


def _default_period(con: duckdb.DuckDBPyConnection) -> date:
    row = con.execute(
        "select max(period_end) from marts.fct_value_pyramid where structure_code = ? and node_code = 'VPI' "
        "and score is not null",
        [NATION],
    ).fetchone()
    if not row or row[0] is None:
        raise ScenarioError("no month-end with a national VPI in the warehouse")
    return row[0]


def _compare(con: duckdb.DuckDBPyConnection, name: str, period_end: date) -> list[tuple]:
    """Scenario beside baseline for every node row of the month-end that changed."""
    rows = con.execute(
        f"select s.structure_code, s.node_code, s.node_kind, s.node_level, b.weight, s.weight, b.score, s.score, "  # noqa: S608 (validated scenario name, quoted)
        "s.score - b.score, b.weight_coverage, s.weight_coverage "
        f"from {_table('fct_value_pyramid', name)} s "
        "join marts.fct_value_pyramid b using (period_end, structure_code, node_code) "
        "where s.period_end = ? and ("
        "coalesce((s.score is null) <> (b.score is null) or abs(s.score - b.score) > ?, false) "
        "or coalesce(abs(s.weight - b.weight) > ?, false)) "
        "order by s.structure_code <> ?, s.structure_code, s.node_level, s.node_code",
        [period_end, TOLERANCE, TOLERANCE, NATION],
    ).fetchall()
    parents = dict(con.execute("select node_code, parent_code from marts.dim_kpi").fetchall())

    def path(node: str) -> tuple[str, ...]:
        out = [node]
        while parents.get(out[-1]) and len(out) < 12:
            out.append(parents[out[-1]])
        return tuple(reversed(out))

    # Each structure's nodes in tree order: a parent, then its changed children.
    return sorted(rows, key=lambda x: (x[0] != NATION, x[0], path(x[1])))


def _weight_changes(con: duckdb.DuckDBPyConnection, name: str) -> list[tuple]:
    return con.execute(
        f"select s.level, s.parent_code, s.node_code, b.weight, s.weight from {_table('int_kpi_weights', name)} s "  # noqa: S608
        "join intermediate.int_kpi_weights b using (node_code, level) "
        "where abs(s.weight - b.weight) > ? and s.level = 'national' order by s.parent_code, s.node_code",
        [TOLERANCE],
    ).fetchall()


def _target_changes(con: duckdb.DuckDBPyConnection, name: str, period_end: date) -> list[tuple]:
    return con.execute(
        f"select s.node_code, s.structure_code, b.plan_annual_target, s.plan_annual_target, b.target_value, "  # noqa: S608
        f"s.target_value from {_table('int_kpi_targets', name)} s "
        "join intermediate.int_kpi_targets b using (period_end, structure_code, node_code) "
        "join scenario.overrides o on o.node_code = s.node_code and o.structure_code = s.structure_code "
        "and o.scenario_name = ? and o.override_kind = 'target' and o.year = year(s.period_end) "
        "where s.period_end = ? order by s.node_code, s.structure_code",
        [name, period_end],
    ).fetchall()


def run_whatif(
    specs: list[str],
    period: str | None = None,
    name: str | None = None,
    save: bool = False,
    note: str | None = None,
) -> ScenarioResult:
    """Parse, validate, recompute with dbt, compare; keep the scenario only when `save`."""
    if not specs:
        raise OverrideError("no override given: use --set NODE.weight=VALUE or --set target.KPI[@STRUCTURE].YEAR=V")
    if save and not name:
        raise ScenarioError("a saved scenario needs a name: --name NAME")
    name = _check_name(name or DEFAULT_NAME)
    overrides = [parse_override(s) for s in specs]
    con = connect()
    try:
        if not relation_exists(con, "marts", "fct_value_pyramid"):
            raise ScenarioError("the warehouse has no marts yet: run the pipeline (piramide run) first")
        _ensure_schema(con)
        if _is_saved(con, name):
            raise ScenarioError(f"scenario {name} is already saved: drop it first (piramide whatif --drop {name})")
        validate_overrides(con, overrides)
        period_end = parse_period(period) if period else _default_period(con)
        con.execute("begin transaction")
        # Leftovers of an unsaved or interrupted run under the same name.
        _forget(con, name)
        now = datetime.now()
        for i, o in enumerate(overrides, start=1):
            con.execute(
                "insert into scenario.overrides values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [name, i, o.kind, o.node_code, o.structure_code, o.year, o.value, o.spec, now],
            )
        con.execute("commit")
    finally:
        # dbt needs the warehouse's write lock.
        con.close()
    try:
        _dbt_run(name)
        con = connect()
    except BaseException:
        _cleanup(name)
        raise
    try:
        if not relation_exists(con, "scenario", f"fct_value_pyramid__{name}"):
            raise ScenarioError(f"dbt did not build scenario.fct_value_pyramid__{name}")
        result = ScenarioResult(name, period_end, save, overrides, _weight_changes(con, name),
                                _target_changes(con, name, period_end), _compare(con, name, period_end))
        if save:
            con.execute("begin transaction")
            con.execute("insert into scenario.saved values (?, ?, ?, ?)",
                        [name, note, json.dumps([o.spec for o in overrides]), datetime.now()])
            con.execute(
                f"insert into scenario.saved_scores select ?, s.period_end, s.structure_code, s.node_code, "  # noqa: S608
                "s.node_kind, s.weight, b.weight, s.score, b.score, s.weight_coverage, b.weight_coverage, ? "
                f"from {_table('fct_value_pyramid', name)} s "
                "left join marts.fct_value_pyramid b using (period_end, structure_code, node_code)",
                [name, datetime.now()],
            )
            con.execute("commit")
        else:
            con.execute("begin transaction")
            _forget(con, name)
            con.execute("commit")
        return result
    finally:
        con.close()


def _cleanup(name: str) -> None:
    con = connect()
    try:
        _forget(con, name)
    finally:
        con.close()


def list_scenarios() -> list[tuple]:
    """(name, created_at, note, overrides) of the saved scenarios."""
    con = connect()
    try:
        _ensure_schema(con)
        return con.execute(
            "select scenario_name, created_at, note, overrides from scenario.saved order by created_at"
        ).fetchall()
    finally:
        con.close()


def drop_scenario(name: str) -> None:
    _check_name(name)
    con = connect()
    try:
        _ensure_schema(con)
        if not _is_saved(con, name):
            known = [r[0] for r in con.execute("select scenario_name from scenario.saved").fetchall()]
            raise ScenarioError(f"no saved scenario {name!r} (saved: {', '.join(known) or 'none'})")
        con.execute("begin transaction")
        _forget(con, name)
        con.execute("commit")
    finally:
        con.close()
