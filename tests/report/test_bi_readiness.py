"""BI readiness: every mart column documented (in dbt and as a DuckDB comment), exposures naming the report,
the Parquet export of the marts, and the dbt docs site."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
import yaml

from orchestration.config import DBT_PROJECT_DIR

MARTS_DIR = DBT_PROJECT_DIR / "models" / "marts"


def _marts_yml() -> dict[str, dict]:
    models = {}
    for path in sorted(MARTS_DIR.glob("*.yml")):
        for m in (yaml.safe_load(path.read_text()) or {}).get("models", []) or []:
            models[m["name"]] = m
    return models


def test_every_mart_model_and_column_has_a_description():
    models = _marts_yml()
    sql_models = {p.stem for p in MARTS_DIR.glob("*.sql")}
    assert sql_models <= set(models), f"marts without a yml entry: {sorted(sql_models - set(models))}"
    missing = [
        f"{name}.{c['name']}" for name, m in models.items() for c in m.get("columns", []) or []
        if not str(c.get("description") or "").strip()
    ]
    assert not missing, f"mart columns without a description: {missing}"
    assert all(str(m.get("description") or "").strip() for m in models.values())


def test_exposures_name_the_report_and_existing_marts():
    doc = yaml.safe_load((MARTS_DIR / "_exposures.yml").read_text())
    exposures = {e["name"]: e for e in doc["exposures"]}
    report = exposures["piramide_report"]
    assert report["type"] == "dashboard" and report["owner"]
    models = _marts_yml()
    for exp in exposures.values():
        for dep in exp["depends_on"]:
            if dep.startswith("source("):
                continue  # dbt itself fails the parse on an unknown source
            name = dep.removeprefix("ref('").removesuffix("')")
            assert name in models, f"exposure {exp['name']} depends on unknown model {dep}"
    assert "ref('fct_value_pyramid')" in report["depends_on"]


@pytest.mark.slow
def test_marts_columns_carry_duckdb_comments(sample_build):
    """persist_docs writes the yml descriptions as DuckDB comments, which BI tools show as column help."""
    con = duckdb.connect(str(sample_build.warehouse), read_only=True)
    try:
        rows = con.execute(
            "select table_name, column_name, comment from duckdb_columns() where schema_name = 'marts'"
        ).fetchall()
        tables = con.execute("select table_name, comment from duckdb_tables() where schema_name = 'marts'").fetchall()
    finally:
        con.close()
    assert rows and tables
    assert [f"{t}.{c}" for t, c, comment in rows if not comment] == []
    assert [t for t, comment in tables if not comment] == []
    yml = _marts_yml()
    for t, c, comment in rows:
        cols = {col["name"]: col for col in yml.get(t, {}).get("columns", []) or []}
        if c in cols:
            assert comment.strip() == str(cols[c]["description"]).strip(), f"{t}.{c}"


@pytest.mark.slow
def test_parquet_export_of_every_mart(sample_build, tmp_path):
    from orchestration.export import export_parquet

    out = tmp_path / "parquet"
    res = export_parquet(out=out, warehouse=sample_build.warehouse)
    manifest = json.loads((out / "manifest.json").read_text())
    con = duckdb.connect(str(sample_build.warehouse), read_only=True)
    try:
        marts = {r[0] for r in con.execute(
            "select table_name from duckdb_tables() where schema_name = 'marts' "
            "union all select view_name from duckdb_views() where schema_name = 'marts' and not internal"
        ).fetchall()}
        assert {t["table"] for t in manifest["tables"] + manifest["skipped"]} == {f"marts.{m}" for m in marts}
        assert all(s["kind"] == "view" for s in manifest["skipped"])
        for t in manifest["tables"]:
            name = t["table"].split(".", 1)[1]
            path = out / t["file"]
            n = con.execute(f'select count(*) from marts."{name}"').fetchone()[0]  # noqa: S608
            assert t["rows"] == n == con.execute("select count(*) from read_parquet(?)", [str(path)]).fetchone()[0]
            assert all(c["description"] for c in t["columns"]), name
    finally:
        con.close()
    assert res.folder == out and not list(tmp_path.glob(".parquet.*"))
    # A second export replaces the folder whole.
    export_parquet(out=out, warehouse=sample_build.warehouse)
    assert sorted(p.name for p in out.iterdir()) == sorted([*(t["file"] for t in manifest["tables"]), "manifest.json"])


@pytest.mark.slow
def test_dbt_docs_static_site(sample_copy):
    from orchestration.report.dbt_docs import generate_docs

    res = generate_docs(sample_copy.tmp / "dbt_docs")
    assert res.index.exists()
    html = res.index.read_text(encoding="utf-8")
    assert "piramide_report" in html  # the exposure
    catalog = json.loads((res.folder / "catalog.json").read_text())
    scores = next(v for k, v in catalog["nodes"].items() if k.endswith(".fct_kpi_scores"))
    assert scores["columns"]["score"]["comment"]
    assert Path(res.folder) == sample_copy.tmp / "dbt_docs"


@pytest.mark.slow
def test_readme_example_queries_run_and_reconcile(sample_build):
    """The README's three example queries return rows, and the lineage query sums to the leaf's actual."""
    from orchestration.config import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("### Three example queries", 1)[1].split("```sql", 1)[1].split("```", 1)[0]
    statements = [s.strip() for s in block.split(";") if "select" in s]
    assert len(statements) == 4
    con = duckdb.connect(str(sample_build.warehouse), read_only=True)
    try:
        results = [con.execute(s).fetchall() for s in statements]
    finally:
        con.close()
    assert all(results), [len(r) for r in results]
    vpi_trend, scorecard, leaf, files = results
    assert {r[0] for r in scorecard} >= {"PG", "PG_PROCESSI", "PG_FINANZA", "PG_UTENZA", "PG_SVILUPPO"}
    actual = leaf[0][5]
    assert abs(float(sum(r[4] for r in files)) - actual) < 0.01
