"""Small builders for hand-made extract files (test data only; tax codes are random at test time)."""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import numpy as np

from orchestration.contract import family
from orchestration.synthetic.practices import fake_tax_codes

_rng = np.random.default_rng(12345)


def tax_code() -> str:
    return str(fake_tax_codes(_rng, 1)[0])


def write_csv(path: Path, fam: str, rows: list[dict], columns: list[str] | None = None) -> Path:
    """Write rows as the contract's CSV; missing keys become empty cells."""
    cols = columns or list(family(fam).column_names)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=cols, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({c: ("" if r.get(c) is None else r.get(c)) for c in cols})
    return path


def practice(pid, received, product="NASPI", structure="alessandria", producer=None, defined=None,
             outcome=None, changed=None, **extra) -> dict:
    row = {
        "practice_id": pid,
        "structure_code": structure,
        "producing_structure_code": producer or structure,
        "product_code": product,
        "received_on": received,
        "entitlement_on": None,
        "defined_on": defined,
        "outcome": outcome if outcome else ("granted" if defined else None),
        "changed_on": changed or defined or received,
        "project_tag": None,
        "review_flag": "false",
        "applicant_tax_code": tax_code(),
    }
    row.update(extra)
    return row


def staff_row(structure, month, sub_area, role, fte, working_days=20, headcount=None) -> dict:
    return {
        "structure_code": structure,
        "month": month,
        "sub_area_code": sub_area,
        "role": role,
        "headcount": headcount if headcount is not None else max(1, int(round(fte))),
        "smart_workers": 0,
        "presence_days": fte * working_days,
        "smart_working_days": 0,
        "working_days": working_days,
    }


def query(path, sql, params=None) -> list[tuple]:
    """Rows of one query on a warehouse file, opened read-only and closed again."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def _set_env(values: dict[str, str | None]) -> None:
    for k, v in values.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@contextmanager
def scoped_env(**values: str | None) -> Iterator[None]:
    """Set (a value) or unset (None) these environment variables for the block, then put back what was there.

    For fixtures wider than a test, which cannot use monkeypatch.
    """
    old = {k: os.environ.get(k) for k in values}
    try:
        _set_env(values)
        yield
    finally:
        _set_env(old)
