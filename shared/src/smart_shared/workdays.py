"""Working days: Monday to Friday, less the public holidays of a country (``holidays``)."""

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
