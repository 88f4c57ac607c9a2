from datetime import date

import pytest
from payroll.domain import is_working_day, working_days_after


@pytest.mark.parametrize(
    ("last_work_day", "pay_date"),
    [
        (date(2026, 3, 2), date(2026, 3, 11)),  # a plain fortnight: Mon → Wed next week
        (date(2026, 4, 3), date(2026, 4, 15)),  # Easter Monday 6 April skipped
        (date(2026, 4, 24), date(2026, 5, 6)),  # Labour Day 1 May skipped
        (date(2026, 5, 8), date(2026, 5, 20)),  # Ascension Thursday 14 May skipped
        (date(2026, 12, 18), date(2026, 12, 30)),  # Christmas Friday 25 December skipped
        (date(2026, 12, 24), date(2027, 1, 6)),  # Christmas and New Year's Day both skipped
        (date(2026, 7, 17), date(2026, 7, 29)),  # National Day 21 July skipped
    ],
)
def test_belgian_pay_date_is_the_seventh_working_day_after_the_last_work_day(
    last_work_day: date, pay_date: date
) -> None:
    assert working_days_after(last_work_day, 7, "BE") == pay_date


def test_work_ending_on_a_weekend_counts_from_the_next_monday() -> None:
    assert working_days_after(date(2026, 3, 7), 7, "BE") == date(2026, 3, 17)


def test_french_holidays_differ_from_belgian_ones() -> None:
    # 8 May (Victoire 1945) is a French holiday only; 21 July a Belgian one only
    assert working_days_after(date(2026, 5, 6), 7, "FR") == date(2026, 5, 19)
    assert working_days_after(date(2026, 5, 6), 7, "BE") == date(2026, 5, 18)
    assert is_working_day(date(2026, 7, 21), "FR")
    assert not is_working_day(date(2026, 7, 21), "BE")
    assert not is_working_day(date(2026, 7, 14), "FR")


def test_a_delay_of_zero_working_days_is_the_day_itself() -> None:
    assert working_days_after(date(2026, 4, 6), 0, "BE") == date(2026, 4, 6)
