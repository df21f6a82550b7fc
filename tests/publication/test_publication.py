"""Publications (append-only snapshots of a month-end), `diff` against them, and what-if scenarios.

Every test works on a private copy of the session's sample warehouse (tests/conftest.py `sample_copy`).
"""

from __future__ import annotations

import ast
import json
import re
import shutil
from pathlib import Path

import duckdb
import pytest

from orchestration.config import ROOT
from tests.conftest import run_dbt

PERIOD = "2021-06"
DEC = "2021-12"
NATION = "nazionale"


def connect(path, read_only=False):
    return duckdb.connect(str(path), read_only=read_only)


# The one marts relation a saved scenario is meant to change.
SCENARIO_MART = "marts.fct_scenario_scores"


def fingerprints(path, schemas=("marts", "publish"), exclude=(SCENARIO_MART,)) -> dict[str, tuple]:
    """(rows, hash of every row) per table and view of the schemas: any changed value changes it."""
    con = connect(path, read_only=True)
    try:
        rels = con.execute(
            "select schema_name, table_name from duckdb_tables() where list_contains(?, schema_name) "
            "union all select schema_name, view_name from duckdb_views() "
            "where list_contains(?, schema_name) and not internal order by 1, 2",
            [list(schemas), list(schemas)],
        ).fetchall()
        out = {}
        for schema, name in rels:
            if f"{schema}.{name}" in exclude:
                continue
            out[f"{schema}.{name}"] = con.execute(
                f'select count(*), md5(coalesce(string_agg(h, \'\' order by h), \'\')) '  # noqa: S608 (catalogue names)
                f'from (select md5(t::varchar) as h from {schema}."{name}" as t)'
            ).fetchone()
        return out
    finally:
        con.close()


def publication_rows(path, pid) -> tuple:
    con = connect(path, read_only=True)
    try:
        return tuple(
            con.execute(
                f"select count(*), md5(coalesce(string_agg(md5(t::varchar), '' order by md5(t::varchar)), '')) "  # noqa: S608
                f"from publish.{table} t where publication_id = ?",
                [pid],
            ).fetchone()
            for table in ("publications", "published_scores", "published_pyramid", "published_seeds")
        )
    finally:
        con.close()


def restate_costs(inbox: Path, month: str = "2021-03", factor: float = 1.5) -> Path:
    """A corrected costs extract: the region's litigation costs of the month were understated."""
    path = inbox / f"costs_{month}.parquet"
    original = path.with_suffix(".orig.parquet")
    path.rename(original)
    con = duckdb.connect()
    con.sql(
        "select * replace ((case when cost_nature = 'LITIGATION' then amount_eur * ? else amount_eur end)"
        "::decimal(18, 2) as amount_eur) from read_parquet(?)",
        params=[factor, str(original)],
    ).write_parquet(str(path))
    con.close()
    original.unlink()
    return path


# ------------------------------------------------------------------------------------------ publish / diff


@pytest.mark.slow
def test_restated_extract_leaves_the_publication_intact_and_diff_names_it(sample_copy, capsys):
    from orchestration.cli import main
    from orchestration.ingest import load_inbox
    from orchestration.publication import diff_rows, publish

    pub = publish(PERIOD, note="June close")
    assert pub.version == 1 and not pub.forced
    assert pub.scores_rows > 1000 and pub.pyramid_rows > 500
    before = publication_rows(sample_copy.warehouse, pub.publication_id)
    con = connect(sample_copy.warehouse, read_only=True)
    published_vpi = con.execute(
        "select score from marts.fct_value_pyramid where period_end = last_day(?::date) "
        "and structure_code = ? and node_code = 'VPI'", [PERIOD + "-01", NATION]).fetchone()[0]
    con.close()

    restate_costs(sample_copy.inbox)
    results = load_inbox(sample_copy.inbox)
    assert [(r.file, r.outcome) for r in results] == [("costs_2021-03.parquet", "restated")]
    # A full refresh drops and recreates every dbt relation: the publish schema is not one of them.
    run_dbt("build", "--full-refresh", "--exclude", "resource_type:test", "resource_type:unit_test")

    assert publication_rows(sample_copy.warehouse, pub.publication_id) == before
    con = connect(sample_copy.warehouse, read_only=True)
    try:
        now_vpi = con.execute(
            "select score from marts.fct_value_pyramid where period_end = last_day(?::date) "
            "and structure_code = ? and node_code = 'VPI'", [PERIOD + "-01", NATION]).fetchone()[0]
        assert abs(now_vpi - published_vpi) > 1e-6, "the restatement should move today's VPI"
        frozen = con.execute(
            "select score from marts.fct_published_scores where publication_id = ? and structure_code = ? "
            "and node_code = 'VPI'", [pub.publication_id, NATION]).fetchone()[0]
        assert frozen == published_vpi
        rows = {(r["structure_code"], r["node_code"]): r for r in diff_rows(con, PERIOD, None)}
        superseded = con.execute(
            "select rows_accepted from audit.deliveries where file = 'costs_2021-03.parquet' "
            "and superseded_by is not null").fetchone()[0]
    finally:
        con.close()

    cause = "restated costs_2021-03.parquet"
    for node in ("VPI", "PI", "IMP_LITIGATION", "PG_FINANZA"):
        assert cause in rows[(NATION, node)]["causes"], (node, rows[(NATION, node)])
    lit = rows[(NATION, "IMP_LITIGATION")]
    assert "actual_value" in lit["changed"] and lit["current_actual_value"] > lit["published_actual_value"]
    assert abs(rows[(NATION, "VPI")]["delta"] - (now_vpi - published_vpi)) < 1e-9
    # Practices-only KPIs did not move, and no moved row is left unexplained.
    assert (NATION, "IG_PSI") not in rows and (NATION, "PRODUCTIVITY") not in rows
    assert all(r["causes"] and "unexplained" not in r["causes"] for r in rows.values())

    assert main(["diff", "--period", PERIOD]) == 0
    out = capsys.readouterr().out
    assert "publication integrity: ok" in out
    assert re.search(r"restated extract costs_2021-03\.parquet: delivery \d+ superseded by \d+ .*"
                     rf"{superseded:,} rows superseded", out), out[:2000]
    moved = [line.split() for line in out.splitlines() if line.startswith("  nazionale ")]
    for node in ("VPI", "PI", "IMP_LITIGATION", "COST_PER_POINT"):
        line = next(x for x in moved if x[1] == node)
        assert "costs_2021-03.parquet" in " ".join(line), line

    # The HTML report carries the same diff as a section.
    assert main(["report", "--period", PERIOD, "--out", str(sample_copy.tmp / "report")]) == 0
    html = (sample_copy.tmp / "report" / f"report_{PERIOD}.html").read_text()
    section = html[html.index('id="publication"'):]
    assert 'id="publication-diff"' in section and "restated costs_2021-03.parquet" in section
    assert "IMP_LITIGATION" in section


def test_publishing_again_adds_a_version_and_never_touches_the_first(sample_copy, capsys):
    from orchestration.cli import main
    from orchestration.publication import history, publish, reopen
    from orchestration.publication.store import verify

    first = publish(PERIOD)
    before = publication_rows(sample_copy.warehouse, first.publication_id)
    assert main(["reopen", "--period", PERIOD, "--reason", "regional costs to be corrected"]) == 0
    second = publish(PERIOD, note="after the correction")
    assert (first.version, second.version) == (1, 2)
    assert publication_rows(sample_copy.warehouse, first.publication_id) == before

    con = connect(sample_copy.warehouse)
    try:
        events = [(e[1], e[3]) for e in history(con, PERIOD)]
        assert events == [("publish", 1), ("reopen", 1), ("publish", 2)]
        latest = con.execute(
            "select distinct publication_id from marts.fct_published_scores where period_end = ? and is_latest_version",
            [second.period_end]).fetchall()
        assert latest == [(second.publication_id,)]
        stamp = con.execute(
            "select code_version, seeds_hash, deliveries, content_hash from publish.publications "
            "where publication_id = ?", [first.publication_id]).fetchone()
        assert stamp[0].startswith("piramide ") and len(stamp[1]) == 64 and len(stamp[3]) == 64
        deliveries = json.loads(stamp[2])
        assert {d["family"] for d in deliveries} >= {"practices", "costs", "survey"}
        assert all(len(d["checksum"]) >= 32 for d in deliveries)
        seeds = dict(con.execute("select seed_name, sha256 from publish.published_seeds where publication_id = ?",
                                 [first.publication_id]).fetchall())
        assert "kpi_targets.csv" in seeds and "perspective_weights.csv" in seeds
        # Nothing in the package can change a published row; one changed behind its back is detected.
        assert verify(con, first.publication_id)
        con.execute("update publish.published_scores set score = score + 1 "
                    "where publication_id = ? and kpi_code = 'IMP_LITIGATION' and structure_code = ?",
                    [first.publication_id, NATION])
        assert not verify(con, first.publication_id) and verify(con, second.publication_id)
    finally:
        con.close()
    with pytest.raises(Exception, match="never been published"):
        reopen("2021-07", "nothing to reopen")


def test_publication_code_has_no_update_or_delete_path():
    pattern = re.compile(r"(?i)\b(update\s+[\w.\"]+\s+set|delete\s+from|truncate|drop\s+(table|schema|view)|"
                         r"alter\s+table|create\s+or\s+replace|insert\s+or\s+replace|on\s+conflict)\b")
    found = []
    for path in sorted((ROOT / "orchestration" / "publication").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and pattern.search(node.value):
                found.append(f"{path.name}:{node.lineno}: {node.value[:80]}")
    from orchestration.warehouse.ddl import ddl_text

    sql = "\n".join(re.sub(r"--[^\n]*", "", ddl_text(name)) for name in ("publish", "scenario"))
    found += [f"warehouse/sql: {m.group(0)}" for m in pattern.finditer(sql)]
    assert not found, found
    statements = [s.strip() for s in sql.split(";") if s.strip().lower().startswith("create")]
    assert statements and all("if not exists" in s.lower() for s in statements)


@pytest.mark.slow
def test_an_incomplete_month_is_refused_with_the_reason_unless_forced(sample_copy, capsys):
    from orchestration.cli import main
    from orchestration.publication import PublicationError, PublicationRefused, publish

    con = connect(sample_copy.warehouse)
    # As if costs_2021-06 had never been delivered.
    con.execute("delete from raw.costs where delivery_month = '2021-06-01'")
    con.execute("delete from audit.load_ledger where family = 'costs' and month = '2021-06-01'")
    con.close()
    run_dbt("run", "--select", "stg_costs+")

    with pytest.raises(PublicationRefused) as refused:
        publish(PERIOD)
    text = str(refused.value)
    assert "weight_coverage" in text and "below the threshold 0.95" in text
    assert "families not delivered for 2021-06" in text and "costs" in text
    assert main(["publish", "--period", PERIOD]) == 3
    assert "refused" in capsys.readouterr().err
    with pytest.raises(PublicationError, match="--reason"):
        publish(PERIOD, force=True)

    assert main(["publish", "--period", PERIOD, "--force", "--reason", "minister's deadline; costs follow"]) == 0
    assert "FORCED" in capsys.readouterr().out
    con = connect(sample_copy.warehouse, read_only=True)
    try:
        forced, reason, checks, coverage = con.execute(
            "select forced, reason, checks, vpi_weight_coverage from publish.publications").fetchone()
    finally:
        con.close()
    assert forced and reason.startswith("minister") and coverage < 0.95
    assert any("costs" in p for p in json.loads(checks)["problems"])


def test_the_coverage_threshold_is_configurable(sample_copy, monkeypatch):
    from orchestration.publication import PublicationRefused, publish

    monkeypatch.setenv("PIRAMIDE_PUBLISH_MIN_COVERAGE", "1.01")
    with pytest.raises(PublicationRefused, match="below the threshold 1.01"):
        publish(PERIOD)
    monkeypatch.setenv("PIRAMIDE_PUBLISH_MIN_COVERAGE", "0.5")
    assert publish(PERIOD).version == 1


# ------------------------------------------------------------------------------------------ what-if


def _national(con, table, period):
    return {r[0]: (r[1], r[2]) for r in con.execute(
        f"select node_code, score, weight from {table} where structure_code = ? "  # noqa: S608 (test constants)
        "and period_end = last_day(?::date)", [NATION, period + "-01"]).fetchall()}


def _mean(children: dict[str, tuple[float, float]]) -> float:
    scored = {k: v for k, v in children.items() if v[0] is not None}
    return sum(s * w for s, w in scored.values()) / sum(w for _, w in scored.values())


@pytest.mark.slow
def test_weight_and_target_overrides_move_the_vpi_by_the_hand_computed_amount(sample_copy, capsys):
    from orchestration.cli import main
    from orchestration.publication import publish
    from orchestration.scenario import drop_scenario, list_scenarios

    publish(DEC)
    before = fingerprints(sample_copy.warehouse)
    target_spec = "target.IMP_REPUTATION.2021=3.10"
    flow_spec = "target.PRODUZIONE_LORDA.2021=20000000"
    assert main(["whatif", "--set", "PG_PROCESSI.weight=0.3", "--set", target_spec, "--set", flow_spec,
                 "--period", DEC, "--name", "processi30", "--save"]) == 0
    out = capsys.readouterr().out
    _assert_unchanged(before, fingerprints(sample_copy.warehouse))

    con = connect(sample_copy.warehouse, read_only=True)
    try:
        base = _national(con, "marts.fct_value_pyramid", DEC)
        scen = _national(con, 'scenario."fct_value_pyramid__processi30"', DEC)
        # PG: Processi fixed at 0.3, the other perspectives scaled by (1 - 0.3) / (1 - 0.4).
        pg_children = {k: (base[k][0], base[k][1]) for k in ("PG_PROCESSI", "PG_FINANZA", "PG_UTENZA", "PG_SVILUPPO")}
        scale = (1 - 0.3) / sum(w for k, (_, w) in pg_children.items() if k != "PG_PROCESSI")
        new_weights = {k: (0.3 if k == "PG_PROCESSI" else w * scale) for k, (_, w) in pg_children.items()}
        assert abs(sum(new_weights.values()) - 1) < 1e-12
        pg = _mean({k: (s, new_weights[k]) for k, (s, _) in pg_children.items()})
        # PI: the reputation leaf re-scored against 3.10 with the plan's rule (stock: the annual value).
        rep = con.execute(
            "select actual_value, polarity, cap_high from marts.fct_kpi_scores where kpi_code = 'IMP_REPUTATION' "
            "and structure_code = ? and period_end = last_day(?::date)", [NATION, DEC + "-01"]).fetchone()
        rep_score = 100 * (1 + min(rep[2], max(-0.5, rep[1] * (rep[0] - 3.10) / 3.10)))
        pi_children = {k: base[k] for k in ("IMP_CONTINUITY", "IMP_AVG_TIME", "IMP_LITIGATION", "IMP_REPUTATION",
                                            "IMP_INSPECTION")}
        pi_children["IMP_REPUTATION"] = (rep_score, base["IMP_REPUTATION"][1])
        pi = _mean(pi_children)
        vpi = _mean({"SP": base["SP"], "PG": (pg, base["PG"][1]), "PI": (pi, base["PI"][1])})

        assert abs(scen["PG_PROCESSI"][1] - 0.3) < 1e-12
        assert abs(scen["PG"][0] - pg) < 1e-9
        assert abs(scen["IMP_REPUTATION"][0] - rep_score) < 1e-9
        assert abs(scen["PI"][0] - pi) < 1e-9
        assert abs((scen["VPI"][0] - base["VPI"][0]) - (vpi - base["VPI"][0])) < 1e-9
        assert abs(scen["VPI"][0] - base["VPI"][0]) > 1e-3
        # SP is untouched by both overrides (equal up to the last bit of DuckDB's parallel sums).
        assert scen["SP"] == pytest.approx(base["SP"], abs=1e-9)

        # The overridden annual target of a quarterly-profile flow follows the same month-end profile.
        profile = con.execute(
            "select b.period_end, b.profile_share, b.annual_target / b.plan_annual_target, s.target_value "
            "from intermediate.int_kpi_targets b join scenario.\"int_kpi_targets__processi30\" s "
            "using (period_end, structure_code, node_code) where node_code = 'PRODUZIONE_LORDA' "
            "and structure_code = ? and year(period_end) = 2021 order by 1", [NATION]).fetchall()
        assert len(profile) == 12
        for _period_end, share, scale_factor, target in profile:
            assert abs(target - 20_000_000 * scale_factor * share) < 1e-6

        saved = con.execute(
            "select score, baseline_score, delta from marts.fct_scenario_scores where scenario_name = 'processi30' "
            "and structure_code = ? and node_code = 'VPI' and period_end = last_day(?::date)",
            [NATION, DEC + "-01"]).fetchone()
        assert saved[1] == base["VPI"][0] and abs(saved[2] - (vpi - base["VPI"][0])) < 1e-9
    finally:
        con.close()

    vpi_line = next(line for line in out.splitlines() if line.strip().startswith("VPI "))
    assert f"{vpi - base['VPI'][0]:+.3f}" in vpi_line
    assert "PG_PROCESSI" in out and "0.400->0.300" in out

    assert [r[0] for r in list_scenarios()] == ["processi30"]
    drop_scenario("processi30")
    assert list_scenarios() == []
    after = fingerprints(sample_copy.warehouse, schemas=("scenario",))
    assert not any("__processi30" in k for k in after)
    _assert_unchanged(before, fingerprints(sample_copy.warehouse))


def _assert_unchanged(before, after):
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    assert not changed, f"a scenario changed baseline relations: {changed}"


INVALID = [
    ("PG_PROCESS.weight=0.3", "unknown node 'PG_PROCESS'.*PG_PROCESSI"),
    ("PG_PROCESSI.weight=1.4", "weight of PG_PROCESSI must be within"),
    ("PG_PROCESSI.weight=lots", "'lots' is not a number"),
    ("target.IMP_REPUTATON.2021=3.1", "unknown KPI 'IMP_REPUTATON'.*IMP_REPUTATION"),
    ("target.IMP_REPUTATION@atlantide.2021=3.1", "unknown structure 'atlantide'"),
    ("target.IEEP.2021=2", "IEEP is a composite.*IEEP.ENTRATE"),
    ("target.A.P1.2021=1", "A.P1 is a milestone leaf"),
    ("target.IMP_REPUTATION.2031=3.1", "no month-end of 2031"),
    ("CUSTOMER_CARE.weight=0.5", "CUSTOMER_CARE.*cannot be rescaled"),
    ("PG_PROCESSI=0.3", "is not an override"),
]


def test_an_invalid_override_fails_with_a_message_naming_it(sample_copy, capsys):
    from orchestration.cli import main

    before = fingerprints(sample_copy.warehouse)
    for spec, message in INVALID:
        # A valid override beside it: the invalid one is still named, and nothing runs.
        assert main(["whatif", "--set", "PG_FINANZA.weight=0.25", "--set", spec]) == 2, spec
        err = capsys.readouterr().err
        assert re.search(message, err), (spec, err)
    _assert_unchanged(before, fingerprints(sample_copy.warehouse))


def test_diff_names_a_changed_seed_row_and_the_nodes_it_moved(sample_copy, tmp_path, monkeypatch, capsys):
    from orchestration.cli import main
    from orchestration.config import seeds_dir
    from orchestration.publication import diff_rows, publish, store

    pub = publish(PERIOD)
    seeds = tmp_path / "seeds"
    shutil.copytree(seeds_dir(), seeds)
    text = (seeds / "kpi_targets.csv").read_text()
    assert "IMP_REPUTATION,nazionale,2021,3.73," in text
    (seeds / "kpi_targets.csv").write_text(text.replace("IMP_REPUTATION,nazionale,2021,3.73,",
                                                        "IMP_REPUTATION,nazionale,2021,3.5,"))
    monkeypatch.setattr(store, "seeds_dir", lambda: seeds)
    # As if dbt had rebuilt with the new seed: the reputation leaf's target and score move at the month-end.
    con = connect(sample_copy.warehouse)
    con.execute("update marts.fct_kpi_scores set target_value = 3.5, score = score + 2 "
                "where kpi_code = 'IMP_REPUTATION' and structure_code = ? and period_end = ?",
                [NATION, pub.period_end])
    con.execute("update marts.fct_value_pyramid set score = score + 2 "
                "where node_code = 'IMP_REPUTATION' and structure_code = ? and period_end = ?",
                [NATION, pub.period_end])
    rows = {(r["structure_code"], r["node_code"]): r for r in diff_rows(con, PERIOD, pub.publication_id)}
    con.close()
    assert set(rows) == {(NATION, "IMP_REPUTATION")}
    assert rows[(NATION, "IMP_REPUTATION")]["causes"] == ["seed kpi_targets"]
    assert rows[(NATION, "IMP_REPUTATION")]["changed"] == ["score", "target_value"]

    assert main(["diff", "--against", str(pub.publication_id)]) == 0
    out = capsys.readouterr().out
    assert "changed seed kpi_targets.csv: 1 row(s) differ" in out
    assert "kpi_targets[IMP_REPUTATION, nazionale, 2021]: target_value 3.73 -> 3.5" in out


def test_delivery_changes_separate_restatements_from_the_following_months():
    from datetime import date

    from orchestration.publication.diff import _delivery_changes

    def d(i, fam, month, first=None, rows=10):
        return {"delivery_id": i, "family": fam, "month": month, "file": f"{fam}_{month[:7]}.parquet",
                "checksum": f"c{i}", "rows_accepted": rows, "min_event_month": first or month}

    published = [d(1, "costs", "2021-03-01"), d(2, "costs", "2021-06-01"), d(3, "practices", "2021-06-01")]
    current = [
        d(9, "costs", "2021-03-01", rows=12),             # restated: a cause
        d(2, "costs", "2021-06-01"),                      # unchanged
        d(3, "practices", "2021-06-01"),                  # unchanged
        d(10, "staff", "2021-06-01"),                     # late delivery of the month: a cause
        d(11, "costs", "2021-07-01"),                     # next month, events after June: not a cause
        d(12, "practices", "2021-07-01", "2021-02-01"),   # next month carrying earlier events: a fallback
    ]
    changes = {c.file: c for c in _delivery_changes(published, current, date(2021, 6, 30))}
    assert set(changes) == {"costs_2021-03.parquet", "staff_2021-06.parquet", "practices_2021-07.parquet"}
    restated = changes["costs_2021-03.parquet"]
    assert (restated.kind, restated.published_delivery_id, restated.delivery_id) == ("restated", 1, 9)
    assert (restated.rows_superseded, restated.rows_now) == (10, 12)
    assert changes["staff_2021-06.parquet"].kind == "late"
    assert changes["practices_2021-07.parquet"].kind == "later"
