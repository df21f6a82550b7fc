"""The sample-data generator: deterministic bytes, and calibrated to the plan's national volumes."""

from __future__ import annotations

import hashlib
from datetime import date

import duckdb
import pytest

from orchestration.config import SEEDS_DIR
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


def test_the_plans_later_years_are_a_consistent_sample(tmp_path):
    """2022-2023 as data: no file past the last month, a survey wave a year, each project's 2022 and 2023 outputs
    up to its end date, and the followers growing by the plan's rule (+10 % on the previous year-end, L2674)."""
    fams = ("contacts", "survey", "milestones", "measures")
    generate(tmp_path, scale=0.0005, years=(2022, 2023), seed=5, families=fams)
    months = sorted({p.stem.split("_")[-1] for p in tmp_path.glob("*.parquet")})
    assert months[0] == "2021-12" and months[-1] == "2023-12"  # 2023 ends on a weekend: nothing spills into 2024
    con = duckdb.connect()
    con.execute(f"set file_search_path = '{tmp_path}'")
    assert con.execute("select list(distinct wave order by wave) from 'survey_*.parquet'").fetchone()[0] == [
        2021, 2022, 2023]
    # Year-end reports: every project still running in the year, none of those that ended in 2021.
    ends = dict(con.execute(
        "select distinct project_id, coalesce(nullif(project_end_date, ''), due_date)::date "
        "from read_csv(?, all_varchar = true)", [str(SEEDS_DIR / "project_leaf.csv")]).fetchall())
    for year in (2022, 2023):
        reported = {r[0] for r in con.execute(
            "select distinct project_id from read_parquet(?)", [f"milestones_{year}-12.parquet"]).fetchall()}
        assert reported == {p for p, end in ends.items() if end.year >= year}
        assert reported  # F.P2 and others are due 31.12.2022, B.P1 and others 31.12.2023
    dec = dict(con.execute("select year(period_end), value from 'measures_*.parquet' "
                           "where measure_code = 'SOCIAL_FOLLOWERS' and month(period_end) = 12").fetchall())
    # The 2023 year-end: 1.10 x the 2022 year-end, drawn within -3 % / +5 % and a little month-end noise.
    assert 1.10 * 0.96 < dec[2023] / dec[2022] < 1.10 * 1.06
