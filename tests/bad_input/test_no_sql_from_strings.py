"""No SQL from strings: hostile file names, folders and values are rejected or quarantined cleanly.

File names, codes and values never become SQL text: identifiers come from the contract (validated), values
and paths are bound parameters. These tests feed what would break (or exploit) string-built SQL or a shell,
and check that the attempt has exactly its ledger row and that nothing else changed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestration.ingest import load_file, load_inbox
from orchestration.ingest.identifiers import ident, literal
from tests.bad_input.state import current_deliveries, fingerprint, ledger, q
from tests.helpers import practice, write_csv

HOSTILE_NAMES = [
    "'; drop table raw.practices; --_2021-01.csv",
    "practices_2021-01.csv'; drop table raw.practices; --",
    'practices_2021-01.csv"; drop table audit.load_ledger; --',
    "$(rm -rf ~)_2021-01.csv",
    "`touch pwned`_2021-01.csv",
    "practices_2021-01.csv; touch pwned",
    "practices_2021-01.csv\n",  # `$` in a regular expression would let this one through
    "practices_2021-01.csv\nstaff_2021-01.csv",
    "..\\..\\practices_2021-01.csv",
    "..",
    "practices_2021‐01.csv",  # a Unicode hyphen
    "practices_2021-01 .csv",
]

HOSTILE_FOLDERS = ["'; drop table raw.practices; --", "$(touch pwned)", 'a"b\\c', "..%2f..", "new\nline"]


def _opening(env) -> None:
    write_csv(env.inbox / "practices_2020-12.csv", "practices",
              [practice("P1", "2020-11-10", changed="2020-12-31"), practice("P2", "2020-12-01", changed="2020-12-31")])
    (res,) = load_inbox(env.inbox)
    assert res.outcome == "loaded"


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=[repr(n) for n in HOSTILE_NAMES])
def test_hostile_file_names_are_rejected_and_change_nothing(env, name):
    _opening(env)
    before, ledger_before = fingerprint(env.warehouse), ledger(env.warehouse)
    folder = env.tmp / "hostile"
    folder.mkdir()
    if name == "..":
        path = folder / "sub" / ".."  # a directory, not a file
        (folder / "sub").mkdir()
    else:
        path = write_csv(folder / name, "practices", [practice("P9", "2021-01-05")])
    res = load_file(path)
    assert res.outcome == "rejected" and res.rule in ("bad_file_name", "unknown_family", "unreadable"), res.message
    assert res.message.startswith(repr(path.name)) and "\n" not in res.message
    after = fingerprint(env.warehouse, without_delivery=res.delivery_id)
    assert {k: v for k, v in after.items() if k != "audit.load_ledger"} == {
        k: v for k, v in before.items() if k != "audit.load_ledger"
    }
    assert ledger(env.warehouse)[:-1] == ledger_before
    assert q(env.warehouse, "select file from audit.load_ledger where delivery_id = ?", [res.delivery_id]) == [
        (path.name,)
    ]
    assert not any(p.name == "pwned" for d in (Path.cwd(), folder, env.tmp) for p in d.iterdir())


@pytest.mark.parametrize("folder", HOSTILE_FOLDERS, ids=[repr(f) for f in HOSTILE_FOLDERS])
def test_a_hostile_folder_does_not_matter(env, folder):
    """The path reaches DuckDB's reader as a bound parameter: a valid file in any folder loads normally."""
    _opening(env)
    path = write_csv(env.tmp / folder / "practices_2021-01.csv", "practices", [practice("P9", "2021-01-05")])
    res = load_file(path)
    assert (res.outcome, res.rows_accepted, res.file) == ("loaded", 1, "practices_2021-01.csv"), res.message
    assert q(env.warehouse, "select practice_id, _file from raw.practices where delivery_id = ?",
             [res.delivery_id]) == [("P9", "practices_2021-01.csv")]
    assert not any(p.name == "pwned" for d in (Path.cwd(), env.tmp) for p in d.iterdir())


HOSTILE_VALUES = {
    "practice_id": "x'); drop table raw.practices; --",
    "structure_code": "alessandria' or 'a'='a",
    "producing_structure_code": "alessandria\"; drop table audit.load_ledger; --",
    "product_code": "NASPI' union select * from audit.load_ledger --",
    "outcome": "granted'--",
    "project_tag": "A'); delete from raw.practices; --",
    "received_on": "2021-01-05'; drop table raw.practices; --",
    "review_flag": "true; drop table raw.practices",
}


def test_hostile_values_are_data_never_sql(env):
    _opening(env)
    before = fingerprint(env.warehouse)
    tables = before["tables"]
    rows = []
    for i, (column, value) in enumerate(HOSTILE_VALUES.items()):
        row = practice(f"H{i}", "2021-01-05", defined="2021-01-06" if column == "outcome" else None)
        row[column] = value
        rows.append(row)
    rows.append(practice("H-ok", "2021-01-07"))
    res = load_file(write_csv(env.inbox / "practices_2021-01.csv", "practices", rows))
    assert res.outcome == "loaded", res.message
    quarantined = q(env.warehouse, "select row_number, column_name, rule_id, value from audit.quarantine "
                                   "where delivery_id = ? order by row_number", [res.delivery_id])
    assert quarantined == [
        (2, "structure_code", "unknown_code", HOSTILE_VALUES["structure_code"]),
        (3, "producing_structure_code", "unknown_code", HOSTILE_VALUES["producing_structure_code"]),
        (4, "product_code", "unknown_code", HOSTILE_VALUES["product_code"]),
        (5, "outcome", "unknown_code", HOSTILE_VALUES["outcome"]),
        (6, "project_tag", "unknown_code", HOSTILE_VALUES["project_tag"]),
        (7, "received_on", "type", HOSTILE_VALUES["received_on"]),
        (8, "review_flag", "type", HOSTILE_VALUES["review_flag"]),
    ]
    # An id is just a string: stored verbatim, and every table is still there with its earlier rows.
    assert q(env.warehouse, "select practice_id from raw.practices where delivery_id = ? order by _row",
             [res.delivery_id]) == [(HOSTILE_VALUES["practice_id"],), ("H-ok",)]
    after = fingerprint(env.warehouse, without_delivery=res.delivery_id)
    assert after["tables"] == tables
    assert {k: v for k, v in after.items() if k != "audit.load_ledger"} == {
        k: v for k, v in before.items() if k != "audit.load_ledger"
    }
    assert len(current_deliveries(env.warehouse)) == 2


@pytest.mark.parametrize("text", ["practices; drop", "raw.practices", "Practice_ID", "a b", "x'y", "", "1abc"])
def test_only_contract_identifiers_reach_sql(text):
    with pytest.raises(ValueError):
        ident(text)


@pytest.mark.parametrize("text", ["x'y", "a b", "", "A.PT1", "--", "a\\"])
def test_only_plain_constants_become_literals(text):
    with pytest.raises(ValueError):
        literal(text)
