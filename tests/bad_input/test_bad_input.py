"""The bad-input corpus: one test per kind of defect, asserting the loader's exact outcome.

Each test loads one corpus file into a copy of the session's sample warehouse and checks: the outcome and
rule; a message that names the file and the problem; the exact quarantine (row, column, rule); that the
ledger kept every earlier row and gained exactly one; that raw, quarantine and marts are unchanged apart
from the new delivery's own rows. The restatement's effect on the marts (through dbt) is asserted in
test_crash_safety.py, where the same file goes through a dbt build that is killed and rerun.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import pytest

from orchestration.contract import RULE_IDS, parse_file_name
from orchestration.ingest import load_file
from tests.bad_input.corpus import KINDS, REOPENED
from tests.bad_input.state import TAX_RE, q, snapshot

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def _expected_quarantine(kind, rows_read: int) -> set[tuple[int, str, str]]:
    exp = kind.expected.quarantine
    return set(exp(rows_read) if callable(exp) else exp)


@pytest.fixture(scope="session")
def before(sample_build) -> dict:
    """The sample's state, once: every test starts from a byte-identical copy of it."""
    return snapshot(sample_build.warehouse)


@pytest.mark.parametrize("kind", KINDS, ids=[k.name for k in KINDS])
def test_bad_input(kind, corpus, sample_copy, before, caplog):
    wh = sample_copy.warehouse
    path = corpus[kind.name]
    exp = kind.expected
    current_before = before["current"]

    with caplog.at_level(logging.INFO, logger="orchestration"):
        res = load_file(path)
    after = snapshot(wh, without_delivery=res.delivery_id)

    # Exactly one new ledger row, for this attempt; the earlier rows untouched.
    assert after["ledger"][:-1] == before["ledger"]
    new = after["ledger"][-1]
    assert (new[0], new[1], new[9], new[10]) == (res.delivery_id, path.name, res.outcome, res.message)
    assert res.outcome == exp.outcome, res.message
    # Everything loaded before is unchanged: raw, quarantine, ledger and marts, less this delivery's rows.
    assert after["fingerprint"] == before["fingerprint"]
    assert after["problems"] == []

    # The message names the file (escaped, so a hostile name cannot forge log lines) and the problem.
    assert res.message.startswith(repr(path.name))
    assert "\n" not in res.message
    assert not TAX_RE.search(res.message) and not TAX_RE.search(caplog.text)

    if exp.outcome in ("rejected", "unchanged"):
        if exp.outcome == "rejected":
            assert res.rule == exp.rule and exp.rule in RULE_IDS
            assert f"rejected [{exp.rule}]" in res.message
        else:
            assert "identical to delivery" in res.message
        for fragment in exp.says:
            assert fragment in res.message
        # Nothing of the attempt stays, and the same deliveries are current.
        assert after["current"] == current_before
        assert q(wh, "select count(*) from audit.quarantine where delivery_id = ?", [res.delivery_id]) == [(0,)]
    else:
        fam, ym, _ = parse_file_name(path.name)
        quarantined = q(
            wh,
            "select row_number, column_name, rule_id from audit.quarantine where delivery_id = ?",
            [res.delivery_id],
        )
        assert len(quarantined) == len(set(quarantined)), "a finding is listed twice"
        expected = _expected_quarantine(kind, res.rows_read)
        assert set(quarantined) == expected
        if exp.rows_read is not None:
            assert res.rows_read == exp.rows_read
        bad_rows = {r for r, _, _ in expected}
        assert (res.rows_accepted, res.rows_rejected) == (res.rows_read - len(bad_rows), len(bad_rows))
        landed = {r for (r,) in q(wh, f"select _row from raw.{fam} where delivery_id = ?", [res.delivery_id])}  # noqa: S608
        assert landed == set(range(1, res.rows_read + 1)) - bad_rows
        # The new delivery is current for its family and month, and nothing else moved.
        month = date(int(ym[:4]), int(ym[5:]), 1)
        assert after["current"][(fam, month)] == res.delivery_id
        assert {k: v for k, v in after["current"].items() if k != (fam, month)} == {
            k: v for k, v in current_before.items() if k != (fam, month)
        }
        if exp.outcome == "restated":
            previous = current_before[(fam, month)]
            assert f"supersedes delivery {previous}" in res.message
            assert q(wh, "select is_current, superseded_by from audit.deliveries where delivery_id = ?",
                     [previous]) == [(False, res.delivery_id)]
        else:
            assert (fam, month) not in current_before
    CHECKS.get(kind.name, lambda *a: None)(wh, res, path)


# ----------------------------------------------------------------------------- what some kinds add


def _bom(wh, res, path):
    # The mark did not end up in the first column's name or value.
    ids = {r[0] for r in q(wh, "select practice_id from raw.practices where delivery_id = ?", [res.delivery_id])}
    assert ids == {"BAD0001", "BAD0002", "BAD0003", "BAD0004"}


def _comment_like(wh, res, path):
    assert q(wh, "select count(*) from raw.practices where practice_id = '#BAD-0002'") == [(1,)]


def _sql_in_values(wh, res, path):
    hostile = "O'Brien\"); drop table raw.practices; --"
    assert q(wh, "select count(*) from raw.practices where practice_id = ?", [hostile]) == [(1,)]
    assert q(wh, "select value from audit.quarantine where delivery_id = ? order by row_number",
             [res.delivery_id]) == [("'; drop table raw.practices; --",), ("NASPI' or '1'='1",)]


def _tax_code_in_text(wh, res, path):
    (value,) = q(wh, "select value from audit.quarantine where delivery_id = ?", [res.delivery_id])[0]
    assert "<tax code>" in value and not TAX_RE.search(value)


def _null_required(wh, res, path):
    values = dict(q(wh, "select column_name, value from audit.quarantine where delivery_id = ?", [res.delivery_id]))
    assert values == {"product_code": None, "applicant_tax_code": None}


def _shell_name(wh, res, path):
    # The name was never given to a shell.
    assert not any(p.name == "pwned" for d in (Path.cwd(), path.parent, wh.parent) for p in d.iterdir())


def _identical(wh, res, path):
    assert q(wh, "select count(*) from audit.load_ledger where checksum = ?", [new_checksum(wh, res)]) == [(2,)]


def new_checksum(wh, res):
    return q(wh, "select checksum from audit.load_ledger where delivery_id = ?", [res.delivery_id])[0][0]


def reference_min_event_month(wh, family: str, delivery_id: int, superseded_id: int, month: date) -> date:
    """The contract's definition of min_event_month, written plainly (the loader's is optimised)."""
    sql = """
        with prev as (
            select distinct r.practice_id as id from raw.practices r
            join audit.current_deliveries c on c.delivery_id = r.delivery_id
            where r.delivery_month < $month and r.delivery_id <> $did
        )
        select min(least(coalesce(defined_on, changed_on),
                          case when prev.id is null then received_on else changed_on end))
        from raw.practices v left join prev on prev.id = v.practice_id
        where v.delivery_id in ($did, $sid)
    """
    m = q(wh, sql, {"month": month, "did": delivery_id, "sid": superseded_id})[0][0]
    return date(m.year, m.month, 1)


def _restated_values(wh, res, path):
    fam, ym, _ = parse_file_name(path.name)
    month = date(int(ym[:4]), int(ym[5:]), 1)
    previous = q(wh, "select superseded_by is not null, delivery_id from audit.deliveries "
                     "where family = 'practices' and month = ? and outcome in ('loaded', 'restated') "
                     "order by delivery_id", [month])
    old_id = previous[-2][1]
    # The superseded rows stay in raw; the reopened practices are open in the new delivery.
    assert q(wh, "select count(*) from raw.practices where delivery_id = ?", [old_id]) == [(res.rows_read,)]
    changed = q(wh, """
        select n.practice_id from raw.practices n join raw.practices o using (practice_id)
        where n.delivery_id = ? and o.delivery_id = ?
          and (n.defined_on is distinct from o.defined_on or n.outcome is distinct from o.outcome)""",
                [res.delivery_id, old_id])
    assert len(changed) == REOPENED
    assert res.min_event_month == reference_min_event_month(wh, fam, res.delivery_id, old_id, month)


CHECKS = {
    "bom": _bom,
    "comment_like_row": _comment_like,
    "sql_in_values": _sql_in_values,
    "tax_code_in_free_text": _tax_code_in_text,
    "null_required": _null_required,
    "shell_characters_in_name": _shell_name,
    "identical_redelivery": _identical,
    "restatement_changes_values": _restated_values,
}


def test_the_corpus_has_at_least_25_kinds_and_the_docs_list_them():
    assert len(KINDS) >= 25
    doc = (ROOT / "docs" / "bad_input.md").read_text()
    rows = {}
    for line in doc.splitlines():
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0] in {k.name for k in KINDS}:
            rows[cells[0]] = cells
    for k in KINDS:
        assert k.name in rows, f"docs/bad_input.md does not list {k.name}"
        outcome, rule = rows[k.name][2], rows[k.name][3]
        assert outcome.startswith(k.expected.outcome), (k.name, outcome)
        quarantine = k.expected.quarantine
        row_rules = {"unknown_code"} if callable(quarantine) else {r for _, _, r in quarantine}
        expected_rules = {k.expected.rule} if k.expected.rule else row_rules
        assert {r.strip(" `") for r in rule.split(",")} - {"", "-", "—"} == expected_rules, (k.name, rule)
