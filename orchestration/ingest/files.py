"""The inbox's files: their names (family and month), checksums, load order, and whether one is still growing."""

from __future__ import annotations

import hashlib
import os
import time
from datetime import date
from pathlib import Path

from orchestration.contract import FAMILIES, parse_file_name
from orchestration.contract.families import LOOSE_FILE_NAME_RE, WINDOW_START
from orchestration.ingest.messages import LOOSE_NAME_HINT, FileRejected, excerpt
from orchestration.warehouse.vocabulary import parse_month

# A file modified this recently may still be being written: it is left for the next pass.
SETTLE_ENV = "PIRAMIDE_INBOX_SETTLE_SECONDS"
DEFAULT_SETTLE_SECONDS = 5.0


def file_checksum(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def settle_seconds() -> float:
    return float(os.environ.get(SETTLE_ENV) or DEFAULT_SETTLE_SECONDS)


def still_written(path: Path, settle: float | None = None) -> float | None:
    """Seconds since the file last changed, when that is under the settle time; None when it is settled.

    Every write moves the modification time, so a file whose mtime is within `settle` seconds of now may be
    an export still in progress (copied, or written in place instead of under a temporary name and renamed).
    """
    settle = settle_seconds() if settle is None else settle
    if settle <= 0:
        return None
    try:
        st = path.stat()
    except OSError:
        return None
    age = time.time() - st.st_mtime
    return max(age, 0.0) if age < settle else None


def inbox_files(inbox: Path) -> list[Path]:
    """Files in load order: by month, the opening month first, then by family name."""
    files = [p for p in inbox.iterdir() if p.is_file() and not p.name.startswith(".")]

    def order(p: Path):
        parsed = parse_file_name(p.name)
        return (parsed[1], parsed[0]) if parsed else ("9999", p.name)

    return sorted(files, key=order)


def family_month(name: str) -> tuple[str, date] | None:
    """(family, month) a well-formed name delivers, or None."""
    parsed = parse_file_name(name)
    if parsed is None or parsed[0] not in FAMILIES:
        return None
    try:
        return parsed[0], parse_month(parsed[1])
    except ValueError:
        return None


def parse_name(name: str) -> tuple[str, date, str]:
    """(family, month, extension) of a file name, or FileRejected with the naming rule it breaks."""
    parsed = parse_file_name(name)
    if parsed is None:
        loose = LOOSE_FILE_NAME_RE.fullmatch(name)
        if loose and loose.group("family") not in FAMILIES:
            raise FileRejected("unknown_family", f"unknown extract family {excerpt(loose.group('family'))}; "
                               "known: " + ", ".join(FAMILIES))
        raise FileRejected("bad_file_name", LOOSE_NAME_HINT)
    fam_name, ym, ext = parsed
    if fam_name not in FAMILIES:
        raise FileRejected("unknown_family", f"unknown extract family {fam_name!r}; known: " + ", ".join(FAMILIES))
    y, m = ym.split("-")
    month = date(int(y), int(m), 1)
    today = date.today()
    if month < WINDOW_START or month > date(today.year, today.month, 1):
        raise FileRejected("month_window", f"the file's month {ym} is outside {WINDOW_START:%Y-%m} .. this month")
    return fam_name, month, ext
