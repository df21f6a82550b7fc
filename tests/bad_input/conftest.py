"""Fixtures of the bad-input, crash-safety and personal-data tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bad_input.corpus import write_corpus


@pytest.fixture(scope="session")
def corpus(sample_build, tmp_path_factory) -> dict[str, Path]:
    """The corpus, written once per session (and per test worker) over the session's sample.

    `python -m tests.bad_input.corpus` writes the same files into tests/data/bad/ to look at by hand.
    """
    return write_corpus(sample_build.inbox, tmp_path_factory.mktemp("bad"))
