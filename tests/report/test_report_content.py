"""The HTML report without a browser: sections, offline-ness, Italian numbers, values that match the marts."""

from __future__ import annotations

import re

import duckdb
import pytest

from orchestration.report import fmt
from orchestration.report.data import YEAR_KPIS

pytestmark = pytest.mark.slow


def _query(warehouse, sql, params=()):
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def test_italian_number_format():
    assert fmt.num(1234567.891) == "1.234.567,89"
    assert fmt.num(-1234.5, 1) == "-1.234,5"
    assert fmt.num(None) == "—"
    assert fmt.auto(172914262.456, "eur") == "172.914.262,46"
    assert fmt.auto(86.0, "pct") == "86,00 %"
    assert fmt.pct(0.0523, 1, signed=True) == "+5,2 %"
    assert fmt.compact(2_500_000_000) == "2,5 mld"
    assert fmt.compact(0) == "0"
    assert fmt.place_name("DCM NAPOLI") == "DCM Napoli"
    assert fmt.place_name("VALLE D'AOSTA") == "Valle d'Aosta"


def test_score_colour_is_diverging_around_target():
    assert fmt.score_colour(None) == fmt.NO_SCORE_COLOUR
    red, pale, green = fmt.score_colour(60), fmt.score_colour(100), fmt.score_colour(140)
    assert int(red[1:3], 16) > int(red[3:5], 16)  # more red than green below target
    assert int(green[3:5], 16) > int(green[1:3], 16)  # more green than red above
    assert pale not in (red, green)


def test_all_sections_present(sample_report):
    html = sample_report.html
    for anchor in ('id="pyramid"', 'id="regions"', 'id="year"', 'id="quality"', 'id="pyramid-graph"',
                   'id="node-details"', 'id="leaf-table"', 'id="regional-chart"', 'id="region-table"',
                   'id="region-select"', 'id="structure-table"', 'id="ledger-table"', 'id="quarantine-table"',
                   'id="dq-status-table"'):
        assert anchor in html, anchor
    for code in YEAR_KPIS:
        assert f'data-kpi="{code}"' in html, code
    for node in ("VPI", "SP", "PG", "PI", "OBJ_A", "OBJ_I", "PG_PROCESSI", "PG_UTENZA", "IMP_INSPECTION"):
        assert f'class="node" data-node="{node}"' in html or f'data-node="{node}"' in html, node
        assert f'data-detail="{node}"' in html, node
    # Italian with English alongside.
    assert "La piramide del valore pubblico" in html and "The public value pyramid" in html
    assert "Confronto territoriale" in html and "Regional comparison" in html


def test_self_contained_no_network(sample_report):
    html = sample_report.html
    assert "http://" not in html and "https://" not in html
    assert "<script src" not in html and 'rel="stylesheet"' not in html
    for ref in re.findall(r'\b(?:src|href)="([^"]*)"', html):
        assert ref.startswith("#") or ref.startswith("data:"), ref
    assert "@import" not in html and "url(" not in html
    assert html.count("<script>") == 1 and html.count("<style>") == 1


def test_numbers_in_italian_format(sample_report):
    text = re.sub(r"<(script|style)>.*?</\1>", "", sample_report.html, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", text)
    # Thousands with dots and decimals with a comma: present ...
    assert re.search(r"\b\d{1,3}(?:\.\d{3})+,\d{2}\b", text)
    # ... and no number written the English way (1,234.56 or 1,234,567).
    assert not re.search(r"\b\d{1,3}(?:,\d{3})+\.\d+\b", text)
    assert not re.search(r"\b\d{1,3},\d{3},\d{3}\b", text)


def test_known_values_from_the_marts(sample_report):
    period = sample_report.result.period
    wh = sample_report.warehouse
    vpi = _query(wh, "select score from marts.fct_value_pyramid where structure_code = 'nazionale' "
                     "and node_code = 'VPI' and strftime(period_end, '%Y-%m') = ?", [period])[0][0]
    assert vpi is not None
    assert f">{fmt.num(vpi, 1)}<" in sample_report.html  # headline chip and pyramid box
    assert f"score {fmt.num(vpi, 2)}" in sample_report.html  # detail panel
    ieep = _query(wh, "select actual_value from marts.fct_kpi_scores where structure_code = 'nazionale' "
                      "and kpi_code = 'IEEP.ENTRATE' and strftime(period_end, '%Y-%m') = ?", [period])[0][0]
    assert fmt.auto(ieep, "eur") in sample_report.html
    region, pg = _query(wh, "select p.structure_code, p.score from marts.fct_value_pyramid p "
                            "join marts.dim_structure s using (structure_code) where s.level = 'regional' "
                            "and p.node_code = 'PG' and strftime(p.period_end, '%Y-%m') = ? and p.score is not null "
                            "order by p.structure_code limit 1", [period])[0]
    row = re.search(rf'<tr data-region="{region}">(.*?)</tr>', sample_report.html, flags=re.S)
    assert row and fmt.num(pg, 2) in row.group(1)


def test_the_year_so_far_shows_where_each_chart_is_heading(sample_report):
    # The report's month is December: the projection is the year-end itself, at its own score.
    period = sample_report.result.period
    value, score = _query(sample_report.warehouse,
                          "select projected_year_end, projected_score from marts.fct_year_end_projection "
                          "where structure_code = 'nazionale' and kpi_code = 'SUSSIDIARIETA' "
                          "and strftime(period_end, '%Y-%m') = ?", [period])[0]
    html = sample_report.html
    card = html.split('data-kpi="SUSSIDIARIETA"', 1)[1].split("</figure>", 1)[0]
    assert "Year-end at the current pace" in card
    assert f"<strong>{fmt.auto(value, 'points')}</strong>" in card and f"<strong>{fmt.num(score, 2)}</strong>" in card
    assert html.count("Year-end at the current pace") >= 4


def test_every_national_leaf_has_a_row_with_its_details(sample_report):
    period = sample_report.result.period
    leaves = _query(sample_report.warehouse,
                    "select s.kpi_code, k.plan_line from marts.fct_kpi_scores s join marts.dim_kpi k "
                    "on k.node_code = s.kpi_code where s.structure_code = 'nazionale' "
                    "and s.node_kind in ('leaf', 'composite', 'reported') and strftime(s.period_end, '%Y-%m') = ?",
                    [period])
    assert len(leaves) > 50
    html = sample_report.html
    for code, plan_line in leaves:
        row = re.search(rf'<tr class="leaf[^"]*" data-code="{re.escape(code)}" data-path="([^"]*)">(.*?)</tr>',
                        html, flags=re.S)
        assert row, code
        assert row.group(1).split()[0] == "VPI" and row.group(1).split()[-1] == code
        if plan_line:
            assert f"L{plan_line}" in row.group(2), code
    # Parts of composites nest under them (IEEP's two sections, in euros).
    assert 'class="part" data-code="IEEP.ENTRATE"' in html


def test_every_leaf_and_part_row_shows_its_trace_command(sample_report):
    """Each row of the leaf table (leaves, composites, reported KPIs and their parts, e.g. the Customer Care
    channels and elementary parts) prints the command tracing it at its structure and month."""
    period = sample_report.result.period
    html = sample_report.html
    rows = re.findall(r'<tr class="(leaf[^"]*|part)" data-code="([^"]+)"[^>]*>(.*?)</tr>', html, flags=re.S)
    scored = {c for (c,) in _query(sample_report.warehouse,
                                   "select kpi_code from marts.fct_kpi_scores where structure_code = 'nazionale' "
                                   "and strftime(period_end, '%Y-%m') = ?", [period])}
    parts = [code for kind, code, _ in rows if kind == "part"]
    assert len(rows) > 50 and "CUSTOMER_CARE.AGENDA.FIRST_RESPONSE_DAYS" in parts, parts
    for _kind, code, body in rows:
        assert code in scored, code
        assert f"<code>piramide trace {code} --structure nazionale --period {period}</code>" in body, code


def test_regional_comparison_has_the_23_entities(sample_report):
    html = sample_report.html
    assert len(re.findall(r'<g class="region-row" data-region="[^"]+" data-score="[0-9.]+"', html)) == 23
    body = re.search(r'<table id="region-table".*?<tbody>(.*?)</tbody>', html, flags=re.S).group(1)
    assert body.count("<tr data-region=") == 23
    assert html.count('<option value="') == 23
    structures = re.search(r'<table id="structure-table".*?<tbody>(.*?)</tbody>', html, flags=re.S).group(1)
    assert structures.count("<tr data-region=") == 116


def _drop(con, schema: str, name: str) -> None:
    kind = con.execute(
        "select 'table' from duckdb_tables() where schema_name = ? and table_name = ? "
        "union all select 'view' from duckdb_views() where schema_name = ? and view_name = ?",
        [schema, name, schema, name],
    ).fetchone()
    if kind:
        con.execute(f'drop {kind[0]} "{schema}"."{name}"')


def test_report_degrades_then_shows_dq_results_and_period_status(sample_copy):
    """Without the data-quality tables the report says so; with them it shows the failed checks and the month."""
    from orchestration.report import build_report

    con = duckdb.connect(str(sample_copy.warehouse))
    try:
        _drop(con, "audit", "dq_results")
        _drop(con, "marts", "period_status")
    finally:
        con.close()
    res = build_report(out=sample_copy.tmp / "r1", warehouse=sample_copy.warehouse)
    html = res.path.read_text(encoding="utf-8")
    assert "audit.dq_results</code> non disponibile" in html
    assert "marts.period_status</code> non disponibile" in html
    con = duckdb.connect(str(sample_copy.warehouse))
    try:
        con.execute("create table audit.dq_results (run_id varchar, suite varchar, expectation varchar, "
                    "asset varchar, partition varchar, success boolean, unexpected_count bigint)")
        con.execute("insert into audit.dq_results values "
                    "('r1', 'raw_practices', 'expect_column_values_to_not_be_null', 'raw/practices', '2021-12', "
                    "false, 1234), ('r1', 'raw_staff', 'expect_x', 'raw/staff', '2021-12', true, 0)")
        con.execute("create table marts.period_status as select date '2021-12-31' as period_end, "
                    "'practices, staff' as families_delivered, 0 as rows_quarantined, 1.0 as vpi_coverage")
    finally:
        con.close()
    html = build_report(out=sample_copy.tmp / "r2", warehouse=sample_copy.warehouse).path.read_text(encoding="utf-8")
    assert 'id="dq-failed-table"' in html
    assert "expect_column_values_to_not_be_null" in html and "1.234" in html
    assert "<strong>1</strong> di 2 controlli falliti" in html
    assert "families_delivered" in html and "practices, staff" in html


def test_report_does_not_write_to_the_warehouse(sample_copy):
    from orchestration.report import build_report

    before = sample_copy.warehouse.read_bytes()
    build_report(out=sample_copy.tmp / "r", warehouse=sample_copy.warehouse)
    assert sample_copy.warehouse.read_bytes() == before
    assert not sample_copy.warehouse.with_suffix(".duckdb.wal").exists()


def test_cli_report_writes_period_and_latest(sample_copy, capsys):
    from orchestration.cli import main

    out = sample_copy.tmp / "cli_reports"
    assert main(["report", "--period", "2021-12", "--out", str(out)]) == 0
    assert (out / "report_2021-12.html").exists()
    assert (out / "report_latest.html").read_bytes() == (out / "report_2021-12.html").read_bytes()
    assert "report 2021-12" in capsys.readouterr().out
    # The default folder is the warehouse folder's reports/.
    assert main(["report"]) == 0
    assert (sample_copy.warehouse.parent / "reports" / "report_2021-12.html").exists()


def test_generation_is_fast(sample_report):
    assert sample_report.result.seconds < 10
