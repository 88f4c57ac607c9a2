"""Working days and pay dates: Monday to Friday, less the branch's public holidays."""

from __future__ import annotations

from datetime import date, timedelta

from smart_shared.workdays import is_working_day, working_days_after

__all__ = ["PAYMENT_RUN_HORIZON", "SIMULATION_HORIZON", "is_working_day", "pay_date_prepared_on",
           "working_day_before", "working_days_after"]


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
