"""What a delivery invalidates: the pure functions behind the inbox sensor and the monthly close."""

from __future__ import annotations

from datetime import date

import pytest

from orchestration.defs.partitions import (
    add_months,
    clip_to_partitions,
    contiguous_ranges,
    invalidated_partitions,
    month_key,
    month_range,
    monthly_partitions,
    parse_month,
)


def test_month_helpers():
    assert parse_month("2021-03") == date(2021, 3, 1)
    assert parse_month("2021-03-27") == date(2021, 3, 1)
    assert parse_month(date(2021, 3, 27)) == date(2021, 3, 1)
    assert month_key(date(2021, 3, 27)) == "2021-03"
    assert add_months("2021-11", 2) == date(2022, 1, 1)
    assert add_months("2021-01", -1) == date(2020, 12, 1)
    assert month_range("2021-11", "2022-02") == ["2021-11", "2021-12", "2022-01", "2022-02"]
    assert month_range("2021-03", "2021-02") == []
    with pytest.raises(ValueError):
        parse_month("2021-13")
    with pytest.raises(ValueError):
        parse_month("March")


def test_a_late_march_event_invalidates_march_to_the_latest_month():
    assert invalidated_partitions("2021-03", "2021-06") == ["2021-03", "2021-04", "2021-05", "2021-06"]
    # A date inside the month is the same month.
    assert invalidated_partitions(date(2021, 3, 27), date(2021, 6, 1)) == ["2021-03", "2021-04", "2021-05", "2021-06"]


def test_a_delivery_of_the_latest_month_invalidates_only_that_month():
    assert invalidated_partitions("2021-07", "2021-07") == ["2021-07"]


def test_the_opening_month_is_never_closed():
    # The opening file's ledger row carries the first reporting month, but a late event inside a restated
    # opening-era file could still point earlier: the floor keeps the opening month load-only.
    assert invalidated_partitions("2020-11", "2021-02", first_kpi_month="2021-01") == ["2021-01", "2021-02"]
    assert invalidated_partitions("2021-01", "2021-02", first_kpi_month="2021-01") == ["2021-01", "2021-02"]
    assert invalidated_partitions("2020-12", "2020-12", first_kpi_month="2021-01") == []


def test_year_on_year_consumers_twelve_months_on():
    # Months up to `through` exist (closed already): March-June 2021 are read again in March-June 2022.
    got = invalidated_partitions("2021-03", "2021-06", through="2022-12")
    assert got == ["2021-03", "2021-04", "2021-05", "2021-06", "2022-03", "2022-04", "2022-05", "2022-06"]
    # Clipped at `through`.
    assert invalidated_partitions("2021-03", "2021-06", through="2022-04") == [
        "2021-03", "2021-04", "2021-05", "2021-06", "2022-03", "2022-04",
    ]
    # Running to the latest month already contains every consumer that exists.
    assert invalidated_partitions("2021-03", "2022-06") == month_range("2021-03", "2022-06")
    assert invalidated_partitions("2021-03", "2021-06", yoy_lag_months=1, through="2021-08") == month_range(
        "2021-03", "2021-07"
    )


def test_inverted_bounds_give_nothing():
    assert invalidated_partitions("2021-07", "2021-06") == []


def test_contiguous_ranges():
    assert contiguous_ranges([]) == []
    assert contiguous_ranges(["2021-05", "2021-03", "2021-04"]) == [("2021-03", "2021-05")]
    assert contiguous_ranges(["2021-03", "2021-04", "2022-03", "2021-12", "2022-01"]) == [
        ("2021-03", "2021-04"), ("2021-12", "2022-01"), ("2022-03", "2022-03"),
    ]


def test_clip_to_existing_partitions():
    first = monthly_partitions.get_first_partition_key()
    before = month_key(add_months(first, -1))
    assert clip_to_partitions([before, first], monthly_partitions) == [first]
    last = monthly_partitions.get_last_partition_key()
    assert clip_to_partitions([last, month_key(add_months(last, 1))], monthly_partitions) == [last]
