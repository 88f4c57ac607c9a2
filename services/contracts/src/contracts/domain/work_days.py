"""Work days: the dates the member works for the client, and the rules they follow."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

MAX_DAYS_PER_ISO_WEEK = 7
MAX_WORK_DAYS = 366
WORK_DAYS_HORIZON = timedelta(days=731)
"""How far ahead work may be contracted (policy): two years covers any engagement a member plans;
a later date is a typing error, and no rule pack, declaration or guarantee can be known for it."""


class WorkDaysRefused(ValueError):
    """The work days break a rule; the message says which."""


def checked_work_days(days: list[date], today: date) -> list[date]:
    """The work days sorted, or ``WorkDaysRefused``: at least one and at most ``MAX_WORK_DAYS``,
    the first after ``today`` (work must start in the future), the last within
    ``WORK_DAYS_HORIZON`` of it, at most seven per ISO week, none twice."""
    if not days:
        raise WorkDaysRefused("at least one work day is needed")
    if len(days) > MAX_WORK_DAYS:
        raise WorkDaysRefused(f"at most {MAX_WORK_DAYS} work days per contract")
    per_week = Counter(day.isocalendar()[:2] for day in days)
    for (year, week), count in sorted(per_week.items()):
        if count > MAX_DAYS_PER_ISO_WEEK:
            raise WorkDaysRefused(
                f"{count} work days in ISO week {year}-W{week:02d}; at most "
                f"{MAX_DAYS_PER_ISO_WEEK} per week"
            )
    repeated = sorted(day for day, count in Counter(days).items() if count > 1)
    if repeated:
        raise WorkDaysRefused(f"{repeated[0].isoformat()} is listed more than once")
    ordered = sorted(days)
    if ordered[0] <= today:
        raise WorkDaysRefused(
            f"work must start in the future: the first work day {ordered[0].isoformat()} is not "
            f"after today {today.isoformat()}"
        )
    latest = today + WORK_DAYS_HORIZON
    if ordered[-1] > latest:
        raise WorkDaysRefused(
            f"the last work day {ordered[-1].isoformat()} is too far ahead: work days must be on "
            f"or before {latest.isoformat()}, two years from today"
        )
    return ordered
