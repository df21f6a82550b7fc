"""The latest-state models are incremental by delivery: a build re-ranks only what new deliveries touch.

On a copy of the session's sample, June 2021's practice file and May 2021's contact file are re-delivered with
some items dropped and some practices reopened. An incremental `dbt build` must then give exactly what a
`--full-refresh` gives (the staging states row for row, the scores to 1e-9), must drop the items that only the
superseded files mentioned, and must leave untouched states alone (a marker planted in one survives the
incremental build and is gone after the full refresh: proof that the build did not recompute everything). The
practice cube is maintained by difference: a marker cell planted in it survives the incremental build too.
"""

from __future__ import annotations

import shutil
import subprocess

import duckdb
import pytest

from orchestration.ingest import load_file
from tests.bad_input.state import q
from tests.conftest import run_dbt

pytestmark = pytest.mark.slow

PRACTICES, CONTACTS = "practices_2021-06.parquet", "contacts_2021-05.parquet"
MARKER_CELL = ("'alessandria' as structure_code, 'alessandria' as producing_structure_code, 'MARKER' as product_code, "
               "'young_open' as event, date '2021-01-01' as month_start")
# hash() % 50 = 0: dropped from the re-delivery; = 1: reported again as still open.
DROP, REOPEN = 0, 1


def _restate(inbox, name: str, key: str, reopen: bool) -> None:
    src = inbox / name
    old = src.with_suffix(".orig")
    shutil.move(src, old)
    replace = (
        f" replace (case when hash({key}) % 50 = {REOPEN} then null else defined_on end as defined_on,"
        f" case when hash({key}) % 50 = {REOPEN} then null else outcome end as outcome)"
        if reopen else ""
    )
    duckdb.execute(
        f"copy (select *{replace} from read_parquet(?) where hash({key}) % 50 <> {DROP}) "  # noqa: S608
        f"to '{src}' (format parquet)",
        [str(old)],
    )
    old.unlink()


def _table(wh, sql: str) -> list[tuple]:
    return sorted(q(wh, sql), key=repr)


def test_an_incremental_build_equals_a_full_refresh_and_touches_only_what_changed(sample_copy):
    wh = sample_copy.warehouse
    before = q(wh, "select count(*) from staging.stg_practices")[0][0]
    sup_practices = q(wh, "select delivery_id from audit.current_deliveries where family = 'practices' "
                          "and month = date '2021-06-01'")[0][0]
    # Practices whose only current row is June's and that the re-delivery drops: they must disappear.
    gone = q(wh, """
        select count(*) from (
            select practice_id from raw.practices r join audit.current_deliveries c using (delivery_id)
            group by practice_id
            having bool_and(r.delivery_id = ?) and any_value(hash(practice_id) % 50) = ?)
    """, [sup_practices, DROP])[0][0]
    # Practices whose state is June's, defined there, and that the re-delivery reopens.
    reopened = [r[0] for r in q(wh, """
        select practice_id from staging.stg_practices
        where delivery_id = ? and defined_on is not null and hash(practice_id) % 50 = ?
    """, [sup_practices, REOPEN])]
    assert gone > 0 and reopened

    # A marker on a state no re-delivery touches (its practice is absent from June's file). Its project tag is
    # NULL, and 'Z' counts in no project either: the marker changes no score.
    untouched = q(wh, """
        select practice_id from staging.stg_practices s
        where delivery_id <> ? and project_tag is null and not exists (
            select 1 from raw.practices r where r.delivery_id = ? and r.practice_id = s.practice_id)
        order by practice_id limit 1
    """, [sup_practices, sup_practices])[0][0]
    con = duckdb.connect(str(wh))
    con.execute("update staging.stg_practices set project_tag = 'Z' where practice_id = ?", [untouched])
    # A cube cell of a product no practice has: no change can touch it, and no consumer reads it (young_open
    # cells only join the owner view's cells of real products).
    con.execute(f"insert into intermediate.int_practice_events by name select {MARKER_CELL}, 7 as pieces, "
                "0 as not_cancelled, 0 as defined, 0 as granted, 0 as review, 0 as project_a, 0 as project_b, "
                "0 as project_c, 0 as within_standard, 0 as defined_days, 0 as granted_days, 0 as granted_on_time")
    con.close()

    _restate(sample_copy.inbox, PRACTICES, "practice_id", reopen=True)
    _restate(sample_copy.inbox, CONTACTS, "contact_id", reopen=False)
    res = load_file(sample_copy.inbox / PRACTICES)
    assert res.outcome == "restated"
    assert load_file(sample_copy.inbox / CONTACTS).outcome == "restated"

    run_dbt("build")
    assert q(wh, "select count(*) from staging.stg_practices")[0][0] == before - gone
    assert q(wh, "select count(*) from staging.stg_practices where practice_id in (select unnest(?)) "
                 "and defined_on is null and delivery_id = ?", [reopened, res.delivery_id]) == [(len(reopened),)]
    assert q(wh, "select project_tag from staging.stg_practices where practice_id = ?", [untouched]) == [("Z",)]
    # The cube was updated by difference: the marker cell is still there, and the replaced states are consumed.
    assert q(wh, "select pieces from intermediate.int_practice_events where product_code = 'MARKER'") == [(7,)]
    assert q(wh, "select count(*) from staging.stg_practices__changes")[0][0] == 0
    # No state is left from a superseded delivery.
    for model in ("stg_practices", "stg_contacts"):
        assert q(wh, f"select count(*) from staging.{model} where delivery_id not in "  # noqa: S608
                     "(select delivery_id from audit.current_deliveries)")[0][0] == 0

    con = duckdb.connect(str(wh))
    con.execute("update staging.stg_practices set project_tag = null where practice_id = ?", [untouched])
    con.execute("delete from intermediate.int_practice_events where product_code = 'MARKER'")
    con.close()
    states = {m: _table(wh, f"select * from staging.{m}") for m in ("stg_practices", "stg_contacts")}  # noqa: S608
    cube = _table(wh, "select * from intermediate.int_practice_events")
    scores = {(r[0], r[1], r[2]): r[3] for r in q(
        wh, "select period_end, structure_code, kpi_code, score from marts.fct_kpi_scores")}

    run_dbt("build", "--full-refresh")
    # The full refresh recomputed the marked state too.
    assert q(wh, "select project_tag from staging.stg_practices where practice_id = ?", [untouched]) == [(None,)]
    for m, rows in states.items():
        assert _table(wh, f"select * from staging.{m}") == rows, m  # noqa: S608
    assert _table(wh, "select * from intermediate.int_practice_events") == cube
    full = {(r[0], r[1], r[2]): r[3] for r in q(
        wh, "select period_end, structure_code, kpi_code, score from marts.fct_kpi_scores")}
    assert full.keys() == scores.keys()
    diffs = [k for k, v in full.items() if (v is None) != (scores[k] is None)
             or (v is not None and abs(v - scores[k]) > 1e-9 * max(1.0, abs(v)))]
    assert diffs == []


def _plant_marker(wh) -> None:
    con = duckdb.connect(str(wh))
    con.execute(f"insert into intermediate.int_practice_events by name select {MARKER_CELL}, 7 as pieces, "
                "0 as not_cancelled, 0 as defined, 0 as granted, 0 as review, 0 as project_a, 0 as project_b, "
                "0 as project_c, 0 as within_standard, 0 as defined_days, 0 as granted_days, 0 as granted_on_time")
    con.close()


def _marker(wh) -> list[tuple]:
    return q(wh, "select pieces from intermediate.int_practice_events where product_code = 'MARKER'")


def test_the_cube_rebuilds_whole_when_it_cannot_know_what_it_counted(sample_copy):
    wh = sample_copy.warehouse
    cube = _table(wh, "select * from intermediate.int_practice_events")

    # Nothing changed: the build adds nothing and keeps what it holds (the marker too).
    _plant_marker(wh)
    run_dbt("run", "--select", "int_practice_events")
    assert _marker(wh) == [(7,)]

    # Reference data it was built on changed (the fingerprint differs): rebuilt whole, the marker is gone.
    con = duckdb.connect(str(wh))
    con.execute("update intermediate.int_practice_events__reference set fingerprint = 'before a catalogue change'")
    con.close()
    run_dbt("run", "--select", "int_practice_events")
    assert _marker(wh) == []
    assert _table(wh, "select * from intermediate.int_practice_events") == cube

    # stg_practices refreshed on its own: it cannot say which states it replaced, so it leaves a reset row, and
    # the next cube build starts again from every state.
    _plant_marker(wh)
    run_dbt("run", "--select", "stg_practices", "--full-refresh")
    assert q(wh, "select count(*) from staging.stg_practices__changes where is_reset") == [(1,)]
    run_dbt("run", "--select", "int_practice_events")
    assert _marker(wh) == []
    assert q(wh, "select count(*) from staging.stg_practices__changes") == [(0,)]
    assert _table(wh, "select * from intermediate.int_practice_events") == cube


def _uniqueness_test() -> subprocess.CompletedProcess:
    return run_dbt("test", "--select", "stg_practices,test_name:unique_since_last_build", check=False)


def test_the_uniqueness_test_reads_the_written_keys_and_every_key_when_it_cannot_know_them(sample_copy):
    wh = sample_copy.warehouse
    dup, other = (r[0] for r in q(wh, "select practice_id from staging.stg_practices order by practice_id limit 2"))
    con = duckdb.connect(str(wh))
    con.execute("insert into staging.stg_practices select * from staging.stg_practices where practice_id = ?", [dup])
    con.close()

    # After a build the cube has consumed every change: nothing says what was written, so every key is read.
    assert q(wh, "select count(*) from staging.stg_practices__changes") == [(0,)]
    proc = _uniqueness_test()
    assert proc.returncode != 0 and "Got 1 result" in proc.stdout, proc.stdout[-2000:]

    # A build wrote `other` only (it waits in the side table): the duplicate is not among the keys read.
    def written(key):
        con = duckdb.connect(str(wh))
        con.execute("insert into staging.stg_practices__changes (practice_id, has_prior, is_reset) "
                    "values (?, true, false)", [key])
        con.close()

    written(other)
    assert _uniqueness_test().returncode == 0
    # It wrote the duplicated key too: found.
    written(dup)
    proc = _uniqueness_test()
    assert proc.returncode != 0 and "Got 1 result" in proc.stdout, proc.stdout[-2000:]
