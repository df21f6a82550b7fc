"""The sample-data generator: deterministic bytes, and calibrated to the plan's national volumes."""

from __future__ import annotations

import hashlib
from datetime import date

import duckdb
import pytest

from orchestration.synthetic import generate


def digests(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    a = generate(tmp_path / "a", scale=0.001, seed=11, families=("practices", "staff"))
    b = generate(tmp_path / "b", scale=0.001, seed=11, families=("practices", "staff"))
    generate(tmp_path / "c", scale=0.001, seed=12, families=("practices", "staff"))
    assert a.rows == b.rows
    da, db, dc = digests(tmp_path / "a"), digests(tmp_path / "b"), digests(tmp_path / "c")
    assert da == db
    assert da.keys() == dc.keys() and da != dc
    # The opening month and every month of both years, one file per family and month.
    assert "practices_2019-12.parquet" in da and "staff_2021-12.parquet" in da
    assert sum(n.startswith("practices_") for n in da) == 25


def test_csv_on_request(tmp_path):
    res = generate(tmp_path, scale=0.0005, years=(2021,), seed=3, fmt="csv", families=("staff",))
    assert all(p.suffix == ".csv" for p in res.files) and len(res.files) == 12


@pytest.mark.slow
def test_calibrated_to_the_plans_national_volumes(sample_build):
    """At scale S: produzione lorda within 15 % of 23,291,060 x S; ratios near the plan's figures."""
    con = duckdb.connect(str(sample_build.warehouse), read_only=True)
    try:
        rows = dict(con.execute(
            "select kpi_code, actual_value from marts.fct_kpi_scores "
            "where structure_code = 'nazionale' and period_end = ?", [date(2021, 12, 31)]
        ).fetchall())
        practices_2021 = con.execute(
            "select count(*) from staging.stg_practices where year(received_on) = 2021"
        ).fetchone()[0]
    finally:
        con.close()
    s = sample_build.scale
    assert rows["PRODUZIONE_LORDA"] == pytest.approx(23_291_060 * s, rel=0.15)
    assert practices_2021 == pytest.approx(30_000_000 * s, rel=0.15)
    assert rows["PRODUCTIVITY"] == pytest.approx(124, rel=0.15)
    assert rows["OUTFLOW"] == pytest.approx(1.0, rel=0.10)
    for code, target in (("IG_PSI", 30), ("IG_GCAI", 128), ("IG_FLUSSI", 109), ("IG_ALTRE", 75)):
        assert rows[code] == pytest.approx(target, rel=0.25), code
    # Scores spread around 100 rather than all sitting at a cap.
    con = duckdb.connect(str(sample_build.warehouse), read_only=True)
    try:
        spread = con.execute(
            "select min(score), max(score), avg(score) from marts.fct_value_pyramid "
            "where node_code = 'PG' and period_end = ? and structure_code <> 'nazionale'", [date(2021, 12, 31)]
        ).fetchone()
    finally:
        con.close()
    assert spread[0] < 100 < spread[1] and 85 < spread[2] < 115
