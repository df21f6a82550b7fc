"""What a rejection says: the rule id, and a message that never quotes a tax code or a control character."""

from __future__ import annotations

import re

from orchestration.contract.families import TAX_CODE_MASK, TAX_CODE_PATTERN

LOOSE_NAME_HINT = "expected <family>_<YYYY-MM>.<parquet|csv>"
TAX_CODE_RE = re.compile(TAX_CODE_PATTERN)
# Longest excerpt of anything read from a file (a header, a DuckDB message) that a message may quote.
_EXCERPT = 120


class FileRejected(Exception):
    def __init__(self, rule: str, message: str, rows_read: int = 0):
        super().__init__(message)
        self.rule = rule
        self.rows_read = rows_read


def redact(text: str) -> str:
    """Mask anything shaped like a tax code: messages quote headers and DuckDB errors, which quote the file."""
    return TAX_CODE_RE.sub(TAX_CODE_MASK, text)


def display_name(name: str) -> str:
    # Hostile names (control characters, shell metacharacters) are shown escaped, never interpreted.
    return redact(repr(name))


def excerpt(text: str) -> str:
    text = redact(text)
    return repr(text[:_EXCERPT] + ("…" if len(text) > _EXCERPT else ""))
