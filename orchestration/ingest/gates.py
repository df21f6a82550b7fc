"""Volume gates: a delivery whose every row is valid can still lose data, by being much smaller than it should.

- A restatement that drops more than a share of the rows or distinct keys of the delivery it supersedes (and
  at least a few of them) is rejected (`volume_drop`) unless the operator accepts it with a reason: an
  export that stopped half-way is the commonest way a feed breaks, and a restatement replaces the whole month.
- A first delivery for a month far off the family's recent months (the median of the previous 12 current
  deliveries) loads, with the warning `volume_anomaly` in the ledger: nothing earlier is replaced, but the
  month's KPIs deserve a look.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date

import duckdb

from orchestration.contract import Family
from orchestration.ingest.identifiers import ident
from orchestration.warehouse.vocabulary import add_months

MAX_DROP_ENV = "PIRAMIDE_RESTATEMENT_MAX_DROP"
MIN_DROP_ROWS_ENV = "PIRAMIDE_RESTATEMENT_MIN_DROP_ROWS"
ANOMALY_LOW_ENV = "PIRAMIDE_VOLUME_ANOMALY_LOW"
ANOMALY_HIGH_ENV = "PIRAMIDE_VOLUME_ANOMALY_HIGH"
ANOMALY_MIN_ROWS_ENV = "PIRAMIDE_VOLUME_ANOMALY_MIN_ROWS"
HISTORY_MONTHS = 12
# A median over fewer months says little; a family of a few dozen rows (project milestones) moves by whole
# projects, which is not an anomaly.
MIN_HISTORY = 3


@dataclass(frozen=True)
class VolumePolicy:
    max_drop: float = 0.20
    # A correction of a handful of rows in a tiny delivery is not a broken export, whatever its share.
    min_drop_rows: int = 10
    anomaly_low: float = 0.5
    anomaly_high: float = 2.0
    anomaly_min_rows: int = 100

    @classmethod
    def from_env(cls) -> VolumePolicy:
        d = cls()
        return cls(
            max_drop=float(os.environ.get(MAX_DROP_ENV) or d.max_drop),
            min_drop_rows=int(os.environ.get(MIN_DROP_ROWS_ENV) or d.min_drop_rows),
            anomaly_low=float(os.environ.get(ANOMALY_LOW_ENV) or d.anomaly_low),
            anomaly_high=float(os.environ.get(ANOMALY_HIGH_ENV) or d.anomaly_high),
            anomaly_min_rows=int(os.environ.get(ANOMALY_MIN_ROWS_ENV) or d.anomaly_min_rows),
        )


@dataclass(frozen=True)
class VolumeDrop:
    old_rows: int
    new_rows: int
    old_keys: int | None
    new_keys: int | None

    def exceeds(self, policy: VolumePolicy) -> bool:
        """More than `max_drop` of the rows or of the distinct keys lost, and at least `min_drop_rows` of them."""
        return any(
            old and new < (1 - policy.max_drop) * old and old - new >= policy.min_drop_rows
            for old, new in ((self.old_rows, self.new_rows), (self.old_keys, self.new_keys))
        )

    def describe(self, key: str) -> str:
        text = f"{self.new_rows:,} rows against {self.old_rows:,}"
        if self.old_keys is not None:
            text += f" and {self.new_keys:,} distinct {key} against {self.old_keys:,}"
        return text


def _counts(con: duckdb.DuckDBPyConnection, fam: Family, rows_sql: str, params: list) -> tuple[int, int | None]:
    if not fam.key:
        return con.execute(f"select count(*) from ({rows_sql})", params).fetchone()[0], None  # noqa: S608
    keys = ", ".join(ident(k) for k in fam.key)
    sql = (f"select (select count(*) from ({rows_sql})), "  # noqa: S608
           f"(select count(*) from (select distinct {keys} from ({rows_sql})))")
    rows, distinct = con.execute(sql, params + params).fetchone()
    return rows, distinct


def restatement_volume(con: duckdb.DuckDBPyConnection, fam: Family, superseded_id: int,
                       new_rows_sql: str) -> VolumeDrop:
    """Rows and distinct keys of the superseded delivery (in raw) and of the new one (`new_rows_sql`)."""
    old_sql = f"select * from {fam.raw_table} where delivery_id = ?"  # noqa: S608
    old_rows, old_keys = _counts(con, fam, old_sql, [superseded_id])
    new_rows, new_keys = _counts(con, fam, new_rows_sql, [])
    return VolumeDrop(old_rows, new_rows, old_keys, new_keys)


def recent_median(con: duckdb.DuckDBPyConnection, fam: Family, month: date) -> tuple[float | None, int]:
    """Median accepted rows of the family's current deliveries of the previous 12 months, and how many.

    A stateful family's opening file (its first month) holds the whole stock, not a month's flow: left out.
    """
    median, n = con.execute(
        "select median(l.rows_accepted), count(*) from audit.current_deliveries c "
        "join audit.load_ledger l using (delivery_id) "
        "where c.family = ? and c.month < ? and c.month >= ? "
        "and (not ? or c.month > (select min(month) from audit.current_deliveries where family = ?))",
        [fam.name, month, add_months(month, -HISTORY_MONTHS), fam.stateful, fam.name],
    ).fetchone()
    return median, n


def volume_anomaly(con: duckdb.DuckDBPyConnection, fam: Family, month: date, rows: int,
                   policy: VolumePolicy) -> str | None:
    """A warning text when a first delivery's row count is far off the recent median; None when it is not."""
    median, n = recent_median(con, fam, month)
    if median is None or n < MIN_HISTORY or median < policy.anomaly_min_rows:
        return None
    if policy.anomaly_low * median <= rows <= policy.anomaly_high * median:
        return None
    return (f"{rows:,} rows, against a median of {median:,.0f} over the previous {n} months "
            f"(expected between {policy.anomaly_low:g}x and {policy.anomaly_high:g}x)")
