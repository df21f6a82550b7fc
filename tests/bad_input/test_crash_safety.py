"""Crash safety: a load and a dbt build killed with SIGKILL, then rerun.

After the kill the warehouse opens, the ledger and raw agree (no raw row without its ledger row, no accepted
delivery without its rows: no partial month), and the rerun finishes the work. The dbt test also carries the
corpus's value-changing restatement through dbt, and asserts that the marts changed exactly as predicted.
"""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import duckdb
import pytest

from orchestration.config import DBT_PROJECT_DIR
from orchestration.contract import parse_file_name
from orchestration.ingest import load_file, load_inbox
from tests.bad_input.corpus import REOPENED, reopened_sql
from tests.bad_input.state import consistency_problems, fingerprint, q, reading

pytestmark = pytest.mark.slow

PIRAMIDE = str(Path(sys.executable).parent / "piramide")
BIG_ROWS = 100_000


def _env(sample_copy) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        PIRAMIDE_WAREHOUSE=str(sample_copy.warehouse),
        PIRAMIDE_INBOX=str(sample_copy.inbox),
        DAGSTER_HOME=str(sample_copy.tmp / "dagster_home"),
        # dbt must not write the project's own target/ or logs/.
        DBT_TARGET_PATH=str(sample_copy.tmp / "dbt_target"),
        DBT_LOG_PATH=str(sample_copy.tmp / "dbt_logs"),
        PYTHONUNBUFFERED="1",
    )
    return env


def _start(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    # A session of its own: the kill reaches every process of the command (`piramide dbt` execs dbt; the group
    # kill also covers anything a command starts).
    return subprocess.Popen([PIRAMIDE, *args], env=env, cwd=DBT_PROJECT_DIR.parent, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)


def _kill_when(proc: subprocess.Popen, seen: callable, delay: float, timeout: float = 300) -> list[str]:
    """Read the process's output until `seen(lines)`; then wait `delay` seconds and SIGKILL its group."""
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    for line in proc.stdout:
        lines.append(line)
        if seen(lines):
            break
        assert time.monotonic() < deadline, "the process never reached the point to kill it at"
    else:
        raise AssertionError("the process ended before the kill:\n" + "".join(lines[-30:]))
    time.sleep(delay)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL, "the process had already finished when it was killed"
    # Wait until every process of the group has died (and let go of the warehouse's lock). Zombies count as
    # gone: whoever reaps orphans here may take its time.
    deadline = time.monotonic() + 60
    while _group_alive(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return lines


def _group_alive(pgid: int) -> bool:
    """Whether a thread of a process of the group still runs. A killed multi-threaded process shows its main
    thread as a zombie while the others are still exiting, holding its files (and DuckDB's lock)."""
    for stat in Path("/proc").glob("[0-9]*/task/[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            return True
    return False


def _big_practices_file(path: Path, month: date) -> Path:
    """BIG_ROWS valid practices of a new month, long enough to load that a kill lands inside the load."""
    con = duckdb.connect()
    try:
        con.execute("set threads = 2")
        sql = (
            "select 'KILL' || lpad(i::varchar, 8, '0') as practice_id, 'alessandria' as structure_code, "
            "'alessandria' as producing_structure_code, 'NASPI' as product_code, "
            "(?::date + (i % 28)::int) as received_on, null::date as entitlement_on, null::date as defined_on, "
            "null::varchar as outcome, (?::date + (i % 28)::int) as changed_on, null::varchar as project_tag, "
            "false as review_flag, "
            "chr((65 + (i * 7) % 26)::int) || chr((65 + (i * 11) % 26)::int) || chr((65 + (i * 13) % 26)::int) "
            "|| chr((65 + (i * 17) % 26)::int) || chr((65 + (i * 19) % 26)::int) || chr((65 + (i * 23) % 26)::int) "
            "|| lpad((i % 100)::varchar, 2, '0') || chr((65 + i % 26)::int) || lpad((i % 97)::varchar, 2, '0') "
            "|| chr((65 + (i * 3) % 26)::int) || lpad((i % 997)::varchar, 3, '0') || chr((65 + (i * 5) % 26)::int) "
            "as applicant_tax_code "
            "from range(?) t(i)"
        )
        con.sql(sql, params=[month, month, BIG_ROWS]).write_parquet(str(path))
    finally:
        con.close()
    return path


def _next_month(inbox: Path) -> date:
    months = sorted(parse_file_name(p.name)[1] for p in inbox.iterdir() if parse_file_name(p.name))
    y, m = map(int, months[-1].split("-"))
    return date(y + (m == 12), m % 12 + 1, 1)


# Where the load is killed: the log line it has just written, and how long after it. "loading" is the read
# and validation of the file; "inserting" is inside the write transaction; "committing" is the commit itself
# (the kill may land before or after it: either way the delivery is all or nothing).
KILL_POINTS = (("loading", 0.3), ("inserting", 0.0), ("committing", 0.0))


def test_killed_load_leaves_no_partial_delivery_and_the_rerun_finishes(sample_copy):
    wh, inbox = sample_copy.warehouse, sample_copy.inbox
    month = _next_month(inbox)
    big = _big_practices_file(inbox / f"practices_{month:%Y-%m}.parquet", month)
    small = inbox / f"staff_{month:%Y-%m}.parquet"
    con = duckdb.connect()
    try:
        last_staff = sorted(inbox.glob("staff_*.parquet"))[-1]
        con.sql("select * replace (?::date as month) from read_parquet(?)",
                params=[month, str(last_staff)]).write_parquet(str(small))
    finally:
        con.close()
    before = fingerprint(wh)
    ledger_rows = q(wh, "select count(*) from audit.load_ledger")[0][0]

    committed = False
    for marker, delay in KILL_POINTS:
        if committed:
            break
        proc = _start(["-v", "load"], _env(sample_copy))
        _kill_when(proc, lambda lines, m=marker: any(big.name in ln and m in ln for ln in lines), delay)
        assert consistency_problems(wh) == [], f"inconsistent after a kill at {marker!r}"
        committed = q(wh, "select count(*) from audit.load_ledger where file = ?", [big.name]) == [(1,)]
        if committed:
            # Only a kill during the commit may find it done; then it is done whole.
            assert marker == "committing"
            assert q(wh, "select count(*) from raw.practices where delivery_month = ?", [month]) == [(BIG_ROWS,)]
        else:
            assert q(wh, "select count(*) from raw.practices where delivery_month = ?", [month]) == [(0,)]
            assert fingerprint(wh) == before, f"a load killed at {marker!r} changed the warehouse"

    done = subprocess.run([PIRAMIDE, "load"], env=_env(sample_copy), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert consistency_problems(wh) == []
    staff_rows = q(wh, "select rows_read from audit.load_ledger where file = ?", [small.name])[0][0]
    new_rows = q(wh, "select file, outcome, rows_accepted from audit.load_ledger order by delivery_id")[ledger_rows:]
    assert new_rows == [(big.name, "loaded", BIG_ROWS), (small.name, "loaded", staff_rows)]
    assert q(wh, "select count(*) from audit.load_ledger")[0][0] == ledger_rows + 2
    assert q(wh, "select count(*) from raw.practices where delivery_month = ?", [month]) == [(BIG_ROWS,)]
    # A second rerun has nothing left to do.
    assert load_inbox(inbox) == []


def _int_owner(con) -> dict[tuple, tuple]:
    return {
        (s, p, m): (r, d, b)
        for s, p, m, r, d, b in con.execute(
            "select structure_code, product_code, month_start, received_pieces, defined_pieces, backlog_pieces "
            "from intermediate.int_production_owner_monthly"
        ).fetchall()
    }


def _scores(con) -> dict[tuple, tuple]:
    rows = con.execute("select * from marts.fct_kpi_scores").fetchall()
    cols = [d[0] for d in con.description]
    key = [cols.index(c) for c in ("period_end", "structure_code", "kpi_code")]
    return {tuple(r[i] for i in key): r for r in rows}


def _same(a, b) -> bool:
    """Equal, up to the last bits of a double: sums in another order differ by an ulp or two."""
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return a == b


def test_killed_dbt_build_is_recovered_and_the_restatement_reaches_the_marts(sample_copy, corpus):
    wh = sample_copy.warehouse
    restated = corpus["restatement_changes_values"]
    _, ym, _ = parse_file_name(restated.name)
    month = date(int(ym[:4]), int(ym[5:]), 1)
    with reading(wh) as con:
        owner_before, scores_before = _int_owner(con), _scores(con)
    # The practices the restatement reopens, with where and when the sample had them defined.
    reopened = duckdb.connect().execute(
        f"select practice_id, structure_code, product_code, date_trunc('month', defined_on)::date "  # noqa: S608
        f"from read_parquet(?) where practice_id in ({reopened_sql()})",
        [str(sample_copy.inbox / restated.name), str(sample_copy.inbox / restated.name),
         sorted(str(p) for p in sample_copy.inbox.glob("practices_*.parquet") if p.name > restated.name)],
    ).fetchall()
    assert len(reopened) == REOPENED

    res = load_file(restated)
    assert res.outcome == "restated"

    # Killed once a handful of models are rebuilt: some relations new, some old.
    select = ["dbt", "build", "--select", "stg_practices+"]
    proc = _start(select, _env(sample_copy))
    lines = _kill_when(proc, lambda lines: sum("OK created" in ln for ln in lines) >= 3, 0.5)
    assert consistency_problems(wh) == []
    with reading(wh) as con:
        leftovers = con.execute(
            "select schema_name || '.' || table_name from duckdb_tables() "
            "where table_name like '%__dbt_tmp' or table_name like '%__dbt_backup'"
        ).fetchall()
    rerun = subprocess.run([PIRAMIDE, *select], env=_env(sample_copy), capture_output=True, text=True, timeout=900)
    assert rerun.returncode == 0, "".join(lines[-20:]) + rerun.stdout[-4000:] + rerun.stderr[-2000:]
    assert consistency_problems(wh) == []

    with reading(wh) as con:
        assert con.execute(
            "select count(*) from duckdb_tables() where table_name like '%__dbt_tmp' or table_name like '%__dbt_backup'"
        ).fetchone()[0] == 0, f"dbt debris left after the rerun (after the kill: {leftovers})"
        # Staging reads only current deliveries, and the reopened practices' state is the restatement's.
        assert con.execute(
            "select count(*) from staging.stg_practices s left join audit.current_deliveries c using (delivery_id) "
            "where c.delivery_id is null"
        ).fetchone()[0] == 0
        ids = [r[0] for r in reopened]
        assert sorted(con.execute(
            "select practice_id, delivery_id, defined_on, outcome from staging.stg_practices "
            "where practice_id in (select unnest(?))", [ids]).fetchall()) == [(i, res.delivery_id, None, None)
                                                                              for i in sorted(ids)]
        owner_after, scores_after = _int_owner(con), _scores(con)

    # Exactly predicted: each reopened practice leaves the definitions of its definition month and stays
    # in the backlog from that month on; nothing else of the production counts moves.
    expected = {k: list(v) for k, v in owner_before.items()}
    for _, structure, product, defined_month in reopened:
        for (s, p, m), v in expected.items():
            if (s, p) == (structure, product) and m >= defined_month:
                v[2] += 1
                if m == defined_month:
                    v[1] -= 1
    assert owner_after == {k: tuple(v) for k, v in expected.items()}

    # The scores change, and only from the first affected month-end on ("as corrected").
    first_end = min(r[3] for r in reopened)
    changed = {
        k for k in scores_before.keys() | scores_after.keys()
        if k not in scores_before or k not in scores_after
        or not all(_same(x, y) for x, y in zip(scores_before[k], scores_after[k], strict=True))
    }
    assert changed, "the restatement did not reach the marts"
    assert min(k[0] for k in changed) >= first_end
    assert res.min_event_month <= min(month, first_end)
