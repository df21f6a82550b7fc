"""`piramide trace`: every leaf's score accounted for by its extract rows or its components (issue 14)."""

from __future__ import annotations

import os
import time
from datetime import date

import duckdb
import pytest

from orchestration.cli import main
from orchestration.trace import components as comp
from orchestration.trace import leaf_gaps, open_warehouse, resolve, rows, zero_reference_drops
from orchestration.trace.target import warehouse_path

pytestmark = pytest.mark.slow

STRUCTURES = ("nazionale", "piemonte", "alessandria")
PERIODS = ("2021-06", "2021-12")


def close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 * max(abs(a), abs(b))


@pytest.mark.parametrize("structure", STRUCTURES)
@pytest.mark.parametrize("period", PERIODS)
def test_every_leaf_is_accounted_for_by_its_rows_or_components(sample_build, structure, period):
    con = open_warehouse(sample_build.warehouse)
    try:
        leaves = [r[0] for r in con.execute(
            "select kpi_code from marts.fct_kpi_scores where structure_code = ? and period_end = last_day(?::date) "
            "and node_kind in ('leaf', 'composite') order by kpi_code", [structure, f"{period}-01"]).fetchall()]
        by_rows = by_components = 0
        for node in leaves:
            t = resolve(con, node, structure, period)
            if comp.kind_of(con, t):
                value = comp.reproduce(con, t, comp.components(con, t))
                assert (value is None) == (t.actual is None), (node, value, t.actual)
                if value is not None:
                    assert close(value, t.actual), (node, value, t.actual)
                    by_components += 1
                continue
            totals = rows.side_totals(con, t)
            if t.actual is None:
                continue  # a leaf without an actual (gaps are listed by leaf_gaps)
            for side, marts in (("numerator", t.numerator), ("denominator", t.denominator)):
                if marts is None or marts == 0:
                    assert not totals.get(side), (node, side, totals, marts)
                else:
                    assert side in totals and close(totals[side], marts), (node, side, totals.get(side), marts)
            by_rows += 1
    finally:
        con.close()
    # The check is not vacuous: most leaves are checked row by row, the derived ones through components.
    assert by_rows >= {"nazionale": 20, "piemonte": 12}.get(structure, 5), by_rows
    assert by_components >= (5 if structure == "nazionale" else 1), by_components


def test_ig_total_trace_file_points_at_real_raw_rows(sample_build, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PIRAMIDE_WAREHOUSE", str(sample_build.warehouse))
    out = tmp_path / "t.parquet"
    assert main(["trace", "IG_TOTAL", "--structure", "nazionale", "--period", "2021-12", "--out", str(out)]) == 0
    con = duckdb.connect(str(sample_build.warehouse), read_only=True)
    try:
        n, matched, keyed, sides = con.execute(
            """
            select
                count(*),
                count(r._row),
                count(*) filter (where r.practice_id = t.business_key),
                count(distinct t.side)
            from read_parquet(?) as t
            left join raw.practices as r on t.delivery_id = r.delivery_id and t.file = r._file and t.row = r._row
            """,
            [str(out)],
        ).fetchone()
        assert n > 1000 and matched == n and keyed == n and sides == 2
        totals = dict(con.execute("select side, sum(contribution) from read_parquet(?) group by side",
                                  [str(out)]).fetchall())
        num, den = con.execute("select numerator, denominator from marts.fct_kpi_scores where kpi_code = 'IG_TOTAL' "
                               "and structure_code = 'nazionale' and period_end = date '2021-12-31'").fetchone()
    finally:
        con.close()
    assert close(totals["numerator"], num) and close(totals["denominator"], den)
    assert f"{n:,} rows of IG_TOTAL" in capsys.readouterr().out


def test_summary_prints_totals_beside_the_marts(sample_build, monkeypatch, capsys):
    monkeypatch.setenv("PIRAMIDE_WAREHOUSE", str(sample_build.warehouse))
    assert main(["trace", "PRODUCTIVITY", "--structure", "piemonte", "--period", "2021-06"]) == 0
    out = capsys.readouterr().out
    assert "numerator" in out and "denominator" in out and "per file:" in out and "per delivery:" in out
    assert "piramide trace PRODUCTIVITY --structure piemonte --period 2021-06 --out FILE.parquet" in out
    assert main(["trace", "QUALITY_PROD", "--structure", "nazionale", "--period", "2021-12"]) == 0
    assert "value from the components" in capsys.readouterr().out
    assert main(["trace", "NOPE", "--structure", "nazionale", "--period", "2021-12"]) == 2


def test_the_published_copy_is_read_when_at_least_as_new(tmp_path, monkeypatch):
    working = tmp_path / "piramide.duckdb"
    published = tmp_path / "published" / "piramide.duckdb"
    monkeypatch.setenv("PIRAMIDE_WAREHOUSE", str(working))
    working.write_bytes(b"")
    assert warehouse_path() == working  # no published copy yet
    published.parent.mkdir()
    published.write_bytes(b"")
    now = time.time()
    os.utime(working, (now, now))
    os.utime(published, (now - 60, now - 60))
    assert warehouse_path() == working  # the working file has changed since the last publication
    os.utime(published, (now, now))
    assert warehouse_path() == published


def test_gaps_list_missing_leaves_and_zero_references(sample_build):
    con = open_warehouse(sample_build.warehouse)
    try:
        dec = date(2021, 12, 31)
        gaps = leaf_gaps(con, dec)
        expected = dict(((k, s), n) for k, s, n in con.execute(
            "select kpi_code, dq_status, count(*) from marts.fct_kpi_scores where period_end = ? "
            "and node_kind = 'leaf' and actual_value is null group by all", [dec]).fetchall())
        assert {(g.kpi_code, g.dq_status): g.structures for g in gaps} == expected
        for g in gaps:
            assert g.trace.startswith(f"piramide trace {g.kpi_code} --structure ")
        # Recounted from the elementary values a year before (int_quality_values), not from the index table.
        recount = dict(con.execute(
            """
            select w.indicator, count(*)
            from intermediate.int_quality_values as v
            cross join reference.quality_weights as w
            inner join intermediate.int_quality_values as now_
                on v.structure_code = now_.structure_code and v.product_code = now_.product_code
                and now_.period_end = ?
            where v.period_end = last_day(?::date - interval 1 year)
                and case w.indicator
                    when 'share_within_standard' then v.share_within_standard
                    when 'avg_definition_days' then v.avg_definition_days
                    else v.backlog_over_standard_share end = 0
                and case w.indicator
                    when 'share_within_standard' then now_.share_within_standard
                    when 'avg_definition_days' then now_.avg_definition_days
                    else now_.backlog_over_standard_share end is not null
            group by all
            """,
            [dec, dec],
        ).fetchall())
        drops = {d.indicator: d.dropped for d in zero_reference_drops(con, dec)}
        assert drops == recount and sum(drops.values()) > 0
    finally:
        con.close()
