"""Deliveries that look valid but would lose data, and a warehouse two processes want at once (issue 16).

Each case goes through the command line, as an operator or a scheduler would, on a small hand-made warehouse,
and checks: nothing lost (the previous delivery current, raw unchanged), one clear line, a ledger row with the
rule id, no traceback, and the documented exit code (0 all in, 3 a rejection, 75 retry later).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import duckdb
import pytest

from orchestration.defs.inbox import plan_inbox
from orchestration.ingest import load_inbox
from orchestration.ingest.ledger import load_warnings
from orchestration.warehouse.connection import lock_holder
from tests.bad_input.state import current_deliveries, fingerprint, q, reading
from tests.helpers import practice, write_csv

PIRAMIDE = str(Path(sys.executable).parent / "piramide")
EXIT_REJECTED, EXIT_LATER = 3, 75


def piramide(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([PIRAMIDE, *args], env=dict(os.environ), capture_output=True, text=True, timeout=timeout)


def lines(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if ln.strip()]


def month_rows(ym: str, n: int, prefix: str = "P") -> list[dict]:
    return [practice(f"{prefix}{ym.replace('-', '')}{i:03d}", f"{ym}-{1 + i % 28:02d}") for i in range(n)]


def write_month(inbox: Path, ym: str, rows: list[dict], ext: str = "csv") -> Path:
    path = write_csv(inbox / f"practices_{ym}.csv", "practices", rows)
    if ext == "parquet":
        target = path.with_suffix(".parquet")
        con = duckdb.connect()
        con.read_csv(str(path), all_varchar=True).write_parquet(str(target))
        con.close()
        path.unlink()
        return target
    return path


@pytest.fixture
def january(env):
    """An opening file and a complete January of 40 practices, loaded."""
    write_month(env.inbox, "2020-12", [practice("P0", "2020-11-10", changed="2020-12-31")])
    write_month(env.inbox, "2021-01", month_rows("2021-01", 40))
    assert [r.outcome for r in load_inbox(env.inbox)] == ["loaded", "loaded"]
    return env


def _no_traceback(proc: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr


# ------------------------------------------------------------------------------- restatement volume gate


def test_a_truncated_restatement_is_rejected_and_the_complete_delivery_stays(january):
    env = january
    current, before = current_deliveries(env.warehouse), fingerprint(env.warehouse)
    jan_id = current[("practices", next(m for f, m in current if f == "practices" and m.month == 1))]
    # An export that stopped after 8 of its 40 rows: every row valid.
    path = write_month(env.inbox, "2021-01", month_rows("2021-01", 8))

    proc = piramide("load", "--file", str(path))
    assert proc.returncode == EXIT_REJECTED, proc.stdout + proc.stderr
    _no_traceback(proc)
    (line,) = lines(proc.stdout)
    assert line.startswith("[rejected ] 'practices_2021-01.csv' rejected [volume_drop]")
    assert "8 rows against 40 and 8 distinct practice_id against 40" in line
    assert f"delivery {jan_id} stays current" in line and "--accept-volume-drop --reason" in line
    (new_id, outcome, rule), = q(env.warehouse, "select delivery_id, outcome, rule_id from audit.load_ledger "
                                 "order by delivery_id desc limit 1")
    assert (outcome, rule) == ("rejected", "volume_drop")
    assert current_deliveries(env.warehouse) == current
    assert fingerprint(env.warehouse, without_delivery=new_id) == before
    assert q(env.warehouse, "select count(*) from raw.practices where delivery_id = ?", [jan_id]) == [(40,)]

    # Accepting needs a reason; with one, the restatement goes in and the ledger keeps why.
    assert piramide("load", "--file", str(path), "--accept-volume-drop").returncode == 2
    reason = "regional office closed 32 practices opened by mistake"
    proc = piramide("load", "--file", str(path), "--accept-volume-drop", "--reason", reason)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert lines(proc.stdout)[0].startswith("[restated ]")
    assert q(env.warehouse, "select outcome, warning, accepted_reason, rows_accepted from audit.load_ledger "
             "order by delivery_id desc limit 1") == [("restated", "volume_drop", reason, 8)]


def test_a_small_correction_of_a_tiny_delivery_is_not_a_volume_drop(january):
    env = january
    # 40 -> 35 rows: 12.5 % fewer, under the 20 % limit.
    path = write_month(env.inbox, "2021-01", month_rows("2021-01", 35))
    proc = piramide("load", "--file", str(path))
    assert proc.returncode == 0, proc.stdout
    assert lines(proc.stdout)[0].startswith("[restated ]")


def test_a_first_delivery_far_off_the_recent_months_loads_with_a_warning(env, monkeypatch):
    monkeypatch.setenv("PIRAMIDE_VOLUME_ANOMALY_MIN_ROWS", "5")
    write_month(env.inbox, "2020-12", [practice("P0", "2020-11-10", changed="2020-12-31")] * 1)
    for ym, n in (("2021-01", 10), ("2021-02", 12), ("2021-03", 10)):
        write_month(env.inbox, ym, month_rows(ym, n))
    load_inbox(env.inbox)
    write_month(env.inbox, "2021-04", month_rows("2021-04", 4))  # median 10: below half
    write_month(env.inbox, "2021-05", month_rows("2021-05", 11))  # ordinary
    april, may = load_inbox(env.inbox)
    assert (april.outcome, april.warning) == ("loaded", "volume_anomaly")
    assert "4 rows, against a median of 10 over the previous 3 months" in april.message
    assert (may.outcome, may.warning) == ("loaded", None)
    # The opening file (the whole stock, 1 row here) is not a month's flow: not in the median.
    assert q(env.warehouse, "select file, warning from audit.load_ledger where warning is not null") == [
        ("practices_2021-04.csv", "volume_anomaly")]
    # What the data-quality summary lists.
    with reading(env.warehouse) as con:
        (warning,) = load_warnings(con)
    assert warning[:4] == ("practices_2021-04.csv", "practices", date(2021, 4, 1), "volume_anomaly")


# ------------------------------------------------------------------------------------ ambiguous deliveries


def test_two_files_for_one_month_are_both_rejected_until_one_is_removed(january):
    env = january
    csv = write_month(env.inbox, "2021-02", month_rows("2021-02", 6))
    parquet = write_month(env.inbox, "2021-02", month_rows("2021-02", 3, prefix="Q"), ext="parquet")
    csv = write_month(env.inbox, "2021-02", month_rows("2021-02", 6))  # the parquet helper moved it
    before = fingerprint(env.warehouse)

    proc = piramide("load")
    assert proc.returncode == EXIT_REJECTED, proc.stdout + proc.stderr
    _no_traceback(proc)
    (line,) = lines(proc.stdout)
    assert "[ambiguous_delivery]" in line and repr(csv.name) in line and repr(parquet.name) in line
    assert "practices 2021-02" in line and "removed" in line
    rows = q(env.warehouse, "select file, outcome, rule_id from audit.load_ledger where month = date '2021-02-01'")
    assert sorted(rows) == [(csv.name, "rejected", "ambiguous_delivery"),
                            (parquet.name, "rejected", "ambiguous_delivery")]
    assert q(env.warehouse, "select count(*) from raw.practices where delivery_month = date '2021-02-01'") == [(0,)]
    ids = [d for (d,) in q(env.warehouse, "select delivery_id from audit.load_ledger where rule_id is not null")]
    assert all(fingerprint(env.warehouse, without_delivery=i)["raw.practices"] == before["raw.practices"]
               for i in ids)

    # Still both there: still rejected, still nothing lands. One removed: the other loads.
    assert piramide("load").returncode == EXIT_REJECTED
    parquet.unlink()
    proc = piramide("load")
    assert proc.returncode == 0, proc.stdout
    assert q(env.warehouse, "select count(*) from raw.practices where delivery_month = date '2021-02-01'") == [(6,)]


# ---------------------------------------------------------------------------------- files being written


def test_a_file_still_being_written_is_left_for_the_next_pass(january, monkeypatch):
    env = january
    monkeypatch.setenv("PIRAMIDE_INBOX_SETTLE_SECONDS", "30")
    path = write_month(env.inbox, "2021-02", month_rows("2021-02", 5))
    ledger_rows = q(env.warehouse, "select count(*) from audit.load_ledger")

    proc = piramide("load")
    assert proc.returncode == EXIT_LATER, proc.stdout + proc.stderr
    (line,) = lines(proc.stdout)
    assert line.startswith("[waiting  ] 'practices_2021-02.csv': modified") and "next pass" in line
    assert q(env.warehouse, "select count(*) from audit.load_ledger") == ledger_rows
    assert plan_inbox(env.inbox, env.warehouse).files == ()  # the sensor leaves it too

    old = time.time() - 60
    os.utime(path, (old, old))
    assert [f.name for f in plan_inbox(env.inbox, env.warehouse).files] == [path.name]
    proc = piramide("load")
    assert proc.returncode == 0 and lines(proc.stdout)[0].startswith("[loaded   ]"), proc.stdout


# ------------------------------------------------------------------------------------ a warehouse in use

HOLD = ("import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True); "
        "time.sleep(float(sys.argv[2]))")


def hold(warehouse: Path, seconds: float) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(warehouse), str(seconds)], stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


WRITERS = [
    ["load"],
    ["dbt", "build"],
    ["run"],
    ["publish", "--period", "2021-01"],
    ["reopen", "--period", "2021-01", "--reason", "test"],
    ["whatif", "--set", "PG_PROCESSI.weight=0.3"],
]


def test_every_writing_command_says_in_one_line_who_holds_the_warehouse(january):
    env = january
    holder = hold(env.warehouse, 120)
    try:
        for args in WRITERS:
            proc = piramide(*args)
            assert proc.returncode == EXIT_LATER, (args, proc.stdout, proc.stderr)
            _no_traceback(proc)
            (line,) = lines(proc.stderr)
            assert line.startswith(f"piramide {args[0]}: warehouse {env.warehouse} is in use by PID {holder.pid} ")
            assert "python -c import duckdb" in line and "--wait SECONDS" in line, line
    finally:
        holder.kill()
        holder.wait()


def test_wait_waits_for_the_lock(january):
    env = january
    write_month(env.inbox, "2021-02", month_rows("2021-02", 5))
    holder = hold(env.warehouse, 3)
    t0 = time.monotonic()
    proc = piramide("--wait", "30", "load")
    waited = time.monotonic() - t0
    holder.wait()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert lines(proc.stdout)[0].startswith("[loaded   ] 'practices_2021-02.csv'")
    assert waited >= 1.5  # it did wait (the holder let go after 3 s, counted from before the command started)
    # Too short a wait: the same one line, saying how long it waited.
    holder = hold(env.warehouse, 30)
    try:
        proc = piramide("--wait", "1", "load")
    finally:
        holder.kill()
        holder.wait()
    assert proc.returncode == EXIT_LATER and "after waiting 1 s" in proc.stderr, proc.stderr


def test_the_lock_message_is_parsed_from_duckdbs_error():
    text = ('IO Error: Could not set lock on file "/w/p.duckdb": Conflicting lock is held in '
            "/usr/bin/python3.11 (PID 4242). See also https://duckdb.org/docs/stable/connect/concurrency")
    assert lock_holder(text)[0] == 4242
    assert lock_holder("IO Error: Cannot open file: No such file") is None


def test_a_warehouse_from_before_the_new_ledger_columns_still_loads(january):
    env = january
    con = duckdb.connect(str(env.warehouse))
    for column in ("rule_id", "warning", "accepted_reason"):
        con.execute(f"alter table audit.load_ledger drop column {column}")
    con.close()
    write_month(env.inbox, "2021-02", month_rows("2021-02", 5))
    # The sensor reads it read-only, as it is; the load adds the columns (NULL on the earlier rows).
    assert [f.name for f in plan_inbox(env.inbox, env.warehouse).files] == ["practices_2021-02.csv"]
    (res,) = load_inbox(env.inbox)
    assert res.outcome == "loaded"
    assert q(env.warehouse, "select count(*), count(rule_id), count(warning) from audit.load_ledger") == [(3, 0, 0)]
