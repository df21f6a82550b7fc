"""The BI copy: published atomically, verified, and never seen half-written by a reader."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from orchestration import publish_bi
from orchestration.config import ROOT, settings
from orchestration.publish_bi import PublishError, connect_published, publish

ROWS = 50_000


def _seed_warehouse(path: Path, gen: int = 1) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    try:
        for schema in ("marts", "audit", "raw"):
            con.execute(f"create schema if not exists {schema}")
        con.execute("create or replace table audit.generation as select ?::int as gen", [gen])
        con.execute("create or replace table marts.state as select ?::int as gen, i from range(?) t(i)", [gen, ROWS])
        con.execute("create or replace table raw.rows as select i from range(1000) t(i)")
        con.execute("create or replace view marts.latest as select max(gen) as gen from marts.state")
    finally:
        con.close()


def test_publish_copies_verifies_and_swaps(env):
    _seed_warehouse(env.warehouse)
    result = publish()
    target = settings().published_warehouse
    assert result.path == target == env.warehouse.parent / "published" / env.warehouse.name
    assert not stat.S_IMODE(target.stat().st_mode) & 0o222, "the published copy must be read-only"
    assert not list(target.parent.glob(publish_bi.STAGING_PREFIX + "*")), "staging folder left behind"
    # What BI reads, not the extract rows: raw stays in the working file.
    assert result.tables == 2 and result.rows == 1 + ROWS
    con = connect_published()
    try:
        # Same file name, so the same catalogue name as the working warehouse.
        assert con.execute("select current_database()").fetchone()[0] == env.warehouse.stem
        assert con.execute("select gen from marts.latest").fetchone()[0] == 1
        assert con.execute("select count(*) from duckdb_tables() where schema_name = 'raw'").fetchone()[0] == 0
        with pytest.raises(duckdb.Error):
            con.execute("create table marts.x as select 1")
    finally:
        con.close()
    # The working file is free again (the publisher closed it).
    duckdb.connect(str(env.warehouse)).close()
    # Publishing again replaces the copy.
    _seed_warehouse(env.warehouse, gen=2)
    publish()
    con = connect_published()
    try:
        assert con.execute("select gen from audit.generation").fetchone()[0] == 2
    finally:
        con.close()


def test_a_bad_copy_keeps_the_previous_published_state(env, monkeypatch):
    _seed_warehouse(env.warehouse, gen=1)
    publish()
    _seed_warehouse(env.warehouse, gen=2)

    build = publish_bi._build_copy

    def torn_copy(con, tmp):
        skipped = build(con, tmp)
        data = tmp.read_bytes()
        tmp.write_bytes(data[: len(data) // 2])
        return skipped

    def spoilt_by(sql: str):
        """A copy built whole, then changed by `sql` before it is verified."""
        def spoilt_copy(con, tmp):
            skipped = build(con, tmp)
            bad = duckdb.connect(str(tmp))
            bad.execute(sql)
            bad.close()
            return skipped
        return spoilt_copy

    short_copy = spoilt_by("delete from marts.state where i = 7")
    uncommented_copy = spoilt_by("comment on column marts.state.gen is null")

    con = duckdb.connect(str(env.warehouse))
    con.execute("comment on column marts.state.gen is 'the generation'")
    con.close()
    for broken, message in ((torn_copy, "does not open"), (short_copy, "differs from the warehouse in marts.state"),
                            (uncommented_copy, r"differs from the warehouse in \(comments\)")):
        monkeypatch.setattr(publish_bi, "_build_copy", broken)
        with pytest.raises(PublishError, match=message):
            publish()
    con = connect_published()
    try:
        assert con.execute("select gen from audit.generation").fetchone()[0] == 1
    finally:
        con.close()
    assert not list(settings().published_warehouse.parent.glob(publish_bi.STAGING_PREFIX + "*"))


def test_the_copy_carries_the_published_schemas_tables_views_and_comments(env):
    """Only PUBLISHED_SCHEMAS and PUBLISHED_TABLES, with their DDL and DuckDB comments (BI tools' column help);
    a view reading what the copy does not carry is left out and named."""
    _seed_warehouse(env.warehouse)
    con = duckdb.connect(str(env.warehouse))
    try:
        con.execute("create schema intermediate")
        con.execute("create table intermediate.int_kpi_tree as select 'VPI' as node_code")
        con.execute("create table intermediate.int_practice_events as select i from range(10) t(i)")
        con.execute("create schema reference")
        con.execute("create table reference.kpi_nodes (node_code varchar primary key, weight double not null)")
        con.execute("insert into reference.kpi_nodes values ('VPI', 1.0), ('PG', 0.5)")
        con.execute("comment on table marts.state is 'one generation'")
        con.execute("comment on column marts.state.gen is 'the generation''s number'")
        con.execute("create view marts.raw_rows as select count(*) as n from raw.rows")
        con.execute("create view audit.latest_gen as select gen from audit.generation")
    finally:
        con.close()
    result = publish()
    assert result.unbound_views == ("marts.raw_rows",)
    assert result.tables == 4 and result.rows == 1 + ROWS + 1 + 2
    con = connect_published()
    try:
        tables = {r[0] for r in con.execute("select schema_name || '.' || table_name from duckdb_tables()").fetchall()}
        assert tables == {"audit.generation", "marts.state", "intermediate.int_kpi_tree", "reference.kpi_nodes"}
        views = {r[0] for r in con.execute(
            "select schema_name || '.' || view_name from duckdb_views() where not internal").fetchall()}
        assert views == {"marts.latest", "audit.latest_gen"}
        assert con.execute("select comment from duckdb_tables() where table_name = 'state'").fetchone()[0] == (
            "one generation")
        assert con.execute("select comment from duckdb_columns() where table_name = 'state' and column_name = 'gen'"
                           ).fetchone()[0] == "the generation's number"
        # The source's DDL, constraints included.
        cols = con.execute("select column_name, data_type, is_nullable from duckdb_columns() "
                           "where table_name = 'kpi_nodes' order by column_index").fetchall()
        assert cols == [("node_code", "VARCHAR", False), ("weight", "DOUBLE", False)]
        assert con.execute("select sum(weight) from reference.kpi_nodes").fetchone()[0] == 1.5
    finally:
        con.close()


def test_readers_open_the_copy_when_current_unless_they_need_extract_rows(env):
    from orchestration.warehouse.connection import reader_path

    working, published = settings().warehouse, settings().published_warehouse
    working.parent.mkdir(parents=True, exist_ok=True)
    working.write_bytes(b"")
    assert reader_path() == working  # no published copy yet
    published.parent.mkdir()
    published.write_bytes(b"")
    now = time.time()
    os.utime(working, (now, now))
    os.utime(published, (now - 60, now - 60))
    assert reader_path() == working  # the working file has changed since the last publication
    os.utime(published, (now, now))
    assert reader_path() == published
    assert reader_path(extract_rows=True) == working
    Path(f"{working}.wal").write_bytes(b"")
    os.utime(f"{working}.wal", (now + 5, now + 5))
    assert reader_path() == working  # committed to the WAL after the copy


def test_connect_published_retries_then_raises_a_clear_error(env):
    with pytest.raises(duckdb.IOException):
        connect_published(attempts=2, wait_seconds=0.05)


WRITER = """
import sys, duckdb
from orchestration.publish_bi import publish
wh, n, rows = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for gen in range(2, n + 2):
    con = duckdb.connect(wh)
    con.execute("begin transaction")
    con.execute("create or replace table marts.state as select ?::int as gen, i from range(?) t(i)", [gen, rows])
    con.execute("update audit.generation set gen = ?", [gen])
    con.execute("commit")
    con.close()
    publish()
    print(gen, flush=True)
"""


def read_state(path: Path) -> tuple[int, int, int, int]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        gen = con.execute("select gen from audit.generation").fetchone()[0]
        n, lo, hi = con.execute("select count(*), min(gen), max(gen) from marts.state").fetchone()
        return gen, n, lo, hi
    finally:
        con.close()


@pytest.mark.slow
def test_readers_see_whole_states_while_a_writer_publishes(env):
    """A writer process rewrites and republishes in a loop; every read is one complete generation."""
    _seed_warehouse(env.warehouse, gen=1)
    publish()
    target = settings().published_warehouse
    generations = 8
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(env.warehouse), str(generations), str(ROWS)],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )
    seen: list[int] = []
    retryable = 0
    try:
        while writer.poll() is None:
            try:
                gen, n, lo, hi = read_state(target)
            except duckdb.IOException:
                retryable += 1  # allowed: a clean, retryable error
                continue
            assert (n, lo, hi) == (ROWS, gen, gen), f"partial state: generation {gen} with {(n, lo, hi)}"
            seen.append(gen)
    finally:
        out, err = writer.communicate(timeout=120)
    assert writer.returncode == 0, err[-3000:]
    assert out.split() == [str(g) for g in range(2, generations + 2)]
    assert seen == sorted(seen), "a reader went back to an older state"
    assert len(set(seen)) >= 2, f"the reader never saw a swap ({len(seen)} reads)"
    assert read_state(target) == (generations + 1, ROWS, generations + 1, generations + 1)
    print(f"{len(seen)} consistent reads over {len(set(seen))} generations, {retryable} retryable errors")


@pytest.mark.slow
def test_bi_and_report_readers_read_the_copy_and_explain_the_working_file(sample_copy, capsys):
    """On a built warehouse the copy carries the marts, not the extract rows; the README's BI queries, the
    summary and the report read it; explain (lineage down to the files) reads the working file."""
    from orchestration.config import ROOT
    from orchestration.explain import explain
    from orchestration.report import build_report
    from orchestration.summary import print_summary
    from orchestration.warehouse.connection import reader_path

    result = publish()
    published = settings().published_warehouse
    assert reader_path() == published and reader_path(extract_rows=True) == sample_copy.warehouse
    assert result.unbound_views == ()
    assert result.size_bytes < sample_copy.warehouse.stat().st_size / 5
    con = connect_published()
    try:
        schemas = {r[0] for r in con.execute("select distinct schema_name from duckdb_tables()").fetchall()}
        assert schemas == {*publish_bi.PUBLISHED_SCHEMAS, "intermediate"}
        # The README's example queries that read the BI layer (the last one reads extract rows: working file).
        readme = (ROOT / "README.md").read_text(encoding="utf-8")
        block = readme.split("### Three example queries", 1)[1].split("```sql", 1)[1].split("```", 1)[0]
        statements = [s.strip() for s in block.split(";") if "select" in s]
        assert all(con.execute(s).fetchall() for s in statements[:3])
        assert con.execute("select count(*) from marts.fct_published_scores").fetchone()[0] == 0
    finally:
        con.close()
    print_summary("2021-12")
    from_copy = capsys.readouterr().out
    published.unlink()
    print_summary("2021-12")
    assert capsys.readouterr().out == from_copy
    publish()
    assert build_report("2021-12", out=sample_copy.tmp / "reports").size_bytes > 10_000
    assert explain("F.1", "nazionale", "2021-12") == 0
    out = capsys.readouterr().out
    assert "stg_revenue" in out and "revenue_2021-12.parquet" in out
