"""The BI copy: published atomically, verified, and never seen half-written by a reader."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
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
    assert result.tables == 3 and result.rows == 1 + ROWS + 1000
    con = connect_published()
    try:
        # Same file name, so the same catalogue name as the working warehouse.
        assert con.execute("select current_database()").fetchone()[0] == env.warehouse.stem
        assert con.execute("select gen from marts.latest").fetchone()[0] == 1
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

    def torn_copy(src, dst):
        data = Path(src).read_bytes()
        Path(dst).write_bytes(data[: len(data) // 2])

    monkeypatch.setattr(publish_bi.shutil, "copyfile", torn_copy)
    with pytest.raises(PublishError):
        publish()
    con = connect_published()
    try:
        assert con.execute("select gen from audit.generation").fetchone()[0] == 1
    finally:
        con.close()
    assert not list(settings().published_warehouse.parent.glob(publish_bi.STAGING_PREFIX + "*"))


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
