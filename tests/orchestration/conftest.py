"""Hand-made inboxes for the orchestration tests: a few practices a month, so every date is known exactly."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import practice, write_csv


def month_rows(ym: str, late: list[dict] | None = None, defined_day: int = 20) -> list[dict]:
    """Two practices received in month `ym`: one defined within the month, one still open."""
    y, m = ym.split("-")
    rows = [
        practice(f"P{y}{m}A", f"{ym}-03", defined=f"{ym}-{defined_day:02d}", changed=f"{ym}-{defined_day:02d}"),
        practice(f"P{y}{m}B", f"{ym}-10", changed=f"{ym}-10"),
    ]
    return rows + (late or [])


def opening_rows() -> list[dict]:
    """The opening file: open practices at the end of December 2020, changed_on its last day."""
    return [
        practice("P0OLD", "2020-06-15", changed="2020-12-31"),
        practice("P0DEC", "2020-12-05", changed="2020-12-31"),
    ]


def write_month(inbox: Path, ym: str, rows: list[dict]) -> Path:
    return write_csv(inbox / f"practices_{ym}.csv", "practices", rows)


@pytest.fixture
def first_half_2021(env):
    """A warehouse with the opening month 2020-12 and 2021-01..2021-06 loaded (practices only)."""
    from orchestration.ingest import load_inbox

    write_month(env.inbox, "2020-12", opening_rows())
    for m in range(1, 7):
        write_month(env.inbox, f"2021-{m:02d}", month_rows(f"2021-{m:02d}"))
    results = load_inbox(env.inbox)
    assert [r.outcome for r in results] == ["loaded"] * 7, [r.message for r in results]
    return env
