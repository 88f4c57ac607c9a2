"""Which day a payment run opens by itself: the working day before its pay date, so the SEPA
file is at the bank in time (Mon-Fri less the branch's public holidays)."""

from __future__ import annotations

from datetime import date

import pytest
from payroll.domain import pay_date_prepared_on, working_day_before


@pytest.mark.parametrize(("pay_date", "opens_on"), [
    (date(2026, 3, 11), date(2026, 3, 10)),  # Wednesday: Tuesday
    (date(2026, 3, 9), date(2026, 3, 6)),    # Monday: the Friday before
    (date(2026, 4, 7), date(2026, 4, 3)),    # Tuesday after Easter Monday (BE): the Friday
    (date(2026, 5, 15), date(2026, 5, 13)),  # Friday after Ascension Day (BE): Wednesday
    (date(2026, 7, 22), date(2026, 7, 20)),  # the day after the Belgian national day
])
def test_a_run_opens_the_belgian_working_day_before_its_pay_date(pay_date: date,
                                                                 opens_on: date) -> None:
    assert working_day_before(pay_date, "BE") == opens_on
    assert pay_date_prepared_on(opens_on, "BE") == pay_date


def test_on_a_weekend_the_run_of_the_next_working_day_is_the_one_to_open() -> None:
    # missed on Friday (a replica down): opened on Saturday, still before Monday's pay date
    assert pay_date_prepared_on(date(2026, 3, 7), "BE") == date(2026, 3, 9)
    assert pay_date_prepared_on(date(2026, 3, 8), "BE") == date(2026, 3, 9)


def test_the_french_calendar_has_its_own_holidays() -> None:
    # 14 July is a French public holiday, a working day in Belgium
    assert working_day_before(date(2026, 7, 15), "FR") == date(2026, 7, 13)
    assert working_day_before(date(2026, 7, 15), "BE") == date(2026, 7, 14)
