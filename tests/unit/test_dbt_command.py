"""The dbt command line: a full refresh runs its nodes one at a time unless told otherwise."""

from __future__ import annotations

from orchestration.warehouse.dbt import FULL_REFRESH_THREADS_ENV, project_args


def _threads(args: list[str]) -> str | None:
    return args[args.index("--threads") + 1] if "--threads" in args else None


def test_a_full_refresh_runs_one_node_at_a_time_and_a_monthly_build_keeps_the_profiles_threads(monkeypatch):
    monkeypatch.delenv(FULL_REFRESH_THREADS_ENV, raising=False)
    assert _threads(project_args(["build", "--full-refresh"])) == "1"
    assert _threads(project_args(["build"])) is None
    assert _threads(project_args(["build", "--full-refresh", "--threads", "4"])) == "4"
    assert project_args(["build", "--full-refresh", "--threads", "4"]).count("--threads") == 1
    monkeypatch.setenv(FULL_REFRESH_THREADS_ENV, "2")
    assert _threads(project_args(["run", "--full-refresh", "--select", "stg_practices"])) == "2"
