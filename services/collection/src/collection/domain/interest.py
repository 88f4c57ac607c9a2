"""Late interest: simple interest, actual/365, on the principal still outstanding each day."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise

from smart_shared.money import round2

from collection.domain.rules import RatePeriod

DAYS_IN_YEAR = Decimal(365)


class NoRateKnown(LookupError):
    """The rule pack has no late-interest rate for a day before its first period."""


@dataclass(frozen=True)
class BalanceChange:
    """From day ``on`` the principal still due is ``balance`` (after a payment or a credit note)."""

    on: date
    balance: Decimal


def rate_on(day: date, rates: Sequence[RatePeriod]) -> Decimal:
    """The yearly rate in force on ``day``.

    After the last period of the pack the last rate stays in force: the next half-year's rate is
    published later, and a newer rule pack then takes over.
    """
    for period in rates:
        if period.starts_on <= day <= period.ends_on:
            return period.rate.value
    if rates and day > rates[-1].ends_on:
        return rates[-1].rate.value
    raise NoRateKnown(f"no late-interest rate for {day.isoformat()}")


def balance_on(day: date, opening: Decimal, changes: Sequence[BalanceChange]) -> Decimal:
    """The principal due on ``day``: the last change dated on or before it, else ``opening``.

    ``changes`` are in the order they happened (billing's order), so on one day the last wins.
    """
    balance = opening
    for change in changes:
        if change.on <= day:
            balance = change.balance
    return max(balance, Decimal(0))


def late_interest(
    opening: Decimal,
    changes: Sequence[BalanceChange],
    accrues_from: date,
    until: date,
    rates: Sequence[RatePeriod],
) -> Decimal:
    """Interest for every day from ``accrues_from`` to ``until`` inclusive, rounded once at the end.

    Each day bears ``balance that day * yearly rate that day / 365``; a payment reduces the base
    from its own date, and a rate change (each half-year) applies from its first day.
    """
    if until < accrues_from:
        return Decimal("0.00")
    end = until + timedelta(days=1)
    breaks = {accrues_from, end}
    breaks.update(c.on for c in changes if accrues_from < c.on < end)
    breaks.update(p.starts_on for p in rates if accrues_from < p.starts_on < end)
    edges = sorted(breaks)
    total = Decimal(0)
    for start, stop in pairwise(edges):
        days = Decimal((stop - start).days)
        total += balance_on(start, opening, changes) * rate_on(start, rates) * days / DAYS_IN_YEAR
    return round2(total)
