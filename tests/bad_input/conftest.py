"""Fixtures of the bad-input, crash-safety and personal-data tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bad_input.corpus import write_corpus

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def corpus(sample_build) -> dict[str, Path]:
    """The corpus, written into tests/data/bad/ (git-ignored) once per session, over the session's sample."""
    return write_corpus(sample_build.inbox, ROOT / "tests" / "data" / "bad")
