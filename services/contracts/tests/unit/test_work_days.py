"""Work days: first in the future, at most seven per ISO week, none twice."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from contracts.domain import WorkDaysRefused, checked_work_days
from hypothesis import given
from hypothesis import strategies as st

TODAY = date(2026, 3, 2)


def test_work_days_come_back_sorted() -> None:
    days = [date(2026, 3, 5), date(2026, 3, 3), date(2026, 3, 4)]
    assert checked_work_days(days, TODAY) == sorted(days)


def test_work_cannot_start_today() -> None:
    with pytest.raises(WorkDaysRefused, match="future"):
        checked_work_days([TODAY, TODAY + timedelta(days=1)], TODAY)


def test_work_cannot_start_in_the_past() -> None:
    with pytest.raises(WorkDaysRefused, match="future"):
        checked_work_days([TODAY - timedelta(days=3)], TODAY)


def test_no_day_twice() -> None:
    with pytest.raises(WorkDaysRefused, match="more than once"):
        checked_work_days([date(2026, 3, 3), date(2026, 3, 3)], TODAY)


def test_at_least_one_day() -> None:
    with pytest.raises(WorkDaysRefused, match="at least one"):
        checked_work_days([], TODAY)


def test_work_more_than_two_years_ahead_is_refused() -> None:
    assert checked_work_days([TODAY + timedelta(days=731)], TODAY)
    with pytest.raises(WorkDaysRefused, match="too far ahead"):
        checked_work_days([TODAY + timedelta(days=1), TODAY + timedelta(days=732)], TODAY)
    with pytest.raises(WorkDaysRefused, match="too far ahead"):
        checked_work_days([date(9999, 12, 31)], TODAY)


def test_more_than_a_year_of_work_days_in_one_contract_is_refused() -> None:
    with pytest.raises(WorkDaysRefused, match="at most 366"):
        checked_work_days([TODAY + timedelta(days=i) for i in range(1, 368)], TODAY)


def test_more_than_seven_days_in_one_iso_week_are_refused() -> None:
    week = [date(2026, 3, 9) + timedelta(days=i) for i in range(7)]
    assert len(checked_work_days(week, TODAY)) == 7
    with pytest.raises(WorkDaysRefused, match="ISO week 2026-W11"):
        checked_work_days([*week, date(2026, 3, 11)], TODAY)


def test_a_week_spanning_new_year_counts_as_one_iso_week() -> None:
    days = [date(2026, 12, 28) + timedelta(days=i) for i in range(7)]  # Mon 28 Dec → Sun 3 Jan
    assert checked_work_days(days, TODAY)[-1] == date(2027, 1, 3)


@given(st.sets(st.integers(min_value=1, max_value=400), min_size=1, max_size=60))
def test_distinct_future_days_are_always_accepted(offsets: set[int]) -> None:
    days = [TODAY + timedelta(days=o) for o in offsets]
    result = checked_work_days(days, TODAY)
    assert result == sorted(days)
    assert result[0] > TODAY
