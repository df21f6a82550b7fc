"""The repository cites only itself and the plan: no document that a fresh clone does not contain."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from orchestration.config import ROOT

# Built from parts so that this file does not match itself. The spec's name in any case (a test named after it
# cites it too); the other two in capitals only, since docs/landing_contract.md and docs/stack_notes.md are ours.
FORBIDDEN = re.compile(
    "|".join(
        [
            "(?i:kpi_" + "spec)",
            "LANDING_" + "CONTRACT",
            "STACK_" + "NOTES",
            r"\.\./" + "shared",
            "/work/" + "shared",
            # the spec's extraction notes, cited by file name
            "notes/"
            + "(?:2020-results|annex-tables|peer-gzoom|projects-and-pola|pyramid-and-strategic|territorial-kpis)",
        ]
    )
)
# CI's own script may set up the machine from the shared folder it runs beside.
ALLOWED = {".ci/run"}


def _repository_files() -> list[str]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: the tracked files are unknown")
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout
    return [p for p in out.decode().split("\0") if p and p not in ALLOWED and (ROOT / p).is_file()]


def outside_references(paths: list[str]) -> list[str]:
    hits = []
    for rel in paths:
        try:
            text = (ROOT / rel).read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue  # binary files (images) carry no citation
        for number, line in enumerate(text.splitlines(), start=1):
            if FORBIDDEN.search(line):
                hits.append(f"{rel}:{number}: {line.strip()[:100]}")
    return hits


def test_no_reference_to_documents_outside_the_repository():
    hits = outside_references(_repository_files())
    assert not hits, f"{len(hits)} reference(s) to documents outside the repository:\n" + "\n".join(hits)


def test_the_check_finds_a_planted_reference(tmp_path, monkeypatch):
    monkeypatch.setattr("tests.docs.test_no_outside_refs.ROOT", tmp_path)
    (tmp_path / "a.sql").write_text("select 1\n-- see " + "KPI_" + "SPEC 2.1\n")
    (tmp_path / "b.md").write_text("docs/decisions.md §4, docs/landing_contract.md and plan L4495\n")
    (tmp_path / "c.py").write_text("def test_worked_examples_of_kpi_" + "spec():\n    pass\n")
    assert outside_references(["a.sql", "b.md", "c.py"]) == [
        "a.sql:2: -- see " + "KPI_" + "SPEC 2.1",
        "c.py:1: def test_worked_examples_of_kpi_" + "spec():",
    ]
