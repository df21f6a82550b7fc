"""What is waiting in the inbox, and which month closes loading it will invalidate.

Read-only by construction: the warehouse is opened `read_only=True`, briefly, and closed before returning, so a
sensor tick never blocks the writer for longer than a few queries (docs/stack_notes.md §2). The loader decides
`min_event_month` when it loads; the sensor must request the run before that, so it predicts the same value
with the loader's own function (`ingest.event_months.min_event_month`) over the pending file and the current
deliveries. A file modified in the last few seconds may still be being written: it waits for a later tick.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb

from orchestration.contract import FAMILIES, Family, parse_file_name
from orchestration.defs.partitions import (
    add_months,
    clip_to_partitions,
    contiguous_ranges,
    invalidated_partitions,
    month_key,
    monthly_partitions,
    parse_month,
)
from orchestration.ingest.event_months import min_event_month, reported_ids_sql
from orchestration.ingest.files import file_checksum, inbox_files, settle_seconds, still_written
from orchestration.ingest.ledger import seen_files

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PendingFile:
    name: str
    checksum: str
    family: str | None  # None: the loader will reject the name
    month: str | None  # the delivery month from the name, 'YYYY-MM'
    restates: bool = False  # a current delivery exists for this family and month
    min_event_month: str | None = None  # predicted; the loader records the real one in the ledger


@dataclass(frozen=True)
class InboxPlan:
    files: tuple[PendingFile, ...]
    latest_month: str | None
    first_kpi_month: str | None
    partitions: tuple[str, ...]  # exactly the invalidated month closes, clipped to existing partitions
    months_with_data: tuple[str, ...] = ()  # delivery months in the ledger or pending, any family
    kpi_months: tuple[str, ...] = ()  # months with a practices delivery: the month-ends dbt computes
    checksums: dict[str, list] = field(default_factory=dict)  # name -> [size, mtime_ns, sha256] cache

    @property
    def extract_months(self) -> list[str]:
        return sorted({f.month for f in self.files if f.month})

    @property
    def run_partitions(self) -> list[str]:
        """The partitions a run must cover: the invalidated set, or for a load-only delivery (the opening
        file alone, a badly named file) the delivery months themselves, so the load still runs."""
        if self.partitions:
            return list(self.partitions)
        return clip_to_partitions(self.extract_months, monthly_partitions) or (
            [monthly_partitions.get_first_partition_key()] if self.files else []
        )

    @property
    def ranges(self) -> list[tuple[str, str]]:
        return contiguous_ranges(self.run_partitions)

    def delivery_key(self) -> str:
        """Stable id of this set of files (name and checksum): a sensor run key."""
        h = hashlib.sha256()
        for f in sorted(self.files, key=lambda f: f.name):
            h.update(f"{f.name}\0{f.checksum}\n".encode())
        return h.hexdigest()[:16]


# ------------------------------------------------------------------------------------------- checksums


def cached_checksum(path: Path, cache: dict[str, list]) -> str:
    """sha256 of the file, recomputed only when its size or mtime changed since the last tick.

    The inbox keeps every delivered file, so hashing all of them on every tick would read gigabytes at
    national scale; the cache lives in the sensor's cursor.
    """
    st = path.stat()
    hit = cache.get(path.name)
    if hit and hit[0] == st.st_size and hit[1] == st.st_mtime_ns:
        return hit[2]
    checksum = file_checksum(path)
    cache[path.name] = [st.st_size, st.st_mtime_ns, checksum]
    return checksum


# --------------------------------------------------------------------------------------------- the plan


def _table_exists(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from duckdb_tables() where schema_name = ? and table_name = ?", [schema, name]
        ).fetchone()[0]
        or con.execute(
            "select count(*) from duckdb_views() where schema_name = ? and view_name = ?", [schema, name]
        ).fetchone()[0]
    )


def _typed_file(con: duckdb.DuckDBPyConnection, table: str, path: Path, fam: Family) -> None:
    """The file as a temp table with the contract's types; a value that does not cast becomes NULL (the
    loader quarantines that row, so it has no event date either). Personal columns are never read."""
    reader = "read_parquet(?)" if path.suffix == ".parquet" else "read_csv(?, header = true, all_varchar = true)"
    header = [d[0] for d in con.execute(f"select * from {reader} limit 0", [str(path)]).description]  # noqa: S608
    have = {name.lstrip("\ufeff"): name for name in header}
    if fam.month_column and fam.month_column not in have:
        raise ValueError(f"missing column {fam.month_column}")
    cols = []
    for c in fam.columns:
        if c.name in have and not c.personal:
            src = '"' + have[c.name].replace('"', '""') + '"'
            cols.append(f"try_cast({src} as {c.sql_type}) as {c.name}")
    con.execute(f"create or replace temp table {table} as select {', '.join(cols)} from {reader}", [str(path)])  # noqa: S608


def _predict_min_event_month(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    fam: Family,
    month: date,
    superseded_id: int | None,
    earlier_pending: list[tuple[Path, date]],
    restated_months: set[date],
    has_warehouse: bool,
) -> date:
    """The loader's min_event_month for this file, had it been loaded after the pending files before it.

    The same function as the loader's; only the ids already reported differ: the current deliveries minus the
    months a pending file restates, plus the pending files of earlier months, exactly what the loader will see.
    """
    _typed_file(con, "_pending", path, fam)
    reported = None
    if fam.stateful and fam.key:
        key = fam.key[0]
        parts = [reported_ids_sql(fam, skip_months=True)] if has_warehouse else []
        for i, (p, _) in enumerate(earlier_pending):
            _typed_file(con, f"_earlier_{i}", p, fam)
            parts.append(f"select {key} as id from _earlier_{i}")  # noqa: S608
        reported = " union all ".join(parts) or "select id from candidates where false"
    try:
        return min_event_month(
            con, fam, month, "select * from _pending",
            superseded_sql=(f"select * from {fam.raw_table} where delivery_id = $sid"  # noqa: S608
                            if superseded_id is not None else None),
            reported_sql=reported,
            params={"sid": superseded_id, "skip": sorted(restated_months)},
        )
    finally:
        for i in range(len(earlier_pending)):
            con.execute(f"drop table if exists _earlier_{i}")
        con.execute("drop table if exists _pending")


def plan_inbox(inbox: Path, warehouse: Path, checksum_cache: dict[str, list] | None = None,
               settle: float | None = None) -> InboxPlan:
    """The files not yet in the ledger (by name and checksum) and the month closes they invalidate.

    A file modified within `settle` seconds (default PIRAMIDE_INBOX_SETTLE_SECONDS) may still be being written:
    it is left out of this plan and picked up by a later tick.
    """
    cache = dict(checksum_cache or {})
    inbox = Path(inbox)
    settle = settle_seconds() if settle is None else settle
    candidates = [p for p in inbox_files(inbox) if still_written(p, settle) is None] if inbox.is_dir() else []
    present = {p.name for p in candidates}
    cache = {k: v for k, v in cache.items() if k in present}

    has_warehouse = Path(warehouse).exists()
    con = duckdb.connect(str(warehouse), read_only=True) if has_warehouse else duckdb.connect()
    try:
        con.execute("set threads = 1")
        has_ledger = has_warehouse and _table_exists(con, "audit", "load_ledger")
        seen: set[tuple[str, str]] = set()
        current: dict[tuple[str, date], int] = {}
        if has_ledger:
            seen = seen_files(con)
            current = {
                (f, m): d
                for f, m, d in con.execute(
                    "select family, month, delivery_id from audit.current_deliveries"
                ).fetchall()
            }
        pending_paths = [p for p in candidates if (p.name, cached_checksum(p, cache)) not in seen]

        stateful = {n for n, f in FAMILIES.items() if f.stateful}
        delivered = [m for (f, m) in current if f in stateful]
        months_in_ledger = [m for (_, m) in current]

        files: list[PendingFile] = []
        restated: dict[str, set[date]] = {}
        earlier: dict[str, list[tuple[Path, date]]] = {}
        for p in pending_paths:
            checksum = cache[p.name][2]
            parsed = parse_file_name(p.name)
            if parsed is None or parsed[0] not in FAMILIES:
                files.append(PendingFile(p.name, checksum, None, None))
                continue
            fam_name, ym, _ = parsed
            fam = FAMILIES[fam_name]
            month = parse_month(ym)
            superseded = current.get((fam_name, month))
            first_delivery = not any(f == fam_name and m < month for (f, m) in current) and not any(
                m < month for _, m in earlier.get(fam_name, [])
            )
            if fam.stateful and first_delivery:
                mem = add_months(month, 1)  # the opening file: KPIs start the month after
            else:
                try:
                    before = [(q, m) for q, m in earlier.get(fam_name, []) if m < month]
                    mem = _predict_min_event_month(
                        con, p, fam, month, superseded, before, restated.get(fam_name, set()), has_ledger
                    )
                except (duckdb.Error, ValueError) as exc:
                    # The loader will reject it; rebuilding from its month is the safe side.
                    log.warning("cannot read %r ahead of the load (%s); assuming its own month", p.name, exc)
                    mem = month
            files.append(PendingFile(p.name, checksum, fam_name, ym, superseded is not None, month_key(mem)))
            earlier.setdefault(fam_name, []).append((p, month))
            if superseded is not None:
                restated.setdefault(fam_name, set()).add(month)
    finally:
        con.close()

    months = months_in_ledger + [parse_month(f.month) for f in files if f.month]
    latest = max(months) if months else None
    openings = delivered + [parse_month(f.month) for f in files if f.month and f.family in stateful]
    first_kpi = add_months(min(openings), 1) if openings else None
    keys: set[str] = set()
    if latest is not None:
        for f in files:
            if f.min_event_month:
                keys.update(invalidated_partitions(f.min_event_month, latest, first_kpi_month=first_kpi))
    return InboxPlan(
        files=tuple(files),
        latest_month=month_key(latest) if latest else None,
        first_kpi_month=month_key(first_kpi) if first_kpi else None,
        partitions=tuple(clip_to_partitions(keys, monthly_partitions)),
        months_with_data=tuple(sorted({month_key(m) for m in months})),
        kpi_months=tuple(sorted(
            {month_key(m) for (f, m) in current if f == "practices"}
            | {f.month for f in files if f.family == "practices" and f.month}
        )),
        checksums=cache,
    )


def data_months(inbox: Path, warehouse: Path) -> list[str]:
    """Delivery months in the inbox (by file name) or in the ledger: the span a full rebuild closes."""
    names = [f.name for f in inbox_files(Path(inbox))] if Path(inbox).is_dir() else []
    months = {parse_month(parsed[1]) for parsed in map(parse_file_name, names) if parsed}
    if Path(warehouse).exists():
        con = duckdb.connect(str(warehouse), read_only=True)
        try:
            if _table_exists(con, "audit", "load_ledger"):
                months |= {m for (m,) in con.execute("select distinct month from audit.current_deliveries").fetchall()}
        finally:
            con.close()
    return [month_key(m) for m in sorted(months)]
