"""Customer-care contacts: a vectorised simulation of contacts and their responses, cut into monthly deltas.

Contacts are drawn with numpy one group of structures at a time (orchestration.synthetic.chunks);
each delivery month then holds one row per contact that was opened
or changed state in it (as known in that month), after an opening file with every contact still open at the
opening month's end plus every contact opened in the 12 months before (docs/landing_contract.md, "Files").
Response times are in working days (seed holidays_it) around each channel's standard (seed channel_standards).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import numpy as np
import pandas as pd

from orchestration.synthetic.calendar import holidays, month_starts, next_month
from orchestration.synthetic.chunks import chunk_streams, concat_chunks, serial_ids, structure_chunks
from orchestration.synthetic.practices import fake_tax_codes
from orchestration.synthetic.reference import Reference, seed

# Simulation knobs, not plan figures. docs/decisions.md §14: about 12 M contacts a year at scale 1.
CONTACTS_PER_YEAR = 12_000_000
SIM_MONTHS_BEFORE_WINDOW = 6  # contacts older than the opening window can still be open at its end
SEASONALITY = np.array([1.10, 1.05, 1.05, 1.0, 1.0, 0.98, 0.90, 0.70, 1.0, 1.07, 1.08, 1.07])
YEAR_VOLUME = {2018: 0.95, 2019: 0.97, 2020: 1.08, 2021: 1.0}  # 2020: the pandemic's extra requests
CHANNEL_SHARE = {"LINEA_INPS": 0.45, "AGENDA": 0.20, "CASSETTO_AZIENDE": 0.20, "CASSETTO_AUTONOMI": 0.15}
USER_TYPES = ("citizen", "intermediary", "employer")
USER_MIX = {  # share of citizen / intermediary / employer per channel
    "LINEA_INPS": (0.85, 0.10, 0.05),
    "AGENDA": (0.75, 0.25, 0.0),
    "CASSETTO_AZIENDE": (0.0, 0.45, 0.55),
    "CASSETTO_AUTONOMI": (0.60, 0.40, 0.0),
}
WEEKEND_KEEP = 0.15  # share of contacts opened on a non-working day that stay there (online channels)
MEAN_DELAY_SHARE = 0.62  # mean working days to first response, as a share of the channel's standard
DELAY_SHAPE = 1.5  # gamma shape: most responses come early, some miss the standard
# Tails, in multiples of the standard: contacts that wait weeks, and forgotten ones open for months.
LONG_DELAY_RATE, LONG_DELAY_STANDARDS = 0.04, (1.5, 8.0)
STUCK_RATE, STUCK_DAYS = 0.0005, (60, 250)
IMPROVEMENT_PER_YEAR = 0.035  # response times shrink a little every year, so indices land a little above 100
CLOSED_AT_FIRST = 0.62  # share of contacts closed by their first response (2019 level)
CLOSED_AT_FIRST_GAIN = 0.01  # per year
NEVER_CLOSED_RATE = 0.02  # answered, then left without a formal closure
LATE_REPORT_RATE, LATE_REPORT_LAG = 0.04, (1, 5)  # responses recorded 1-5 working days after they happened
BASE_YEAR = 2019


def _day_seconds(rng: np.random.Generator, n: int, lo_h: float, hi_h: np.ndarray | float) -> np.ndarray:
    return (lo_h * 3600 + rng.random(n) * (np.asarray(hi_h) - lo_h) * 3600).astype("int64")


def plan(ref: Reference, scale: float, opening: date, last: date, rng: np.random.Generator) -> dict:
    """The draws shared by every chunk: calendar, expected counts, office speeds and trends, chunking."""
    ch = seed("channel_standards")
    ch_codes = ch.channel_code.to_numpy()
    ch_share = np.array([CHANNEL_SHARE.get(c, np.mean(list(CHANNEL_SHARE.values()))) for c in ch_codes])
    ch_share /= ch_share.sum()
    ps = ref.production_structures
    n_s, n_c = len(ps), len(ch_codes)

    window_first = month_starts(date(opening.year - 2, opening.month, 1), opening)[-12]
    sim_first = month_starts(date(window_first.year - 1, window_first.month, 1), window_first)[
        -SIM_MONTHS_BEFORE_WINDOW - 1
    ]
    months = month_starts(sim_first, last)
    s_w = ref.structure_weights(rng)
    mix = rng.lognormal(0.0, 0.15, (n_s, n_c))
    mix /= (mix * ch_share[None, :]).sum(axis=1, keepdims=True)
    lam = np.stack(
        [
            (scale * CONTACTS_PER_YEAR * YEAR_VOLUME.get(m.year, 1.0) * SEASONALITY[m.month - 1] / 12.0)
            * s_w[:, None] * ch_share[None, :] * mix
            for m in months
        ]
    )  # months x structures x channels
    # Speed of each office per channel and its year-on-year trend: regional and structure differences.
    regions = ps.regional_entity_code.to_numpy()
    _, reg_idx = np.unique(regions, return_inverse=True)
    reg_speed = rng.lognormal(0.0, 0.12, reg_idx.max() + 1)[reg_idx]
    speed = reg_speed[:, None] * rng.lognormal(0.0, 0.15, (n_s, n_c))
    years = np.array([m.year for m in months])
    n_years = int(years.max() - years.min() + 1)
    trend = rng.lognormal(0.0, 0.05, (n_s, n_years)) * (1 - IMPROVEMENT_PER_YEAR) ** (
        years.min() - BASE_YEAR + np.arange(n_years)
    )[None, :]
    ch_first = rng.normal(0.0, 0.05, (n_s, 1)) + rng.normal(0.0, 0.03, (n_s, n_c))
    chunks = structure_chunks(lam.sum(axis=(0, 2)))
    return {
        "ch_codes": ch_codes, "standard": ch.standard_working_days.astype(int).to_numpy(), "months": months,
        "lam": lam, "speed": speed, "trend": trend, "ch_first": ch_first, "chunks": chunks,
        "streams": chunk_streams(rng, len(chunks)),
    }


def simulate_chunk(
    ref: Reference, pl: dict, owners: np.ndarray, first_id: int, last: date, rng: np.random.Generator
) -> pd.DataFrame:
    """One row per contact of the structures `owners`, numbered from `first_id` in order of opening, with its
    event timestamps and report dates (NaT: not within the horizon)."""
    ch_codes, standard, months = pl["ch_codes"], pl["standard"], pl["months"]
    ps = ref.production_structures
    n_o, n_c = len(owners), len(ch_codes)
    hol = holidays()
    counts = rng.poisson(pl["lam"][:, owners, :]).ravel()
    n = int(counts.sum())
    cell = np.repeat(np.arange(counts.size), counts)
    m_idx, rem = np.divmod(cell, n_o * n_c)
    local, channel = np.divmod(rem, n_c)
    owner = owners[local]
    del cell, rem, local

    m_start = np.array(months, dtype="datetime64[D]")
    m_len = (np.array([next_month(m) for m in months], dtype="datetime64[D]") - m_start).astype(int)
    opened_d = m_start[m_idx] + (rng.random(n) * m_len[m_idx]).astype(int)
    # Most contacts arrive on working days: move the rest of a weekend's draws to the next working day.
    off = ~np.is_busday(opened_d, holidays=hol) & (rng.random(n) >= WEEKEND_KEEP)
    opened_d = np.where(off, np.busday_offset(opened_d, 0, roll="forward", holidays=hol), opened_d)
    opened_s = _day_seconds(rng, n, 8.0, 18.0)

    speed, trend = pl["speed"], pl["trend"]
    years = np.array([m.year for m in months])
    y_idx = years - years.min()
    std_c = standard[channel]
    pace = speed[owner, channel] * trend[owner, y_idx[m_idx]]
    # Faster offices also leave fewer contacts waiting for weeks: the tails shrink with the square of the pace.
    tail = pace**2
    u = rng.random(n)
    delay = rng.gamma(DELAY_SHAPE, MEAN_DELAY_SHARE * std_c / DELAY_SHAPE)
    delay += np.where(u < LONG_DELAY_RATE * tail, rng.uniform(*LONG_DELAY_STANDARDS, n) * std_c, 0.0)
    delay *= pace
    delay += np.where(u > 1 - STUCK_RATE * tail, rng.uniform(*STUCK_DAYS, n), 0.0)
    resp_d = np.busday_offset(opened_d, np.floor(delay).astype("int64"), roll="forward", holidays=hol)
    same_day = resp_d == opened_d
    # A same-day response comes between a few minutes and the evening after the opening.
    resp_s = np.where(
        same_day,
        opened_s + 300 + (rng.random(n) * (19 * 3600 - opened_s - 300)).astype("int64"),
        _day_seconds(rng, n, 8.0, 18.5),
    )

    ch_first = pl["ch_first"]
    p_first = CLOSED_AT_FIRST + CLOSED_AT_FIRST_GAIN * (years[m_idx] - BASE_YEAR) + ch_first[owner, channel]
    v = rng.random(n)
    closed_first = v < p_first
    never_closed = ~closed_first & (v > 1 - NEVER_CLOSED_RATE)
    close_d = np.busday_offset(resp_d, rng.integers(1, 16, n), roll="forward", holidays=hol)
    close_s = _day_seconds(rng, n, 8.0, 18.5)

    sec = np.timedelta64(1, "s")
    opened = opened_d.astype("datetime64[s]") + opened_s * sec
    responded = resp_d.astype("datetime64[s]") + resp_s * sec
    closed = np.where(closed_first, responded, close_d.astype("datetime64[s]") + close_s * sec)
    closed = np.where(never_closed, np.datetime64("NaT"), closed)

    # Late reporting: a few responses are recorded some working days after they happened; near a month's
    # end that puts them in the next month's file (a late-reported event).
    late = rng.random(n) < LATE_REPORT_RATE
    lag = np.where(late, rng.integers(LATE_REPORT_LAG[0], LATE_REPORT_LAG[1] + 1, n), 0)
    rep_resp = np.busday_offset(resp_d, lag, roll="forward", holidays=hol)
    rep_close = np.maximum(closed.astype("datetime64[D]"), rep_resp)  # NaT stays NaT

    horizon_end = np.datetime64(next_month(last)) - 1
    no_resp = rep_resp > horizon_end
    responded = np.where(no_resp, np.datetime64("NaT"), responded)
    rep_resp = np.where(no_resp, np.datetime64("NaT"), rep_resp)
    no_close = no_resp | np.isnat(rep_close) | (rep_close > horizon_end)
    closed = np.where(no_close, np.datetime64("NaT"), closed)
    rep_close = np.where(no_close, np.datetime64("NaT"), rep_close)

    # User type drawn from the channel's mix.
    cum = np.cumsum(np.array([USER_MIX.get(c, (1.0, 0.0, 0.0)) for c in ch_codes]), axis=1)
    user = (rng.random(n)[:, None] >= cum[channel]).sum(axis=1).clip(0, len(USER_TYPES) - 1)

    order = np.lexsort((owner, opened))
    return pd.DataFrame(
        {
            "contact_id": serial_ids("CC", first_id, n, 10),
            "structure_code": ps.structure_code.to_numpy().astype(object)[owner[order]],
            "channel_code": ch_codes.astype(object)[channel[order]],
            "user_type": np.array(USER_TYPES, dtype=object)[user[order]],
            "opened_at": opened[order],
            "first_response_at": responded[order],
            "closed_at": closed[order],
            "rep_open": opened_d[order],
            "rep_resp": rep_resp[order],
            "rep_close": rep_close[order],
            "requester_tax_code": fake_tax_codes(rng, n),
        }
    )


def delivery_chunks(
    ref: Reference, scale: float, opening: date, last: date, rng: np.random.Generator
) -> Iterator[dict[date, pd.DataFrame]]:
    """Simulate group of structures by group, each cut into the opening file and one delta file per month.

    Contact ids run on across the groups, so the groups' months concatenated in order stay sorted by id."""
    pl = plan(ref, scale, opening, last, rng)
    next_id = 1
    for owners, stream in zip(pl["chunks"], pl["streams"], strict=True):
        sim = simulate_chunk(ref, pl, owners, next_id, last, stream)
        next_id += len(sim)
        yield cut(sim, opening, last)
        del sim


def deliveries(
    ref: Reference, scale: float, opening: date, last: date, rng: np.random.Generator
) -> dict[date, pd.DataFrame]:
    """All chunks in memory at once (small scales only; `generate` writes chunk by chunk)."""
    return concat_chunks(delivery_chunks(ref, scale, opening, last, rng))


def cut(sim: pd.DataFrame, opening: date, last: date) -> dict[date, pd.DataFrame]:
    """One row per contact per delivery month in which it was opened or changed state, as known then."""
    open_m = np.datetime64(opening, "M")
    last_m = np.datetime64(last, "M")
    open_end = np.datetime64(next_month(opening)) - 1
    window_first = (open_m - 11).astype("datetime64[D]")
    rep_o = sim.rep_open.to_numpy().astype("datetime64[D]")
    rep_r = sim.rep_resp.to_numpy().astype("datetime64[D]")
    rep_c = sim.rep_close.to_numpy().astype("datetime64[D]")
    # Months as integers, with a far-future sentinel for events that never happen within the horizon.
    never = np.iinfo("int64").max
    mo = rep_o.astype("datetime64[M]").astype("int64")
    mr = np.where(np.isnat(rep_r), never, rep_r.astype("datetime64[M]").astype("int64"))
    mc = np.where(np.isnat(rep_c), never, rep_c.astype("datetime64[M]").astype("int64"))
    om, lm = int(open_m.astype("int64")), int(last_m.astype("int64"))

    # Opening: every contact opened by its end and not closed by then, plus every one opened in the window.
    in_opening = (rep_o <= open_end) & ((rep_o >= window_first) | (mc > om))
    idx_open = np.flatnonzero(in_opening)
    # A contact opened on the last month's closing weekend is reported the next working day, past the horizon.
    idx_o = np.flatnonzero((mo > om) & (mo <= lm))
    idx_r = np.flatnonzero((mr != never) & (mr > np.maximum(mo, om)) & (mr <= lm))
    idx_c = np.flatnonzero((mc != never) & (mc > np.maximum(mr, np.maximum(mo, om))) & (mc <= lm))
    idx = np.concatenate([idx_open, idx_o, idx_r, idx_c])
    dm = np.concatenate([np.full(len(idx_open), om), mo[idx_o], mr[idx_r], mc[idx_c]])

    # The row's changed_on: the latest report date among the events reported in its month.
    far = np.datetime64("1900-01-01")
    changed = np.maximum.reduce(
        [
            np.where(mo[idx] == dm, rep_o[idx], far),
            np.where(mr[idx] == dm, rep_r[idx], far),
            np.where(mc[idx] == dm, rep_c[idx], far),
        ]
    )
    changed = np.where(dm == om, open_end, changed)
    # One numeric sort by (delivery month, contact): ids are serial in simulation order, so the index order is
    # the contact_id order (no string sort, no groupby); a contact has at most one row per delivery month.
    order = np.lexsort((idx, dm))
    idx, dm, changed = idx[order], dm[order], changed[order]
    resp_known = mr[idx] <= dm
    close_known = mc[idx] <= dm
    status = np.where(close_known, "closed", np.where(resp_known, "answered", "open")).astype(object)
    nat = np.datetime64("NaT")
    cols = {
        "contact_id": sim.contact_id.to_numpy()[idx],
        "structure_code": sim.structure_code.to_numpy()[idx],
        "channel_code": sim.channel_code.to_numpy()[idx],
        "user_type": sim.user_type.to_numpy()[idx],
        "opened_at": sim.opened_at.to_numpy()[idx],
        "first_response_at": np.where(resp_known, sim.first_response_at.to_numpy()[idx], nat),
        "closed_at": np.where(close_known, sim.closed_at.to_numpy()[idx], nat),
        "status": status,
        "changed_on": changed.astype("datetime64[D]"),
        "requester_tax_code": sim.requester_tax_code.to_numpy()[idx],
    }
    months, starts = np.unique(dm, return_index=True)
    ends = np.append(starts[1:], len(dm))
    return {
        pd.Timestamp(np.datetime64(int(m), "M")).date(): pd.DataFrame({c: a[lo:hi] for c, a in cols.items()})
        for m, lo, hi in zip(months, starts, ends, strict=True)
    }
