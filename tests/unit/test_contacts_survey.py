"""Generators of the contacts and survey families: determinism, calibration, contract shape, loading."""

from __future__ import annotations

import hashlib

import duckdb
import numpy as np
import pytest

from orchestration.ingest import load_inbox
from orchestration.synthetic import generate
from orchestration.synthetic.calendar import holidays
from orchestration.synthetic.reference import seed

FAMILIES = ("contacts", "survey")
SCALE = 0.003
CONTACTS_PER_YEAR = 12_000_000  # docs/decisions.md §14


def _digests(folder) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())
            if not p.name.startswith(".")}


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    out = tmp_path_factory.mktemp("cc_sample")
    generate(out, scale=SCALE, seed=5, families=FAMILIES)
    con = duckdb.connect()
    con.execute(
        "create table contacts as select *, regexp_extract(filename, 'contacts_(\\d{4}-\\d{2})', 1) as file_month "
        "from read_parquet(?, filename = true)",
        [str(out / "contacts_*.parquet")],
    )
    con.execute(
        "create table survey as select *, regexp_extract(filename, 'survey_(\\d{4}-\\d{2})', 1) as file_month "
        "from read_parquet(?, filename = true)",
        [str(out / "survey_*.parquet")],
    )
    yield type("Sample", (), {"dir": out, "con": con})
    con.close()


def one(con, sql):
    return con.execute(sql).fetchone()


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate(a, scale=0.001, seed=11, families=FAMILIES)
    generate(b, scale=0.001, seed=11, families=FAMILIES)
    generate(c, scale=0.001, seed=12, families=FAMILIES)
    da, db, dc = _digests(a), _digests(b), _digests(c)
    assert da == db
    assert any(n.startswith("contacts_") for n in da) and any(n.startswith("survey_") for n in da)
    assert da["contacts_2020-05.parquet"] != dc["contacts_2020-05.parquet"]


def test_contacts_per_year_calibrated_to_12_million_times_scale(sample):
    for year in (2020, 2021):
        (n,) = sample.con.execute(
            "select count(distinct contact_id) from contacts where year(opened_at) = ?", [year]
        ).fetchone()
        assert abs(n / (CONTACTS_PER_YEAR * SCALE) - 1) < 0.15, (year, n)
    # Every production structure and every channel of the seed gets contacts.
    assert one(sample.con, "select count(distinct structure_code), count(distinct channel_code) from contacts") \
        == (116, 4)


def test_delta_files_follow_the_contract(sample):
    con = sample.con
    files = [r[0] for r in con.execute("select distinct file_month from contacts order by 1").fetchall()]
    assert files[0] == "2019-12" and files[-1] == "2021-12" and len(files) == 25
    # changed_on within the delivery month; one row per contact per file; timestamps in order.
    assert one(con, "select count(*) from contacts where strftime(changed_on, '%Y-%m') <> file_month") == (0,)
    assert one(con, "select count(*) - count(distinct (contact_id, file_month)) from contacts") == (0,)
    assert one(con, "select count(*) from contacts where first_response_at < opened_at "
                    "or closed_at < first_response_at or (closed_at is not null and first_response_at is null)") \
        == (0,)
    # The status says what the timestamps say.
    assert one(con, """
        select count(*) from contacts where status <> case
            when closed_at is not null then 'closed'
            when first_response_at is not null then 'answered' else 'open' end""") == (0,)
    # No event after the file's month (it could not be known yet).
    assert one(con, "select count(*) from contacts where strftime(greatest(opened_at, "
                    "coalesce(first_response_at, opened_at), coalesce(closed_at, opened_at)), '%Y-%m') > file_month") \
        == (0,)
    # Opening file: every contact opened in the 12 months to its end, plus older ones still not closed.
    assert one(con, "select count(*) from contacts where file_month = '2019-12' and changed_on <> date '2019-12-31'") \
        == (0,)
    assert one(con, "select count(*) from contacts where file_month = '2019-12' "
                    "and opened_at < date '2019-01-01' and status = 'closed'") == (0,)
    (older_open,) = one(con, "select count(*) from contacts where file_month = '2019-12' "
                             "and opened_at < date '2019-01-01'")
    assert older_open > 0
    # Contacts opened after the opening month first appear in the file of their opening month.
    assert one(con, """
        select count(*) from (
            select contact_id, min(file_month) as first_file, strftime(min(opened_at), '%Y-%m') as opened_month
            from contacts group by contact_id
        ) where opened_month > '2019-12' and first_file <> opened_month""") == (0,)


def test_some_responses_are_reported_late(sample):
    # A response dated in an earlier month than the file that first shows it, while the contact's row in that
    # earlier month still said it was open.
    (late,) = one(sample.con, """
        select count(*) from contacts as c
        where c.first_response_at is not null
          and strftime(c.first_response_at, '%Y-%m') < c.file_month
          and exists (
              select 1 from contacts as p where p.contact_id = c.contact_id
              and p.file_month = strftime(c.first_response_at, '%Y-%m') and p.status = 'open')""")
    (responses,) = one(sample.con, "select count(distinct contact_id) from contacts "
                                   "where first_response_at is not null")
    assert 0.001 * responses < late < 0.05 * responses


def test_response_times_around_the_standards_and_improving(sample):
    df = sample.con.execute("""
        select channel_code, opened_at::date as opened_on, first_response_at::date as responded_on
        from contacts
        where first_response_at is not null
        qualify row_number() over (partition by contact_id order by file_month desc) = 1""").df()
    standard = seed("channel_standards").set_index("channel_code").standard_working_days.astype(int)
    # Working days in (opening day, response day], the definition the dbt model uses.
    days = np.busday_count(df.opened_on.to_numpy().astype("datetime64[D]") + 1,
                           df.responded_on.to_numpy().astype("datetime64[D]") + 1, holidays=holidays())
    df["within"] = days <= standard.reindex(df.channel_code).to_numpy()
    within = df.groupby(df.responded_on.dt.year).within.mean()
    # Most contacts are answered within the standard, some are not.
    assert 0.75 < within[2020] < 0.97 and 0.75 < within[2021] < 0.97
    # A slight year-on-year improvement, so the 2021 indices land a little above 100.
    assert within[2021] > within[2020]


def test_survey_waves_and_their_delivery_months(sample):
    con = sample.con
    waves = con.execute("select file_month, min(wave), max(wave), count(*), avg(overall_score), "
                        "min(overall_score), max(overall_score), avg((channel_code is null)::int) "
                        "from survey group by 1 order by 1").fetchall()
    # The previous year's wave comes with the opening month; 2020 in June; 2021 late, in October.
    assert [(w[0], w[1], w[2]) for w in waves] == [("2019-12", 2019, 2019), ("2020-06", 2020, 2020),
                                                  ("2021-10", 2021, 2021)]
    for _, _, _, n, mean, lo, hi, no_channel in waves:
        assert 500 < n < 3000  # a sample of users: a few thousand at scale 1, hardly smaller here
        assert 2.8 < mean < 3.8 and lo >= 1 and hi <= 5
        assert 0.1 < no_channel < 0.4
    assert one(con, "select count(*) - count(distinct response_id) from survey") == (0,)
    (f_null,) = one(con, "select avg((score_f1 is null)::int) from survey")
    assert 0.05 < f_null < 0.4


def test_loader_accepts_generated_contacts_and_survey_without_quarantine(env):
    generate(env.inbox, scale=0.001, seed=3, families=FAMILIES)
    results = load_inbox(env.inbox)
    assert len(results) == 28 and {r.outcome for r in results} == {"loaded"}
    assert sum(r.rows_rejected for r in results) == 0
    con = duckdb.connect(str(env.warehouse), read_only=True)
    try:
        assert con.execute("select count(*) from audit.quarantine").fetchone() == (0,)
        # Requesters land pseudonymised only.
        cols = {r[0] for r in con.execute("describe raw.contacts").fetchall()}
        assert "requester_pseudonym" in cols and "requester_tax_code" not in cols
        assert con.execute("select count(*) from raw.contacts where not regexp_matches(requester_pseudonym, "
                           "'^[0-9a-f]{64}$')").fetchone() == (0,)
        assert con.execute("select count(*) from raw.survey").fetchone()[0] > 1000
    finally:
        con.close()
