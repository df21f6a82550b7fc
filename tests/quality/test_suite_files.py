"""The JSON suites in expectations/ are the code's suites, written out for reading and review."""

from __future__ import annotations

import json

from orchestration.config import EXPECTATIONS_DIR


def test_expectation_files_match_the_code(tmp_path):
    from orchestration.quality.suites import suite_catalog, write_json

    written = write_json(tmp_path)
    assert sorted(p.stem for p in written) == sorted(name for name, _, _ in suite_catalog())
    for p in written:
        committed = EXPECTATIONS_DIR / p.name
        assert committed.exists(), f"{p.name} missing: run python -m orchestration.quality.suites --write"
        assert json.loads(committed.read_text()) == json.loads(p.read_text()), (
            f"{p.name} is stale: run python -m orchestration.quality.suites --write")
