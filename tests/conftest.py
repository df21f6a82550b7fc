"""Shared fixtures: an isolated environment per test, and one sample warehouse per session, copied per test."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from orchestration.config import dbt_env
from tests.helpers import scoped_env

SAMPLE_SCALE = 0.005
# dbt's partial-parse state of this test session (see run_dbt).
PARSE_STATE = Path(tempfile.mkdtemp(prefix="piramide_dbt_parse_")) / "partial_parse.msgpack"
# Tests write an extract and load it at once: no waiting for files that may still be being written (the
# settling itself is tested with its own value).
os.environ.setdefault("PIRAMIDE_INBOX_SETTLE_SECONDS", "0")


@pytest.fixture
def env(tmp_path, monkeypatch):
    """A private warehouse, inbox and Dagster home for one test."""
    wh = tmp_path / "wh" / "piramide.duckdb"
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    monkeypatch.setenv("PIRAMIDE_WAREHOUSE", str(wh))
    monkeypatch.setenv("PIRAMIDE_INBOX", str(inbox))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    (tmp_path / "dagster_home").mkdir()
    monkeypatch.setenv("PIRAMIDE_TEST_DBT_TARGET", str(tmp_path / "dbt_target"))
    monkeypatch.delenv("PIRAMIDE_TARGET_SCALE", raising=False)
    monkeypatch.delenv("PIRAMIDE_PSEUDONYM_KEY", raising=False)
    monkeypatch.delenv("PIRAMIDE_ENV", raising=False)
    return type("Env", (), {"warehouse": wh, "inbox": inbox, "tmp": tmp_path})


def run_dbt(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    from orchestration.warehouse import dbt

    # Tests never write the project's own target/ (Dagster reads its manifest from there).
    target = Path(os.environ.get("PIRAMIDE_TEST_DBT_TARGET") or tempfile.mkdtemp(prefix="dbt_target_"))
    env = dbt_env()
    env["DBT_TARGET_PATH"] = str(target)
    env["DBT_LOG_PATH"] = str(target)
    # dbt parses the project once per session: the warehouse is named relative to dbt's working folder, so the
    # profile (part of dbt's parse state) is the same for every test's warehouse, and each test's target starts
    # from the session's parse state. A full parse costs more than most tests' builds.
    warehouse = Path(env["PIRAMIDE_WAREHOUSE"])
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    env["PIRAMIDE_WAREHOUSE"] = warehouse.name
    state = target / PARSE_STATE.name
    if PARSE_STATE.exists() and not state.exists():
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(PARSE_STATE, state)
    proc = dbt.run_dbt(*args, env=env, cwd=warehouse.parent)
    if proc.returncode == 0 and state.exists() and not PARSE_STATE.exists():
        shutil.copyfile(state, PARSE_STATE)
    if check and proc.returncode != 0:
        raise AssertionError(f"dbt {' '.join(args)} failed:\n{proc.stdout[-6000:]}\n{proc.stderr[-2000:]}")
    return proc


@pytest.fixture(scope="session")
def sample_build(tmp_path_factory):
    """Generate a small sample, load it and build every dbt model once per session.

    Tests that change the warehouse take a copy (`sample_copy`), never this one.
    """
    from orchestration.ingest import load_inbox
    from orchestration.synthetic import generate

    base = tmp_path_factory.mktemp("sample")
    inbox = base / "inbox"
    wh = base / "wh" / "piramide.duckdb"
    with scoped_env(PIRAMIDE_WAREHOUSE=str(wh), PIRAMIDE_INBOX=str(inbox),
                    PIRAMIDE_TEST_DBT_TARGET=str(base / "dbt_target")):
        gen = generate(inbox, scale=SAMPLE_SCALE, seed=7)
        results = load_inbox(inbox)
        run_dbt("build")
    return type("Sample", (), {"warehouse": wh, "inbox": inbox, "generated": gen, "loads": results,
                               "scale": SAMPLE_SCALE})


@pytest.fixture
def sample_copy(sample_build, env):
    """A private copy of the session's sample warehouse and inbox."""
    env.warehouse.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(sample_build.warehouse, env.warehouse)
    shutil.rmtree(env.inbox)
    shutil.copytree(sample_build.inbox, env.inbox)
    return env
