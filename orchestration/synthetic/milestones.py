"""Project milestones: one report per register record (and transversal project) per month, project x as_of.

Completion is the share of the year's output (docs/decisions.md §5): from 0 at max(project start, 1 January) it rises
to 1 by the output's due date (31 December when the due date is in a later year), reported in steps of 5 %.
Most projects run slightly ahead of the linear plan; a few are late and end the year well short of 1.
"""

from __future__ import annotations

import calendar
from datetime import date

import numpy as np
import pandas as pd

from orchestration.synthetic.calendar import month_starts, next_month
from orchestration.synthetic.reference import Reference, seed

# Simulation knobs, not plan figures.
LATE_SHARE = 0.12  # share of records that end the year short of their output
LATE_FINAL = (0.5, 0.75)  # completion a late record reaches by year end
PACE = (1.03, 1.3)  # an on-time record's progress relative to the linear plan
SKIPPED_REPORT_RATE = 0.05  # monthly reports not sent (never December's year-end report)
STEP = 0.05
PHASES = np.array(["avvio", "analisi dei requisiti", "realizzazione", "collaudo", "rilascio"])


def deliveries(
    ref: Reference, scale: float, opening: date, last: date, rng: np.random.Generator
) -> dict[date, pd.DataFrame]:
    """Monthly milestone files from the first reporting month; project volumes do not scale."""
    months = month_starts(next_month(opening), last)
    reg = seed("project_leaf").drop_duplicates("project_id").reset_index(drop=True)
    start = pd.to_datetime(reg.planned_start).to_numpy().astype("datetime64[D]")
    due = pd.to_datetime(reg.due_date).to_numpy().astype("datetime64[D]")
    end = pd.to_datetime(reg.project_end_date.replace("", None)).to_numpy().astype("datetime64[D]")
    end = np.where(np.isnat(end), due, end)
    n = len(reg)

    # A report's date: a few days before the month's end, the year-end report on 31 December.
    month_arr = np.array(months, dtype="datetime64[D]")
    last_day = np.array([calendar.monthrange(m.year, m.month)[1] for m in months])
    is_dec = np.array([m.month == 12 for m in months])
    offset = rng.integers(0, 6, (len(months), n))
    offset[is_dec] = 0
    as_of = month_arr[:, None] + (last_day[:, None] - 1 - offset)
    year = np.array([m.year for m in months])[:, None]
    jan1 = np.array([np.datetime64(f"{m.year}-01-01") for m in months], dtype="datetime64[D]")[:, None]
    dec31 = np.array([np.datetime64(f"{m.year}-12-31") for m in months], dtype="datetime64[D]")[:, None]

    # The year's output: from max(start, 1 January) to its due date, or 31 December if due in a later year.
    y_start = np.maximum(start[None, :], jan1)
    y_due = np.where((due[None, :] >= jan1) & (due[None, :] <= dec31), due[None, :], dec31)
    span = np.maximum((y_due - y_start).astype(float), 1.0)
    planned = np.clip((as_of - y_start).astype(float) / span, 0.0, 1.0)

    years = np.unique(year)
    late = {y: rng.random(n) < LATE_SHARE for y in years}
    final = {y: rng.uniform(*LATE_FINAL, n) for y in years}
    pace = {y: rng.uniform(*PACE, n) for y in years}
    is_late = np.stack([late[y] for y in year[:, 0]])
    factor = np.where(is_late, np.stack([final[y] for y in year[:, 0]]), np.stack([pace[y] for y in year[:, 0]]))
    completion = np.floor(np.minimum(planned * factor, 1.0) / STEP + 1e-9) * STEP

    active = (as_of >= start[None, :]) & (jan1 <= end[None, :])
    sent = is_dec[:, None] | (rng.random((len(months), n)) >= SKIPPED_REPORT_RATE)
    m_idx, p_idx = np.nonzero(active & sent)
    c = np.round(completion[m_idx, p_idx], 2)
    pct = np.round(c * 100).astype(int).astype(str)
    phase = PHASES[np.minimum((c * len(PHASES)).astype(int), len(PHASES) - 1)]
    protocol = rng.integers(10_000, 99_999, len(c)).astype(str)
    year_str = year[m_idx, 0].astype(str)
    evidence = np.where(
        c >= 1.0,
        "Output " + year_str + " consegnato, prot. INPS.HERMES." + year_str + "." + protocol,
        "Stato di avanzamento " + pct + "%: fase di " + phase,
    )
    df = pd.DataFrame(
        {
            "project_id": reg.project_id.to_numpy()[p_idx],
            "as_of": as_of[m_idx, p_idx],
            "completion": c,
            "evidence": evidence,
            "month": month_arr[m_idx],
        }
    )
    df["as_of"] = pd.to_datetime(df.as_of).dt.date
    df["month"] = pd.to_datetime(df.month).dt.date
    cols = ["project_id", "as_of", "completion", "evidence"]
    return {m: g[cols].reset_index(drop=True) for m, g in df.groupby("month", sort=True)}
