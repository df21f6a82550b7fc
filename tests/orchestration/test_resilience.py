"""Retries are for transient failures only: a held lock is retried, bad data and bugs fail at once."""

from __future__ import annotations

import subprocess
import sys

import dagster as dg
import duckdb
import pytest

from orchestration.defs.resilience import RETRY_POLICY, is_transient, probe_writer_lock, retry_only_transient


def test_a_lock_held_by_another_process_is_transient_and_reaches_the_retry_policy(tmp_path):
    wh = tmp_path / "piramide.duckdb"
    duckdb.connect(str(wh)).close()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('held', flush=True); "
         "sys.stdin.read()", str(wh)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(duckdb.IOException) as info:
            with retry_only_transient("probing"):
                probe_writer_lock(wh)
        assert is_transient(info.value)
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    probe_writer_lock(wh)  # free again


def test_other_errors_fail_without_retries():
    with pytest.raises(dg.Failure) as info:
        with retry_only_transient("loading"):
            raise ValueError("column practice_id missing")
    assert info.value.allow_retries is False
    assert "loading failed: ValueError: column practice_id missing" in info.value.description
    assert not is_transient(duckdb.CatalogException("Table with name x does not exist"))
    assert RETRY_POLICY.max_retries >= 1
