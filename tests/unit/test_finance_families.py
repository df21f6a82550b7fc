"""Generators of costs, revenue, measures and milestones: contract shape, determinism, calibration, loading."""

from __future__ import annotations

import importlib
from datetime import date

import numpy as np
import pandas as pd
import pytest

from orchestration.contract import family
from orchestration.synthetic import generate
from orchestration.synthetic.reference import Reference, seed

FAMILIES = ("costs", "revenue", "measures", "milestones")
SCALE = 0.003
OPENING, LAST = date(2020, 12, 1), date(2021, 12, 1)
TOLERANCE = 0.15  # docs/decisions.md §14: a generated year lands within +-15 % of the plan's national figures


@pytest.fixture(scope="module")
def ref():
    return Reference()


def run(ref, fam, seed_=11, scale=SCALE):
    module = importlib.import_module(f"orchestration.synthetic.{fam}")
    return module.deliveries(ref, scale, OPENING, LAST, np.random.default_rng(seed_))


def year_frame(ref, fam, scale=SCALE):
    return pd.concat(run(ref, fam, scale=scale).values(), ignore_index=True)


@pytest.mark.parametrize("fam", FAMILIES)
def test_months_columns_and_determinism(ref, fam):
    first, again, other = run(ref, fam), run(ref, fam), run(ref, fam, seed_=12)
    # One file per reporting month, none for the opening month, exactly the contract's columns.
    assert list(first) == [date(2021, m, 1) for m in range(1, 13)]
    for month, df in first.items():
        assert tuple(df.columns) == family(fam).column_names
        assert not df.empty
        pd.testing.assert_frame_equal(df, again[month])
    assert any(not first[m].equals(other[m]) for m in first)


def test_costs_calibration(ref):
    df = year_frame(ref, "costs")
    plan_total = (ref.target("IEEP.ENTRATE") + ref.target("IEEP.PRESTAZIONI")) / ref.target("PROFITABILITY")
    assert plan_total == pytest.approx(2.609e9, rel=0.001)
    assert df.amount_eur.sum() == pytest.approx(plan_total * SCALE, rel=TOLERANCE)
    litigation = df[df.cost_nature == "LITIGATION"].amount_eur.sum()
    assert litigation == pytest.approx(ref.target("IMP_LITIGATION") * SCALE, rel=TOLERANCE)
    shares = df.groupby("cost_class").amount_eur.sum() / df.amount_eur.sum()
    direct = shares["direct_production"] + shares["direct_other"]
    assert 100 * direct == pytest.approx(ref.target("DIRECT_COST_SHARE"), abs=1.5)
    assert 100 * shares["direct_production"] == pytest.approx(ref.target("DIRECT_PROD_COST_SHARE"), abs=1.5)
    # Closing entries only in December; every structure level the contract allows is charged.
    assert set(df[df.is_closing].month) == {date(2021, 12, 1)}
    levels = df.structure_code.map(ref.structures.set_index("structure_code").level)
    assert set(levels) == {"provincial", "regional", "central"}
    assert levels.value_counts(normalize=True)["provincial"] > 0.8
    # Each nature's class is the seed's.
    natures = seed("cost_natures").set_index("cost_nature").cost_class
    assert (df.cost_class == df.cost_nature.map(natures)).all()


def test_costs_scale_linearly(ref):
    small, big = year_frame(ref, "costs", scale=0.001), year_frame(ref, "costs", scale=0.002)
    assert big.amount_eur.sum() / small.amount_eur.sum() == pytest.approx(2.0, rel=1e-3)


def test_revenue_calibration(ref):
    df = year_frame(ref, "revenue")
    items = seed("ieep_items").set_index("item_code")
    leaves = items[items.is_leaf == "true"]
    assert set(df.item_code) == set(leaves.index)
    assert len(leaves) == 20  # the 19 IEEP leaf items and INSPECTION_COLLECTIONS
    assert (df.amount_eur > 0).all()
    sign = df.item_code.map(items.effective_sign.astype(int))
    section = df.item_code.map(items.section)
    ieep = (df.amount_eur * sign)[section != "inspection"].sum()
    assert ieep == pytest.approx(10.96e9 * SCALE, rel=TOLERANCE)
    assert ieep == pytest.approx(float(items.loc["ieep_total", "national_target_2021_eur"]) * SCALE, rel=TOLERANCE)
    inspection = df[section == "inspection"].amount_eur.sum()
    assert inspection == pytest.approx(ref.target("IMP_INSPECTION") * SCALE, rel=TOLERANCE)
    # Items keep their plan proportions (the biggest and a subtracted one).
    by_item = df.groupby("item_code").amount_eur.sum() / SCALE
    for item in ("contrib_assessed_flow_mgmt", "legal_interest_pension"):
        assert by_item[item] == pytest.approx(float(leaves.loc[item, "national_target_2021_eur"]), rel=TOLERANCE)
    # Regional entities in proportion to their IEEP targets; production structures and regional codes only.
    levels = df.structure_code.map(ref.structures.set_index("structure_code").level)
    assert set(levels) == {"provincial", "regional"}
    region = df.structure_code.map(ref.structures.set_index("structure_code").regional_entity_code)
    entrate = (df.amount_eur * sign)[section == "contribution_revenue"].groupby(region).sum() / SCALE
    assert entrate["lombardia"] == pytest.approx(ref.target("IEEP.ENTRATE", "lombardia"), rel=0.25)


def test_measures_levels_and_gaps(ref):
    months = run(ref, "measures")
    df = pd.concat(months.values(), ignore_index=True)
    codes = seed("measure_codes").set_index("measure_code")
    assert set(df.measure_code) == set(codes.index)
    level = df.structure_code.map(ref.structures.set_index("structure_code").level)
    for code, expected in codes.delivered_level.items():
        got = set(level[df.measure_code == code])
        # Disposals: the DRs plus the national remainder the plan does not assign to a DR.
        allowed = {expected, "national"} if code.startswith("DISPOSAL") else {expected}
        assert got <= allowed and expected in got, (code, got)
    # period_end is the month's last day; SOCIAL_FOLLOWERS is not delivered for April and May 2021.
    assert (pd.to_datetime(df.period_end) == pd.to_datetime(df.period_end) + pd.offsets.MonthEnd(0)).all()
    social = df[df.measure_code == "SOCIAL_FOLLOWERS"]
    assert sorted(pd.to_datetime(social.period_end).dt.month) == [1, 2, 3, 6, 7, 8, 9, 10, 11, 12]
    # Stocks near their targets, not scaled; flows scaled.
    dec = df[pd.to_datetime(df.period_end) == pd.Timestamp("2021-12-31")].set_index(["measure_code", "structure_code"])
    assert dec.loc[("SOCIAL_FOLLOWERS", "nazionale"), "value"] == pytest.approx(ref.target("I.2"), rel=0.1)
    assert dec.loc[("WELFARE_COVERAGE_PCT", "nazionale"), "value"] == pytest.approx(ref.target("C.2"), rel=0.1)
    works = df[df.measure_code == "WORKS_DELIVERED"].value.sum()
    assert works == pytest.approx(ref.target("C.3") * SCALE, rel=0.4)


def test_milestones_cover_register_and_rise(ref):
    df = year_frame(ref, "milestones")
    register = set(seed("project_leaf").project_id)
    assert set(df.project_id) == register
    assert df.completion.between(0, 1).all()
    df = df.sort_values(["project_id", "as_of"])
    assert (df.groupby("project_id").completion.diff().dropna() >= 0).all()
    year_end = df[df.as_of == date(2021, 12, 31)].set_index("project_id").completion
    assert set(year_end.index) == register  # the year-end report is never skipped
    assert (year_end == 1).mean() > 0.7 and (year_end < 0.8).any()
    assert not df.evidence.str.match(r"^[=+\-@]").any()


def test_loader_accepts_generated_files(env):
    from orchestration.ingest import load_inbox

    gen = generate(env.inbox, scale=SCALE, years=(2021,), seed=3, families=FAMILIES)
    assert set(gen.rows) == set(FAMILIES)
    results = load_inbox(env.inbox)
    assert len(results) == len(gen.files)
    assert {r.outcome for r in results} == {"loaded"}
    assert sum(r.rows_rejected for r in results) == 0
    assert sum(r.rows_accepted for r in results) == sum(gen.rows.values())
