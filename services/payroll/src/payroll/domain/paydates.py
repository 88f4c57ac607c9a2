"""Working days and pay dates: Monday to Friday, less the branch's public holidays."""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

import holidays


@cache
def _public_holidays(calendar: str, year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays(calendar, years=year))


def is_working_day(day: date, calendar: str) -> bool:
    """Monday to Friday and not a public holiday of ``calendar`` (ISO country code)."""
    return day.weekday() < 5 and day not in _public_holidays(calendar, day.year)


def working_days_after(day: date, count: int, calendar: str) -> date:
    """The ``count``-th working day strictly after ``day`` (``day`` itself for a count of 0)."""
    current = day
    remaining = count
    while remaining > 0:
        current += timedelta(days=1)
        if is_working_day(current, calendar):
            remaining -= 1
    return current


def working_day_before(day: date, calendar: str) -> date:
    """The last working day strictly before ``day``."""
    current = day - timedelta(days=1)
    while not is_working_day(current, calendar):
        current -= timedelta(days=1)
    return current


def pay_date_prepared_on(today: date, calendar: str) -> date:
    """The pay date whose payment run is opened ``today``: the next working day, so the file is
    at the bank the working day before (on a weekend or holiday, a run missed the day before is
    opened late rather than never)."""
    return working_days_after(today, 1, calendar)


PAYMENT_RUN_HORIZON = timedelta(days=31)
"""How far ahead a payment run may be dated (policy): the bank executes a run on its date and the
run holds every salary due by then, so a distant date would hold back salaries due sooner."""
SIMULATION_HORIZON = timedelta(days=731)
"""How far ahead a salary may be simulated (policy): as far as a contract's work days may lie."""
