"""One report of the session's sample warehouse, shared by the content and browser tests."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def sample_report(sample_build, tmp_path_factory):
    from orchestration.report import build_report

    out = tmp_path_factory.mktemp("report")
    res = build_report(out=out, warehouse=sample_build.warehouse)
    return type("SampleReport", (), {"result": res, "html": res.path.read_text(encoding="utf-8"),
                                     "warehouse": sample_build.warehouse})
