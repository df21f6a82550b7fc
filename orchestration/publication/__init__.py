"""Closing a month-end: append-only publications (`piramide publish`, `reopen`) and what moved since (`diff`)."""

from orchestration.publication.diff import Diff, diff, diff_rows, latest_publication
from orchestration.publication.publish import (
    Publication,
    PublicationError,
    PublicationRefused,
    completeness,
    history,
    publish,
    reopen,
)

__all__ = [
    "Diff",
    "Publication",
    "PublicationError",
    "PublicationRefused",
    "completeness",
    "diff",
    "diff_rows",
    "history",
    "latest_publication",
    "publish",
    "reopen",
]
