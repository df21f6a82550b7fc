"""One pass over the inbox: what is new, what is still being written, what is ambiguous, and loading the rest.

A file whose name and checksum the ledger has decided on is skipped. Two new files that deliver the same family
and month (`practices_2021-03.csv` and `practices_2021-03.parquet`) are both rejected with one message naming
both: loading them in turn would make each a restatement of the other, and the month would end with whichever
came last. Neither is "seen" afterwards, so once one is removed the other loads on the next pass.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import duckdb

from orchestration.config import settings
from orchestration.contract import parse_file_name
from orchestration.ingest import ledger
from orchestration.ingest.files import family_month, file_checksum, inbox_files, still_written
from orchestration.ingest.ledger import LoadResult
from orchestration.ingest.load import load_one, prepare, reject
from orchestration.warehouse.connection import connect

log = logging.getLogger(__name__)

AMBIGUOUS = "ambiguous_delivery"


def waiting(path: Path, age: float | None) -> LoadResult:
    parsed = family_month(path.name)
    why = (f"modified {age:.0f} s ago, may still be being written" if age is not None
           else "another file of the same family and month is still being written")
    message = f"{path.name!r}: {why}; left for the next pass (write to a temporary name, then rename)"
    return LoadResult(None, path.name, parsed[0] if parsed else None, parsed[1] if parsed else None, "waiting",
                      message=message)


def load_files(paths: list[Path], con: duckdb.DuckDBPyConnection | None = None,
               families: tuple[str, ...] | None = None, settle: float = 0.0,
               accept_volume_drop: str | None = None, skip_seen: bool = True,
               on_file: Callable[[int, int], None] | None = None) -> list[LoadResult]:
    """Load these files in order, skipping those the ledger has seen; `families` limits well-named files.

    `on_file(done, total)` is called after each new file, for a progress line.

    `settle` > 0: a file modified within that many seconds is not loaded (outcome `waiting`, no ledger row).
    `skip_seen=False` (files named by the operator): a file the ledger has seen is attempted again (an
    identical current delivery is then `unchanged`; a rejected restatement can be accepted).
    """
    own = con is None
    con = con or connect()
    results: list[LoadResult] = []
    try:
        prepare(con)
        seen = ledger.seen_files(con) if skip_seen else set()
        new: list[tuple[Path, str | None]] = []
        for p in paths:
            parsed = parse_file_name(p.name)
            if families is not None and (parsed is None or parsed[0] not in families):
                continue
            checksum = file_checksum(p) if p.is_file() else None
            if (p.name, checksum) in seen:
                continue
            # A growing file has a new checksum on every look: only its age tells it apart.
            new.append((p, None if still_written(p, settle) is not None else checksum))
        groups: dict[tuple, list[tuple[Path, str | None]]] = defaultdict(list)
        for p, checksum in new:
            groups[family_month(p.name) or ("", p.name)].append((p, checksum))
        for p, checksum in new:
            group = groups[family_month(p.name) or ("", p.name)]
            if checksum is None and p.is_file():
                results.append(waiting(p, still_written(p, settle) or 0.0))
            elif len(group) > 1:
                if all(c is not None for _, c in group):
                    results.append(_ambiguous(con, p, checksum, group))
                else:  # another file of the same family and month is still being written: decide together
                    results.append(waiting(p, None))
            else:
                results.append(load_one(con, p, checksum, accept_volume_drop=accept_volume_drop))
            if on_file is not None:
                on_file(len(results), len(new))
    finally:
        if own:
            con.close()
    return results


def _ambiguous(con: duckdb.DuckDBPyConnection, path: Path, checksum: str,
               group: list[tuple[Path, str | None]]) -> LoadResult:
    fam, month = family_month(path.name)
    names = " and ".join(repr(q.name) for q, _ in group)
    message = (f"ambiguous delivery [{AMBIGUOUS}]: {names} both deliver {fam} {month:%Y-%m}; neither is loaded "
               "until one of them is removed from the inbox")
    return reject(con, path.name, fam, month, checksum, AMBIGUOUS, message)


def load_inbox(inbox: Path | None = None, con: duckdb.DuckDBPyConnection | None = None,
               families: tuple[str, ...] | None = None, settle: float = 0.0,
               on_file: Callable[[int, int], None] | None = None) -> list[LoadResult]:
    """Load what is new in the inbox: a file whose name and checksum the ledger has seen is skipped."""
    inbox = Path(inbox or settings().inbox)
    return load_files(inbox_files(inbox), con, families, settle=settle, on_file=on_file)
