"""The Dagster definitions as a committed snapshot: assets (keys, groups, deps, partitioning), jobs,
schedules and sensors. A renamed asset key or a moved dependency fails here.

Regenerate after an intended change: UPDATE_SNAPSHOT=1 .venv/bin/pytest tests/orchestration/test_definitions_snapshot.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import dagster as dg
import pytest

SNAPSHOT = Path(__file__).parent / "snapshots" / "definitions.json"
LAYER_GROUPS = {"raw", "reference", "staging", "intermediate", "marts", "publish"}


@pytest.fixture(scope="module")
def defs():
    from orchestration.definitions import defs

    return defs


def _partitions(pd) -> str | None:
    if pd is None:
        return None
    if isinstance(pd, dg.TimeWindowPartitionsDefinition):
        return f"{type(pd).__name__}(start={pd.get_first_partition_key()}, fmt={pd.fmt})"
    return type(pd).__name__


def describe(defs: dg.Definitions) -> dict:
    graph = defs.resolve_asset_graph()
    assets = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        assets[key.to_user_string()] = {
            "group": node.group_name,
            "deps": sorted(p.to_user_string() for p in node.parent_keys),
            "partitions": _partitions(node.partitions_def),
        }
    jobs = {}
    for job in defs.get_repository_def().get_all_jobs():
        if job.name.startswith("__"):
            continue  # Dagster's implicit asset job
        jobs[job.name] = {
            "partitions": _partitions(job.partitions_def),
            "executor": job.executor_def.name,
            "assets": len(job.asset_layer.executable_asset_keys) if job.asset_layer else 0,
        }
    schedules = {
        s.name: {
            "cron": s.cron_schedule,
            "timezone": s.execution_timezone,
            "job": s.job_name,
            "default_status": s.default_status.value,
        }
        for s in defs.get_repository_def().schedule_defs
    }
    sensors = {}
    for s in defs.get_repository_def().sensor_defs:
        sensors[s.name] = {
            "kind": type(s).__name__,
            "jobs": sorted(t.job_name for t in s.targets) if s.has_jobs else [],
            "default_status": s.default_status.value,
            "minimum_interval_seconds": s.minimum_interval_seconds,
        }
    return {"assets": assets, "jobs": jobs, "schedules": schedules, "sensors": sensors}


def test_definitions_match_the_snapshot(defs):
    current = describe(defs)
    text = json.dumps(current, indent=1, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_SNAPSHOT") == "1" or not SNAPSHOT.exists():
        SNAPSHOT.parent.mkdir(parents=True, exist_ok=True)
        SNAPSHOT.write_text(text)
        if os.environ.get("UPDATE_SNAPSHOT") != "1":
            pytest.fail(f"no snapshot yet: wrote {SNAPSHOT}; review and commit it")
        return
    expected = json.loads(SNAPSHOT.read_text())
    # Name the differences instead of dumping two large documents.
    for section in ("assets", "jobs", "schedules", "sensors"):
        want, got = expected[section], current[section]
        missing, extra = sorted(set(want) - set(got)), sorted(set(got) - set(want))
        changed = sorted(k for k in set(want) & set(got) if want[k] != got[k])
        assert not (missing or extra or changed), (
            f"{section} differ from {SNAPSHOT.name} (UPDATE_SNAPSHOT=1 to accept):\n"
            f"  missing: {missing}\n  new: {extra}\n"
            + "".join(f"  changed {k}: {want[k]} -> {got[k]}\n" for k in changed)
        )


def test_every_asset_has_a_description_and_a_layer_group(defs):
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert (node.description or "").strip(), f"{key.to_user_string()} has no description"
        assert node.group_name in LAYER_GROUPS, f"{key.to_user_string()} is in group {node.group_name!r}"


def test_automation_defaults_to_stopped(defs):
    # A `dagster dev` started for a look must never write the warehouse by itself.
    repo = defs.get_repository_def()
    for s in [*repo.schedule_defs, *repo.sensor_defs]:
        assert s.default_status == dg.DefaultSensorStatus.STOPPED or s.default_status.value == "STOPPED", s.name


def test_the_job_is_partitioned_and_ends_with_the_published_copy(defs):
    graph = defs.resolve_asset_graph()
    publish = dg.AssetKey("bi_published_copy")
    close = dg.AssetKey("month_close")
    assert close in graph.get(publish).parent_keys
    marts = {k for k in graph.get_all_asset_keys() if graph.get(k).group_name == "marts"}
    assert marts and marts <= set(graph.get(publish).parent_keys)
    assert not graph.get(publish).child_keys, "the published copy must be the last asset"
    job = defs.resolve_job_def("piramide_job")
    assert job.executor_def.name == "in_process"
    assert job.partitions_def is not None
