"""Monthly partitions and what a delivery invalidates: pure functions, no I/O.

A partition is a reporting month ("YYYY-MM"). The opening month (the month before the first reporting month,
docs/landing_contract.md, "Files") is a partition of the load only: its month close computes no KPIs.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import date

import dagster as dg

from orchestration.warehouse.vocabulary import MONTH_FMT as PARTITION_FMT
from orchestration.warehouse.vocabulary import add_months, month_key, month_range, parse_month

# The month vocabulary lives in orchestration.warehouse.vocabulary; the Dagster side takes it from here too.
__all__ = ["PARTITION_FMT", "add_months", "clip_to_partitions", "contiguous_ranges", "invalidated_partitions",
           "month_key", "month_range", "monthly_partitions", "opening_month", "parse_month"]

# The first partition. The default matches the default sample (`piramide generate`: opening 2019-12);
# real extracts set it to their own opening month. Read from the environment, never from DuckDB, because
# this module is imported by the code server (docs/stack_notes.md §2).
DEFAULT_OPENING_MONTH = "2019-12"
# Quality indices compare a month with the same month of the previous year (docs/decisions.md §9), so a month's
# figures are read again twelve months later.
YOY_LAG_MONTHS = 12


def opening_month() -> str:
    value = os.environ.get("PIRAMIDE_OPENING_MONTH", DEFAULT_OPENING_MONTH)
    parse_month(value)  # fail at import with a clear message rather than with an odd partition set
    return value


monthly_partitions = dg.MonthlyPartitionsDefinition(start_date=opening_month(), fmt=PARTITION_FMT)


def invalidated_partitions(
    min_event_month: str | date,
    latest_month: str | date,
    *,
    first_kpi_month: str | date | None = None,
    through: str | date | None = None,
    yoy_lag_months: int = YOY_LAG_MONTHS,
) -> list[str]:
    """The month closes a delivery makes stale, sorted.

    - Every month from `min_event_month` to `latest_month`: backlog carries every earlier open practice
      forward and the inflow window spans twelve months, so a changed event changes every later month-end.
    - The year-on-year consumers: each of those months is read again `yoy_lag_months` later by the
      quality indices.
    - Clipped below at `first_kpi_month` (the opening month has no KPIs; the opening file's ledger row
      already says the first reporting month) and above at `through` (default `latest_month`: later
      months have no data yet, they are computed when they close).
    """
    first = parse_month(min_event_month)
    last = parse_month(latest_month)
    through_m = parse_month(through) if through is not None else last
    floor = parse_month(first_kpi_month) if first_kpi_month is not None else None
    if floor is not None and first < floor:
        first = floor
    if last < first:
        return []
    direct = month_range(first, last)
    yoy = month_range(add_months(first, yoy_lag_months), add_months(last, yoy_lag_months))
    keys = {k for k in (*direct, *yoy) if parse_month(k) <= through_m}
    return sorted(keys)


def contiguous_ranges(keys: Iterable[str]) -> list[tuple[str, str]]:
    """Sorted month keys -> maximal runs of consecutive months, as (first, last) pairs.

    One run of the job covers one range (single-run backfill policy), so a set with a gap needs two runs.
    """
    months = sorted({parse_month(k) for k in keys})
    ranges: list[tuple[str, str]] = []
    for m in months:
        if ranges and add_months(ranges[-1][1], 1) == m:
            ranges[-1] = (ranges[-1][0], m)
        else:
            ranges.append((m, m))
    return [(a.strftime(PARTITION_FMT), b.strftime(PARTITION_FMT)) for a, b in ranges]


def clip_to_partitions(keys: Iterable[str], partitions_def: dg.TimeWindowPartitionsDefinition) -> list[str]:
    """Keep the keys that exist as partitions (months before the first or after the last closed month drop)."""
    first = partitions_def.get_first_partition_key()
    last = partitions_def.get_last_partition_key()
    if first is None or last is None:
        return []
    lo, hi = parse_month(first), parse_month(last)
    return sorted(k for k in set(keys) if lo <= parse_month(k) <= hi)
