"""Validate one extract file against the contract and land it in raw, as one transaction.

Every load appends exactly one ledger row (loaded, restated, unchanged or rejected) and never changes an
earlier one. The work is done by DuckDB: statements are built from contract identifiers only (checked by
`identifiers.ident`), and every value that comes from outside the code (file path, month, key, codes) is a
bound parameter.

Crash safety: the raw rows, the quarantine rows and the ledger row of a delivery are written in one
transaction, so a load killed at any point leaves either all of them or none. A delivery_id taken from the
sequence by a load that never committed is simply never used (ids may have gaps); after a crash DuckDB may
hand the same number out again, which is harmless because nothing committed carries it. The rerun finds no
ledger row for the file and loads it again: recovery is the ordinary load.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import duckdb

from orchestration.config import pseudonym_key, settings
from orchestration.contract import FAMILIES, Family
from orchestration.contract.families import WINDOW_START
from orchestration.ingest import gates, ledger
from orchestration.ingest.event_months import min_event_month
from orchestration.ingest.files import file_checksum, parse_name
from orchestration.ingest.landing import (
    Delivery,
    drop_temps,
    land_accepted,
    land_file,
    lands_directly,
    quarantine,
    read_into_t,
)
from orchestration.ingest.ledger import LoadResult
from orchestration.ingest.messages import FileRejected, display_name, redact
from orchestration.ingest.reading import check_columns, describe
from orchestration.ingest.reference import register_reference
from orchestration.ingest.rules import compile_rules
from orchestration.ingest.schema import ensure_schema
from orchestration.ingest.validation import build_lookups, find_violations, month_mismatch
from orchestration.warehouse.connection import connect
from orchestration.warehouse.vocabulary import add_months

log = logging.getLogger(__name__)

ACCEPT_HINT = "piramide load --file {file} --accept-volume-drop --reason TEXT"


def ensure_reference(con: duckdb.DuckDBPyConnection) -> None:
    """The code lists, read from the seeds once per connection (a temp table outlives the file transactions)."""
    exists = con.execute(
        "select count(*) from duckdb_tables() where temporary and table_name = 'ref_codes'"
    ).fetchone()[0]
    if not exists:
        register_reference(con)


def prepare(con: duckdb.DuckDBPyConnection) -> None:
    """What every load on this connection needs: the schemas and the code lists."""
    ensure_schema(con)
    ensure_reference(con)


def load_file(path: Path | str, con: duckdb.DuckDBPyConnection | None = None,
              accept_volume_drop: str | None = None) -> LoadResult:
    """Load one file. Opens (and closes) the warehouse unless a connection is given.

    `accept_volume_drop`: the operator's reason for loading a restatement the volume gate would reject.
    """
    path = Path(path)
    own = con is None
    con = con or connect()
    try:
        prepare(con)
        return load_one(con, path, accept_volume_drop=accept_volume_drop)
    finally:
        if own:
            con.close()


def reject(con: duckdb.DuckDBPyConnection, name: str, family: str | None, month: date | None,
           checksum: str | None, rule: str, message: str, rows_read: int = 0,
           delivery_id: int | None = None) -> LoadResult:
    """A rejection as its own committed ledger row (nothing of the file lands)."""
    con.execute("begin transaction")
    if delivery_id is None:
        delivery_id = con.execute("select nextval('audit.delivery_seq')").fetchone()[0]
    ledger.write_row(con, delivery_id, name, family, month, checksum, "rejected", message, rows_read, 0,
                     rows_read, rule_id=rule)
    con.execute("commit")
    log.warning(message)
    return LoadResult(delivery_id, name, family, month, "rejected", rows_read, 0, rows_read, None, message, rule)


def load_one(con: duckdb.DuckDBPyConnection, path: Path, checksum: str | None = None,
             accept_volume_drop: str | None = None) -> LoadResult:
    name = path.name
    shown = display_name(name)
    log.info("loading %s", shown)
    try:
        checksum = checksum or (file_checksum(path) if path.is_file() else None)
    except OSError:
        checksum = None

    # Also on a connection not made by connect(): CSV row numbers rely on an order-preserving scan.
    con.execute("set preserve_insertion_order = true")
    con.execute("begin transaction")
    delivery_id = con.execute("select nextval('audit.delivery_seq')").fetchone()[0]
    fam_name: str | None = None
    month_start: date | None = None
    try:
        fam_name, month_start, ext = parse_name(name)
        fam = FAMILIES[fam_name]
        if checksum is None:
            raise FileRejected("unreadable", "not a readable regular file")

        current = ledger.current_delivery(con, fam_name, month_start)
        if current and current[1] == checksum:
            message = f"{shown}: identical to delivery {current[0]} (same checksum), nothing to do"
            ledger.write_row(con, delivery_id, name, fam_name, month_start, checksum, "unchanged", message)
            con.execute("commit")
            log.info(message)
            return LoadResult(delivery_id, name, fam_name, month_start, "unchanged", message=message)
        superseded_id = current[0] if current else None
        first_delivery = not ledger.has_earlier_delivery(con, fam_name, month_start)
        d = Delivery(delivery_id, month_start, name, *pseudonym_key())
        rows_read, rejected, landed = _read_and_check(con, fam, path, ext, d)
        accepted = rows_read - rejected
        warning, note = _volume_gates(con, fam, name, month_start, superseded_id, rows_read, rejected,
                                      accept_volume_drop)
        # Phase markers at DEBUG: operators see where a slow load is; the crash tests kill at these points.
        log.debug("%s: %d rows read, %d with findings; inserting", shown, rows_read, rejected)
        land_accepted(con, fam, d, has_bad=rejected > 0, landed=landed)
        if rejected:
            quarantine(con, fam, d)
        mem = min_event_month(
            con, fam, month_start, _accepted_rows(rejected > 0),
            superseded_sql=(f"select * from {fam.raw_table} where delivery_id = $sid"  # noqa: S608
                            if superseded_id is not None else None),
            first_delivery=fam.stateful and first_delivery,
            params={"sid": superseded_id},
        )
        outcome = "restated" if superseded_id is not None else "loaded"
        message = f"{shown}: {accepted} of {rows_read} rows accepted, {rejected} quarantined"
        if superseded_id is not None:
            message += f"; supersedes delivery {superseded_id}"
        if note:
            message += f"; {note}"
        ledger.write_row(con, delivery_id, name, fam_name, month_start, checksum, outcome, message,
                         rows_read, accepted, rejected, mem, warning=warning,
                         accepted_reason=accept_volume_drop if warning == "volume_drop" else None)
        drop_temps(con)
        log.debug("%s: committing delivery %d", shown, delivery_id)
        con.execute("commit")
        (log.warning if warning else log.info)(message)
        return LoadResult(delivery_id, name, fam_name, month_start, outcome, rows_read, accepted, rejected, mem,
                          message, warning=warning)
    except FileRejected as exc:
        # Nothing of the file stays; the rejection is the attempt's one ledger row, committed on its own.
        con.execute("rollback")
        message = redact(f"{shown} rejected [{exc.rule}]: {exc}")
        return reject(con, name, fam_name, month_start, checksum, exc.rule, message, exc.rows_read, delivery_id)
    except BaseException:
        con.execute("rollback")
        raise


def _accepted_rows(has_bad: bool) -> str:
    return "select * from t anti join bad using (_row)" if has_bad else "select * from t"


def _read_and_check(con: duckdb.DuckDBPyConnection, fam: Family, path: Path, ext: str,
                    d: Delivery) -> tuple[int, int, bool]:
    """Read the file as `t` and run the file and row rules: (rows read, rows with a violation, landed in raw)."""
    if path.stat().st_size == 0:
        raise FileRejected("empty_file", "the file is empty (0 bytes)")
    with path.open("rb") as fh:
        magic = fh.read(4)
    if ext == "csv" and magic == b"PAR1":
        raise FileRejected("unreadable", "the file is Parquet, but its name ends in .csv")
    cols = describe(con, path, ext)
    check_columns(fam, cols)
    landed = lands_directly(fam, cols, ext)
    rows_read = land_file(con, fam, cols, path, d) if landed else read_into_t(con, fam, cols, path, ext, d)
    if rows_read == 0:
        raise FileRejected("empty_file", "the file has its columns but no data rows")
    build_lookups(con, fam)
    params = {"month_start": d.month, "month_end": add_months(d.month, 1), "window_start": WINDOW_START}
    try:
        month_mismatch(con, fam, params)
        rejected = find_violations(con, compile_rules(fam, cols), params)
    except FileRejected as exc:
        exc.rows_read = rows_read
        raise
    return rows_read, rejected, landed


def _volume_gates(con: duckdb.DuckDBPyConnection, fam: Family, name: str, month_start: date,
                  superseded_id: int | None, rows_read: int, rejected: int,
                  accept_reason: str | None) -> tuple[str | None, str]:
    """Refuse a restatement that loses data; flag a first delivery far off the recent months.

    Returns (warning rule or None, note for the message); raises FileRejected for `too_many_invalid` and
    `volume_drop`.
    """
    accepted, has_bad = rows_read - rejected, rejected > 0
    policy = gates.VolumePolicy.from_env()
    if superseded_id is not None:
        threshold = settings().restatement_min_valid_share
        if accepted < threshold * rows_read:
            raise FileRejected(
                "too_many_invalid",
                f"restatement with only {accepted} of {rows_read} rows valid (below {threshold:.0%}); "
                f"delivery {superseded_id} stays current",
                rows_read,
            )
        drop = gates.restatement_volume(con, fam, superseded_id, _accepted_rows(has_bad))
        if drop.exceeds(policy):
            counts = drop.describe("+".join(fam.key))
            if not accept_reason:
                raise FileRejected(
                    "volume_drop",
                    f"restatement would replace delivery {superseded_id} with fewer data: {counts} "
                    f"(more than {policy.max_drop:.0%} fewer, {gates.MAX_DROP_ENV}); delivery {superseded_id} "
                    f"stays current. If the drop is meant: {ACCEPT_HINT.format(file=name)}",
                    rows_read,
                )
            return "volume_drop", f"volume drop accepted ({counts}): {redact(accept_reason)}"
        return None, ""
    anomaly = gates.volume_anomaly(con, fam, month_start, accepted, policy)
    if anomaly:
        return "volume_anomaly", f"warning [volume_anomaly]: {anomaly}"
    return None, ""
