"""Months and working days, from the holiday calendar seed."""

from __future__ import annotations

import csv
from datetime import date

import numpy as np

from orchestration.config import seeds_dir


def month_starts(first: date, last: date) -> list[date]:
    out, d = [], date(first.year, first.month, 1)
    while d <= last:
        out.append(d)
        d = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    return out


def next_month(d: date) -> date:
    return date(d.year + (d.month == 12), d.month % 12 + 1, 1)


def holidays() -> np.ndarray:
    path = seeds_dir() / "holidays_it.csv"
    with path.open() as fh:
        days = [row["holiday_on"] for row in csv.DictReader(fh)]
    return np.array(days, dtype="datetime64[D]")


def working_days(months: list[date]) -> np.ndarray:
    """Working days per month (Monday-Friday minus national holidays)."""
    starts = np.array(months, dtype="datetime64[D]")
    ends = np.array([next_month(m) for m in months], dtype="datetime64[D]")
    return np.busday_count(starts, ends, holidays=holidays())
