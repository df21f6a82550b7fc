"""Practices: a vectorised simulation of receipts and definitions, cut into monthly delta deliveries.

The practices are drawn with numpy one group of production structures at a time (about 120 M simulated
practices at scale 1.0 would not fit at once: orchestration.synthetic.chunks), then each delivery month
receives one row per practice that was received or changed state in it, exactly as a real
production-monitoring export would (docs/landing_contract.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from orchestration.synthetic.calendar import month_starts, next_month
from orchestration.synthetic.chunks import chunk_streams, concat_chunks, serial_ids, structure_chunks
from orchestration.synthetic.reference import Reference

# Simulation knobs that are not plan figures (the plan's figures come from the seeds).
SIM_START_MONTHS_BEFORE_OPENING = 23  # practices open at the opening date may be old
CANCEL_RATE = 0.01
LATE_REPORT_RATE = 0.03  # definitions first reported in the next month's file
SEASONALITY = np.array([1.08, 1.02, 1.05, 0.98, 1.0, 1.0, 0.95, 0.70, 1.02, 1.08, 1.06, 1.06])
SUSSIDIARIETA_CENTRAL_SHARE = 93_755 / 133_629  # L4968-5106: central producers' part of the national flow
CENTRAL_SPLIT = {"dst_sede_virtuale": 79_359, "eco": 5_686, "tfs_tfr": 8_710}  # block totals, L4968-5106
YEAR_VOLUME = {2018: 1.0, 2019: 1.0, 2020: 0.96, 2021: 1.0}
TAX_LETTERS = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", dtype=np.uint8)
TAX_DIGITS = np.frombuffer(b"0123456789", dtype=np.uint8)
TAX_PATTERN = "LLLLLLDDLDDLDDDL"  # the shape of an Italian codice fiscale


@dataclass
class PracticeSim:
    practice_id: np.ndarray
    owner: np.ndarray  # index into production structures
    producer: np.ndarray  # structure code (object array)
    product: np.ndarray  # index into catalogue
    received: np.ndarray  # datetime64[D]
    defined: np.ndarray  # datetime64[D], NaT = never within the horizon
    reported: np.ndarray  # datetime64[D] when the definition is first reported
    outcome: np.ndarray
    entitlement: np.ndarray
    project_tag: np.ndarray
    review_flag: np.ndarray
    tax_code: np.ndarray


def fake_tax_codes(rng: np.random.Generator, n: int) -> np.ndarray:
    """Strings shaped like a codice fiscale (never real people's: random letters and digits)."""
    out = np.empty((n, len(TAX_PATTERN)), dtype=np.uint8)
    for j, kind in enumerate(TAX_PATTERN):
        pool = TAX_LETTERS if kind == "L" else TAX_DIGITS
        out[:, j] = pool[rng.integers(0, len(pool), n)]
    return out.view(f"S{len(TAX_PATTERN)}").ravel().astype(f"U{len(TAX_PATTERN)}")


@dataclass
class PracticePlan:
    """The draws shared by every chunk: calendar, expected counts, structure speeds, chunking."""

    months: list[date]
    lam: np.ndarray  # months x structures x products
    speed: np.ndarray
    pieces_year: np.ndarray
    chunks: list[np.ndarray]
    streams: list[np.random.Generator]


def plan(ref: Reference, scale: float, opening: date, last: date, rng: np.random.Generator) -> PracticePlan:
    cat = ref.catalogue
    sim_first = month_starts(date(opening.year - 2, opening.month, 1), opening)[-SIM_START_MONTHS_BEFORE_OPENING - 1]
    months = month_starts(sim_first, last)
    n_s, n_p = len(ref.production_structures), len(cat)

    # Annual pieces per product at scale 1: the plan's sub-area points split by product share / coefficient.
    points = ref.plan_points.reindex(cat.sub_area_code).to_numpy() * cat.plan_points_share.to_numpy()
    pieces_year = points / cat.coefficient_hours.to_numpy()
    s_w = ref.structure_weights(rng)
    # Regional differences in mix: each structure x product gets its own multiplier.
    mix = rng.lognormal(0.0, 0.15, (n_s, n_p))
    mix /= mix.mean(axis=0, keepdims=True)
    # Efficiency per structure: some offices are slower, which spreads backlog and quality scores.
    speed = rng.lognormal(0.0, 0.18, n_s)
    lam = np.stack(
        [
            (scale * YEAR_VOLUME.get(m.year, 1.0) * SEASONALITY[m.month - 1] / 12.0)
            * s_w[:, None] * mix * pieces_year[None, :]
            for m in months
        ]
    )
    chunks = structure_chunks(lam.sum(axis=(0, 2)))
    return PracticePlan(months, lam, speed, pieces_year, chunks, chunk_streams(rng, len(chunks)))


def simulate_chunk(
    ref: Reference, pl: PracticePlan, owners: np.ndarray, first_id: int, last: date, rng: np.random.Generator
) -> PracticeSim:
    """Every practice of the structures `owners`, numbered from `first_id` in order of receipt."""
    cat = ref.catalogue
    ps = ref.production_structures
    n_s = len(ps)
    n_o, n_p = len(owners), len(cat)
    months = pl.months
    pieces_year = pl.pieces_year

    counts = rng.poisson(pl.lam[:, owners, :]).ravel()
    n = int(counts.sum())
    cell = np.repeat(np.arange(counts.size), counts)
    m_idx, rem = np.divmod(cell, n_o * n_p)
    local, product = np.divmod(rem, n_p)
    owner = owners[local]
    del cell, rem, local

    m_start = np.array(months, dtype="datetime64[D]")
    m_len = (np.array([next_month(m) for m in months], dtype="datetime64[D]") - m_start).astype(int)
    received = m_start[m_idx] + (rng.random(n) * m_len[m_idx]).astype(int)
    del m_idx

    mean_days = cat.mean_processing_days.to_numpy()[product] * pl.speed[owner]
    # Gamma with shape 1.6: most practices close near the mean, a long tail stays open for months.
    duration = np.maximum(0, np.round(rng.gamma(1.6, mean_days / 1.6))).astype(int)
    defined = received + duration
    horizon_end = np.datetime64(next_month(last)) - 1
    u = rng.random(n)
    cancelled = u < CANCEL_RATE
    grant = cat.grant_rate.to_numpy()[product]
    v = rng.random(n)
    outcome = np.where(v < grant, "granted", np.where(v < grant + (1 - grant) * 0.85, "rejected", "other"))
    outcome = np.where(cancelled, "cancelled", outcome).astype(object)

    # Late reporting: the event happened in month M, the export that first shows it is M+1.
    late = (rng.random(n) < LATE_REPORT_RATE) & (defined <= horizon_end)
    next_start = (defined.astype("datetime64[M]") + 1).astype("datetime64[D]")
    next_len = ((defined.astype("datetime64[M]") + 2).astype("datetime64[D]") - next_start).astype(int)
    reported = np.where(late, next_start + (rng.random(n) * np.maximum(next_len, 1)).astype(int), defined)
    reported = np.maximum(reported, defined)
    never = reported > horizon_end
    defined = np.where(never, np.datetime64("NaT"), defined)
    reported = np.where(never, np.datetime64("NaT"), reported)
    outcome = np.where(never, None, outcome)

    # Sussidiarieta: a few definitions are produced by another region's structure or a central producer.
    codes = ps.structure_code.to_numpy().astype(object)
    regions = ps.regional_entity_code.to_numpy()
    sub_rate = 133_629 / 23_291_060  # L4497 over L4495: the plan's share of points produced for others
    sub = (rng.random(n) < sub_rate) & ~never & ~cancelled
    producer = codes[owner].copy()
    to_central = sub & (rng.random(n) < SUSSIDIARIETA_CENTRAL_SHARE)
    cen_codes = np.array(list(CENTRAL_SPLIT), dtype=object)
    cen_p = np.array(list(CENTRAL_SPLIT.values()), dtype=float)
    producer[to_central] = cen_codes[rng.choice(len(cen_codes), int(to_central.sum()), p=cen_p / cen_p.sum())]
    to_other = np.flatnonzero(sub & ~to_central)
    other = rng.integers(0, n_s, len(to_other))
    same = regions[other] == regions[owner[to_other]]
    other[same] = (other[same] + n_s // 2) % n_s  # another region's office
    producer[to_other] = codes[other]

    # Entitlement date for pensions and NASpI (continuity of income), near the application.
    continuity = np.isin(cat.product_code.to_numpy()[product], list(ref.product_set("IMP_CONTINUITY")))
    entitlement = np.where(
        continuity, received + rng.integers(-20, 40, n), np.datetime64("NaT")
    ).astype("datetime64[D]")

    # Improvement projects A/B/C tag pieces of the insurance-account products, sized to the plan's targets.
    tag = np.full(n, None, dtype=object)
    gcai_products = (cat.backlog_group == "GCAI").to_numpy()
    gcai = gcai_products[product]
    eligible_per_year = pieces_year[gcai_products].sum()
    w = rng.random(n)
    lo = 0.0
    for t in ("A", "B", "C"):
        try:
            share = ref.target(f"IMPROVEMENT_PROJECTS.{t}") / max(eligible_per_year, 1.0) * 0.95
        except KeyError:
            continue
        hi = min(lo + share, 1.0)
        tag[gcai & (w >= lo) & (w < hi)] = t
        lo = hi

    review_set = list(ref.product_set("G.1"))
    is_rdc = np.isin(cat.product_code.to_numpy()[product], review_set)
    review = rng.random(n) < np.where(is_rdc, 0.25, 0.01)

    order = np.lexsort((owner, received))
    return PracticeSim(
        practice_id=serial_ids("PR", first_id, n, 9),
        owner=owner[order],
        producer=producer[order],
        product=product[order],
        received=received[order],
        defined=defined[order],
        reported=reported[order],
        outcome=outcome[order],
        entitlement=entitlement[order],
        project_tag=tag[order],
        review_flag=review[order],
        tax_code=fake_tax_codes(rng, n),
    )


def delivery_chunks(
    ref: Reference, scale: float, opening: date, last: date, rng: np.random.Generator
) -> Iterator[dict[date, pd.DataFrame]]:
    """Simulate group of structures by group, each cut into the opening file and one delta file per month.

    Practice ids run on across the groups, so the groups' months concatenated in order stay sorted by id."""
    pl = plan(ref, scale, opening, last, rng)
    next_id = 1
    for owners, stream in zip(pl.chunks, pl.streams, strict=True):
        sim = simulate_chunk(ref, pl, owners, next_id, last, stream)
        next_id += len(sim.practice_id)
        yield cut(sim, ref, opening, last)
        del sim


def deliveries(
    ref: Reference, scale: float, opening: date, last: date, rng: np.random.Generator
) -> dict[date, pd.DataFrame]:
    """All chunks in memory at once (small scales only; `generate` writes chunk by chunk)."""
    return concat_chunks(delivery_chunks(ref, scale, opening, last, rng))


def cut(sim: PracticeSim, ref: Reference, opening: date, last: date) -> dict[date, pd.DataFrame]:
    """Cut the simulation into the opening file and one delta file per month."""
    cat_codes = ref.catalogue.product_code.to_numpy().astype(object)
    ps_codes = ref.production_structures.structure_code.to_numpy().astype(object)
    open_end = np.datetime64(next_month(opening)) - 1
    year_before = (open_end.astype("datetime64[M]") - 11).astype("datetime64[D]")

    rec_m = sim.received.astype("datetime64[M]")
    rep_m = sim.reported.astype("datetime64[M]")
    open_m = np.datetime64(opening, "M")

    frames: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # (index, delivery month, state known?)
    # Opening file: every practice open at the opening month's end plus every one received in the 12 months.
    in_opening = (sim.received <= open_end) & (
        (sim.received >= year_before) | np.isnat(sim.reported) | (sim.reported > open_end)
    )
    idx = np.flatnonzero(in_opening)
    known = ~np.isnat(sim.reported[idx]) & (sim.reported[idx] <= open_end)
    changed = np.full(len(idx), open_end)
    frames.append((idx, np.full(len(idx), open_m), known, changed))
    # Receipt rows for months after the opening.
    idx = np.flatnonzero(rec_m > open_m)
    known = ~np.isnat(sim.reported[idx]) & (rep_m[idx] == rec_m[idx])
    changed = np.where(known, sim.reported[idx], sim.received[idx])
    frames.append((idx, rec_m[idx], known, changed))
    # Definition rows reported in a later month than the practice's previous row.
    prev_m = np.maximum(rec_m, open_m)
    idx = np.flatnonzero(~np.isnat(sim.reported) & (rep_m > prev_m))
    frames.append((idx, rep_m[idx], np.ones(len(idx), bool), sim.reported[idx]))

    idx = np.concatenate([f[0] for f in frames])
    dmonth = np.concatenate([f[1] for f in frames])
    known = np.concatenate([f[2] for f in frames])
    changed = np.concatenate([f[3] for f in frames]).astype("datetime64[D]")
    # One numeric sort by (delivery month, practice): ids are serial in simulation order, so the index order is
    # the practice_id order (no string sort, no groupby); a practice has at most one row per delivery month.
    last_m = np.datetime64(last, "M")
    keep = dmonth <= last_m
    order = np.lexsort((idx[keep], dmonth[keep]))
    idx, dmonth, known, changed = idx[keep][order], dmonth[keep][order], known[keep][order], changed[keep][order]
    cols = {
        "practice_id": sim.practice_id[idx],
        "structure_code": ps_codes[sim.owner[idx]],
        "producing_structure_code": sim.producer[idx],
        "product_code": cat_codes[sim.product[idx]],
        "received_on": sim.received[idx],
        "entitlement_on": sim.entitlement[idx],
        "defined_on": np.where(known, sim.defined[idx], np.datetime64("NaT")).astype("datetime64[D]"),
        "outcome": np.where(known, sim.outcome[idx], None),
        "changed_on": changed,
        "project_tag": sim.project_tag[idx],
        "review_flag": sim.review_flag[idx],
        "applicant_tax_code": sim.tax_code[idx],
    }
    months, starts = np.unique(dmonth, return_index=True)
    ends = np.append(starts[1:], len(dmonth))
    return {
        pd.Timestamp(m).date(): pd.DataFrame({c: a[lo:hi] for c, a in cols.items()})
        for m, lo, hi in zip(months, starts, ends, strict=True)
    }
