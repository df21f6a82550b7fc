"""`piramide publish` and `piramide reopen`: freeze a month-end's scores, append-only, with what they came from.

A publication copies every row of marts.fct_kpi_scores and marts.fct_value_pyramid of the month-end into the
`publish` schema and stamps it with the current deliveries (ledger ids and checksums), a hash per seed file
(and the small seeds' content), the code version and a hash of its own rows. Publishing the same month-end again
adds version n+1; a reopening is one more event row. Nothing here updates or deletes a row.
"""

from __future__ import annotations

import getpass
import logging
import os
from dataclasses import dataclass, field
from datetime import date, datetime

import duckdb

from orchestration.contract import FAMILIES
from orchestration.publication import store
from orchestration.publication.store import ident
from orchestration.warehouse.connection import connect
from orchestration.warehouse.vocabulary import NATION

log = logging.getLogger(__name__)

DEFAULT_MIN_COVERAGE = 0.95
# Delivered per survey wave, not monthly (docs/landing_contract.md): its absence in a month is not a gap.
NOT_MONTHLY_FAMILIES = ("survey",)


class PublicationRefused(RuntimeError):
    """The month-end is not complete enough to publish; `--force --reason` overrides."""

    def __init__(self, period: str, problems: list[str]):
        self.period = period
        self.problems = problems
        super().__init__(f"publication of {period} refused: " + "; ".join(problems)
                         + " (use --force --reason TEXT to publish anyway)")


class PublicationError(RuntimeError):
    """Nothing to publish or to reopen (no scores for the month-end, no earlier publication...)."""


@dataclass
class Checks:
    vpi_score: float | None
    vpi_weight_coverage: float | None
    min_coverage: float
    missing_families: list[str]
    families_source: str
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "vpi_score": self.vpi_score,
            "vpi_weight_coverage": self.vpi_weight_coverage,
            "min_coverage": self.min_coverage,
            "missing_families": self.missing_families,
            "families_source": self.families_source,
            "problems": self.problems,
        }


@dataclass(frozen=True)
class Publication:
    publication_id: int
    event: str
    period_end: date
    version: int | None
    forced: bool
    scores_rows: int
    pyramid_rows: int
    checks: Checks | None


def min_coverage() -> float:
    return float(os.environ.get("PIRAMIDE_PUBLISH_MIN_COVERAGE", DEFAULT_MIN_COVERAGE))


def parse_period(period: str | date) -> date:
    """'YYYY-MM' (or a date) to its month-end."""
    if isinstance(period, date):
        d = period
    else:
        try:
            d = datetime.strptime(period.strip(), "%Y-%m").date()
        except ValueError as exc:
            raise PublicationError(f"period {period!r} is not YYYY-MM") from exc
    nxt = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    return date.fromordinal(nxt.toordinal() - 1)


# ------------------------------------------------------------------------------------------ checks


def _missing_from_ledger(con: duckdb.DuckDBPyConnection, period_end: date) -> list[str]:
    delivered = {r[0] for r in con.execute(
        "select family from audit.current_deliveries where month = ?", [period_end.replace(day=1)]
    ).fetchall()}
    return sorted(f for f in FAMILIES if f not in NOT_MONTHLY_FAMILIES and f not in delivered)


def _missing_from_period_status(con: duckdb.DuckDBPyConnection, period_end: date) -> list[str] | None:
    """Missing families as marts.period_status states them, or None when its layout is not one we can read."""
    cols = store.columns(con, "marts", "period_status")
    key = next((c for c in ("period_end", "month", "period") if c in cols), None)
    if key is None:
        return None
    row = con.execute(
        f"select * from marts.period_status where strftime({ident(key)}::date, '%Y-%m') = ?",  # noqa: S608
        [period_end.strftime("%Y-%m")],
    ).fetchone()
    if row is None:
        return None
    values = dict(zip(cols, row, strict=True))
    for name in ("families_missing", "missing_families"):
        if name in values:
            v = values[name]
            if v is None:
                return []
            if isinstance(v, list | tuple):
                return sorted(str(x) for x in v if str(x) not in NOT_MONTHLY_FAMILIES)
            if isinstance(v, str):
                return sorted(x.strip() for x in v.replace(";", ",").split(",")
                              if x.strip() and x.strip() not in NOT_MONTHLY_FAMILIES)
    for name in ("families_delivered", "delivered_families"):
        v = values.get(name)
        if isinstance(v, list | tuple):
            return sorted(f for f in FAMILIES if f not in NOT_MONTHLY_FAMILIES and f not in {str(x) for x in v})
    return None


def completeness(con: duckdb.DuckDBPyConnection, period_end: date) -> Checks:
    """Why a month-end may not be ready: VPI weight coverage and families not delivered."""
    threshold = min_coverage()
    vpi = con.execute(
        "select score, weight_coverage from marts.fct_value_pyramid "
        "where period_end = ? and structure_code = ? and node_code = 'VPI'",
        [period_end, NATION],
    ).fetchone()
    score, coverage = vpi if vpi else (None, None)
    missing, source = None, "audit.load_ledger"
    if store.relation_exists(con, "marts", "period_status"):
        missing = _missing_from_period_status(con, period_end)
        if missing is not None:
            source = "marts.period_status"
    if missing is None:
        missing = _missing_from_ledger(con, period_end)
    checks = Checks(score, coverage, threshold, missing, source)
    if vpi is None:
        checks.problems.append(f"no national VPI row for {period_end}")
    elif coverage is None or coverage < threshold:
        shown = "none" if coverage is None else f"{coverage:.4f}"
        checks.problems.append(f"national VPI weight_coverage {shown} is below the threshold {threshold:g} "
                               "(PIRAMIDE_PUBLISH_MIN_COVERAGE)")
    if missing:
        checks.problems.append(f"families not delivered for {period_end:%Y-%m} ({source}): {', '.join(missing)}")
    return checks


# ------------------------------------------------------------------------------------------ publish


def _copy_columns(con: duckdb.DuckDBPyConnection, mart: str, table: str) -> list[str]:
    """Columns both in the mart and in the publish table (publication_id comes from the publication)."""
    mart_cols = store.columns(con, "marts", mart)
    table_cols = set(store.columns(con, "publish", table))
    extra = [c for c in mart_cols if c not in table_cols]
    if extra:
        # A column added to the mart after the publish table was created is not frozen; say so.
        log.warning("marts.%s columns not published (absent from publish.%s): %s", mart, table, ", ".join(extra))
    return [c for c in mart_cols if c in table_cols and c != "publication_id"]


def _insert_rows(con: duckdb.DuckDBPyConnection, mart: str, table: str, pid: int, period_end: date) -> int:
    cols = ", ".join(ident(c) for c in _copy_columns(con, mart, table))
    con.execute(
        f"insert into publish.{table} (publication_id, {cols}) "  # noqa: S608 (catalogue identifiers)
        f"select ?, {cols} from marts.{mart} where period_end = ?",
        [pid, period_end],
    )
    return con.execute(
        f"select count(*) from publish.{table} where publication_id = ?", [pid]  # noqa: S608 (constant)
    ).fetchone()[0]


def _insert_seeds(con: duckdb.DuckDBPyConnection, pid: int, files: list[store.SeedFile]) -> None:
    for f in files:
        con.execute("insert into publish.published_seeds values (?, ?, ?, ?)", [pid, f.name, f.sha256, f.size_bytes])
        if f.content is not None:
            # Content-addressed: an unchanged seed is stored once however often it is published.
            con.execute(
                "insert into publish.seed_contents select ?, ? "
                "where not exists (select 1 from publish.seed_contents where sha256 = ?)",
                [f.sha256, f.content, f.sha256],
            )


def _latest(con: duckdb.DuckDBPyConnection, period_end: date) -> tuple | None:
    return con.execute(
        "select publication_id, version from publish.publications where period_end = ? and event = 'publish' "
        "order by version desc limit 1",
        [period_end],
    ).fetchone()


def publish(
    period: str | date,
    note: str | None = None,
    force: bool = False,
    reason: str | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
) -> Publication:
    """Freeze a month-end. Raises PublicationRefused when incomplete and not forced."""
    if force and not (reason and reason.strip()):
        raise PublicationError("--force needs --reason TEXT: a forced publication says why")
    period_end = parse_period(period)
    own = con is None
    con = con or connect()
    try:
        if not store.relation_exists(con, "marts", "fct_value_pyramid"):
            raise PublicationError("the warehouse has no marts yet: run the pipeline (piramide run) first")
        n = con.execute("select count(*) from marts.fct_kpi_scores where period_end = ?", [period_end]).fetchone()[0]
        if n == 0:
            raise PublicationError(f"no scores for {period_end} in marts.fct_kpi_scores: nothing to publish")
        checks = completeness(con, period_end)
        if checks.problems and not force:
            raise PublicationRefused(period_end.strftime("%Y-%m"), checks.problems)
        store.ensure_publish_schema(con)
        files = store.seed_files()
        stamp = {
            "code_version": store.code_version(),
            "code_hash": store.code_hash(),
            "seeds_hash": store.seeds_hash(files),
            "deliveries": store.to_json(store.current_deliveries(con)),
        }
        con.execute("begin transaction")
        try:
            pid = con.execute("select nextval('publish.publication_seq')").fetchone()[0]
            latest = _latest(con, period_end)
            version = (latest[1] if latest else 0) + 1
            scores = _insert_rows(con, "fct_kpi_scores", "published_scores", pid, period_end)
            pyramid = _insert_rows(con, "fct_value_pyramid", "published_pyramid", pid, period_end)
            _insert_seeds(con, pid, files)
            # Last, so a publication row exists only with all its rows and their hash.
            con.execute(
                "insert into publish.publications (publication_id, event, period_end, version, refers_to, "
                "published_at, published_by, note, forced, reason, code_version, code_hash, seeds_hash, deliveries, "
                "checks, vpi_score, vpi_weight_coverage, scores_rows, pyramid_rows, content_hash) "
                "values (?, 'publish', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [pid, period_end, version, latest[0] if latest else None, datetime.now(), _user(), note,
                 bool(force and checks.problems), reason if force else None, stamp["code_version"],
                 stamp["code_hash"], stamp["seeds_hash"], stamp["deliveries"], store.to_json(checks.as_dict()),
                 checks.vpi_score, checks.vpi_weight_coverage, scores, pyramid, store.content_hash(con, pid)],
            )
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
        return Publication(pid, "publish", period_end, version, bool(force and checks.problems), scores, pyramid,
                           checks)
    finally:
        if own:
            con.close()


def reopen(period: str | date, reason: str, con: duckdb.DuckDBPyConnection | None = None) -> Publication:
    """Record that a published month-end is open again (a new event row; the publication stays as it was)."""
    if not (reason and reason.strip()):
        raise PublicationError("reopen needs --reason TEXT")
    period_end = parse_period(period)
    own = con is None
    con = con or connect()
    try:
        latest = _latest(con, period_end) if store.has_publish_schema(con) else None
        if latest is None:
            raise PublicationError(f"{period_end:%Y-%m} has never been published: nothing to reopen")
        con.execute("begin transaction")
        try:
            pid = con.execute("select nextval('publish.publication_seq')").fetchone()[0]
            con.execute(
                "insert into publish.publications (publication_id, event, period_end, version, refers_to, "
                "published_at, published_by, forced, reason, code_version, code_hash, seeds_hash) "
                "values (?, 'reopen', ?, ?, ?, ?, ?, false, ?, ?, ?, ?)",
                [pid, period_end, latest[1], latest[0], datetime.now(), _user(), reason, store.code_version(),
                 store.code_hash(), store.seeds_hash(store.seed_files())],
            )
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
        return Publication(pid, "reopen", period_end, latest[1], False, 0, 0, None)
    finally:
        if own:
            con.close()


def _user() -> str | None:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return None


def history(con: duckdb.DuckDBPyConnection, period: str | date | None = None) -> list[tuple]:
    """Publication events, oldest first (all month-ends, or one)."""
    if not store.has_publish_schema(con):
        return []
    where, params = "", []
    if period is not None:
        where, params = "where period_end = ?", [parse_period(period)]
    return con.execute(
        f"select publication_id, event, period_end, version, refers_to, published_at, published_by, forced, "  # noqa: S608
        "coalesce(reason, note), vpi_score, vpi_weight_coverage, scores_rows, pyramid_rows, code_version "
        f"from publish.publications {where} order by publication_id",
        params,
    ).fetchall()
