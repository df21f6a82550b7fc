"""The year-end projection: a year-to-date leaf at its current pace, recomputed here from the seeds' profiles and
annual targets and the marts' actuals, and shown in the report."""

from __future__ import annotations

import csv

import duckdb
import pytest

from orchestration.config import seeds_dir

pytestmark = pytest.mark.slow


def _seed(name: str) -> list[dict]:
    with (seeds_dir() / f"{name}.csv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _score(value: float, target: float, polarity: int = 1, cap_high: float = 0.5) -> float:
    return 100 * (1 + min(cap_high, max(-0.5, polarity * (value - target) / abs(target))))


@pytest.mark.parametrize(("kpi", "month"), [("SUSSIDIARIETA", 9), ("PRODUCTIVITY", 3), ("PRODUZIONE_LORDA", 6)])
def test_projection_is_the_actual_over_the_profile_share_scored_on_the_annual_target(sample_build, kpi, month):
    share = next(float(r["share"]) for r in _seed("target_profiles") if r["node_code"] == kpi
                 and int(r["month"]) == month)
    annual = next(float(r["target_value"]) for r in _seed("kpi_targets") if r["node_code"] == kpi
                  and r["structure_code"] == "nazionale" and r["year"] == "2021")
    node = next(r for r in _seed("kpi_nodes") if r["node_code"] == kpi)
    kind = node["kind"]
    if node["period_basis"] == "ytd_flow" and kind != "composite":
        annual *= sample_build.scale  # extensive targets follow the sample's scale
    con = duckdb.connect(str(sample_build.warehouse), read_only=True)
    try:
        (actual,) = con.execute(
            "select actual_value from marts.fct_kpi_scores where kpi_code = ? and structure_code = 'nazionale' "
            "and period_end = last_day(make_date(2021, ?, 1))", [kpi, month]).fetchone()
        value, target, score = con.execute(
            "select projected_year_end, annual_target, projected_score from marts.fct_year_end_projection "
            "where kpi_code = ? and structure_code = 'nazionale' and period_end = last_day(make_date(2021, ?, 1))",
            [kpi, month]).fetchone()
    finally:
        con.close()
    assert value == pytest.approx(actual / share, rel=1e-12)
    assert target == pytest.approx(annual, rel=1e-12)
    if kind == "reported":
        assert score is None
    else:
        assert score == pytest.approx(_score(actual / share, annual), rel=1e-12)


def test_in_december_the_projection_is_the_year_end_itself(sample_build):
    con = duckdb.connect(str(sample_build.warehouse), read_only=True)
    try:
        rows, off = con.execute(
            """select count(*), count(*) filter (where abs(p.projected_score - s.score) > 1e-9
                                                  or abs(p.projected_year_end - s.actual_value) > 1e-9)
               from marts.fct_year_end_projection as p
               join marts.fct_kpi_scores as s using (period_end, structure_code, kpi_code)
               where p.period_end = date '2021-12-31' and s.score is not null""").fetchone()
    finally:
        con.close()
    assert rows > 100 and off == 0
