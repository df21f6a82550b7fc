"""`piramide trace`: every leaf's score accounted for by its extract rows or its components (issue 14)."""

from __future__ import annotations

import os
import time
from datetime import date

import duckdb
import pytest

from orchestration.cli import main
from orchestration.trace import components as comp
from orchestration.trace import leaf_gaps, open_warehouse, products, resolve, rows, zero_reference_drops
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


@pytest.mark.parametrize("structure", STRUCTURES)
@pytest.mark.parametrize("period", PERIODS)
def test_customer_care_parts_are_accounted_for_by_contact_rows(sample_build, structure, period):
    """The 13 elementary Customer Care parts (4 channels x 3 + first response) sum contact by contact to the
    marts' numerator and denominator, and every line is a real row of raw.contacts."""
    con = open_warehouse(sample_build.warehouse)
    try:
        parts = [r[0] for r in con.execute(
            "select kpi_code from marts.fct_kpi_scores where structure_code = ? and period_end = last_day(?::date) "
            "and node_kind = 'part' and kpi_code like 'CUSTOMER_CARE.%' order by kpi_code",
            [structure, f"{period}-01"]).fetchall()]
        checked = 0
        for node in parts:
            t = resolve(con, node, structure, period)
            if comp.kind_of(con, t):
                continue  # a channel index: its components are the parts checked here
            totals = rows.side_totals(con, t)
            for side, marts in (("numerator", t.numerator), ("denominator", t.denominator)):
                if not marts:
                    assert not totals.get(side), (node, side, totals, marts)
                else:
                    assert side in totals and close(totals[side], marts), (node, side, totals.get(side), marts)
            checked += 1
        assert checked == 13, parts
        t = resolve(con, "CUSTOMER_CARE.LINEA_INPS.FIRST_RESPONSE_DAYS", structure, period)
        lines = rows.lines(con, t)  # noqa: F841 (read by the query below)
        n, matched = con.execute(
            """
            select count(*), count(r._row) filter (where r.contact_id = t.business_key)
            from lines as t
            left join raw.contacts as r on t.delivery_id = r.delivery_id and t.file = r._file and t.row = r._row
            """
        ).fetchone()
        assert n > 0 and matched == n
    finally:
        con.close()


@pytest.mark.parametrize(("structure", "period"), [("nazionale", "2021-12"), ("piemonte", "2021-06"),
                                                    ("alessandria", "2021-12")])
def test_quality_products_are_traced_to_their_practice_rows(sample_build, structure, period):
    """Every product listed under QUALITY_PROD: its practice lines sum exactly to the counts of its three
    elementary values (int_quality_values, computed from the practice cube), the values recomputed from those
    sums are the indicators' values, and the indicators' indices give the product's listed index."""
    con = open_warehouse(sample_build.warehouse)
    try:
        t = resolve(con, "QUALITY_PROD", structure, period)
        listed = con.execute("select product_code, idx_prev from intermediate.int_contrib_quality "
                             "where quantity_code = 'QUALITY_PROD' and structure_code = ? and period_end = ?",
                             [structure, t.period_end]).fetchall()
        totals = rows.product_totals(con, t)  # every product in one pass
        scale = {"share_within_standard": 100.0, "avg_definition_days": 1.0, "backlog_over_standard": 100.0}
        checked = 0
        for product, idx in listed:
            parts = products.indicators(con, t, product)
            # An indicator without a value at the month (e.g. no backlog) is not listed: nothing counts in it.
            assert {p.code for p in parts} <= set(scale), product
            for code in set(scale) - {p.code for p in parts}:
                assert not any(totals.get((product, f"QUALITY.{code}", side), (0, 0.0))[1]
                               for side in ("numerator", "denominator")), (product, code)
            for p in parts:
                for side, count in (("numerator", p.numerator), ("denominator", p.denominator)):
                    got = totals.get((product, f"QUALITY.{p.code}", side), (0, 0.0, None))[1]
                    assert got == (count or 0), (product, p.code, side, got, count)
                if p.denominator:
                    assert close(scale[p.code] * p.numerator / p.denominator, p.value), (product, p.code)
                    checked += 1
            index = products.product_index(parts)
            assert (index is None) == (idx is None) and (idx is None or close(index, idx)), (product, index, idx)
    finally:
        con.close()
    assert len(listed) >= 10 and checked >= 2 * len(listed), (len(listed), checked)


def test_trace_of_one_quality_product_from_the_cli(sample_build, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PIRAMIDE_WAREHOUSE", str(sample_build.warehouse))
    assert main(["trace", "QUALITY_PROD", "--structure", "piemonte", "--period", "2021-12"]) == 0
    out = capsys.readouterr().out
    command = next(line.split(": ", 1)[1].split(" (")[0] for line in out.splitlines() if "each in turn" in line)
    assert command.startswith("piramide trace QUALITY_PROD --structure piemonte --period 2021-12 --product ")
    product = command.rsplit(" ", 1)[1]
    assert main(command.split()[1:]) == 0
    out = capsys.readouterr().out
    assert "index from the indicators" in out and "a year before: piramide trace QUALITY_PROD" in out
    dest = tmp_path / "p.parquet"
    assert main([*command.split()[1:], "--out", str(dest)]) == 0
    con = duckdb.connect(str(sample_build.warehouse), read_only=True)
    try:
        n, matched, products_seen = con.execute(
            """
            select count(*), count(r._row) filter (where r.practice_id = t.business_key and r.product_code = ?),
                count(distinct t.attributes ->> 'product')
            from read_parquet(?) as t
            left join raw.practices as r on t.delivery_id = r.delivery_id and t.file = r._file and t.row = r._row
            """,
            [product, str(dest)],
        ).fetchone()
    finally:
        con.close()
    assert n > 0 and matched == n and products_seen == 1
    assert main(["trace", "IG_TOTAL", "--structure", "piemonte", "--period", "2021-12", "--product", product]) == 2


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


def test_the_trace_reads_the_working_file_even_beside_a_current_copy(tmp_path, monkeypatch):
    # The BI copy carries no extract rows (orchestration.publish_bi): the trace needs the working file.
    working = tmp_path / "piramide.duckdb"
    published = tmp_path / "published" / "piramide.duckdb"
    monkeypatch.setenv("PIRAMIDE_WAREHOUSE", str(working))
    working.write_bytes(b"")
    published.parent.mkdir()
    published.write_bytes(b"")
    now = time.time()
    os.utime(working, (now - 60, now - 60))
    os.utime(published, (now, now))
    assert warehouse_path() == working


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
