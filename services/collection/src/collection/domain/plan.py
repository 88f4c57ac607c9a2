"""Payment plans: instalments that pause the schedule for as long as they are kept."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

MAX_INSTALMENTS = 36
PLAN_HORIZON = timedelta(days=1096)
"""How far ahead a plan may run (policy): three years, the 36 monthly instalments at most."""


@dataclass(frozen=True)
class Instalment:
    due_on: date
    amount: Decimal


def plan_errors(instalments: Sequence[Instalment], outstanding: Decimal,
                today: date) -> list[tuple[str, str]]:
    """Why a plan cannot be agreed, as (field, message) pairs; empty when it can: dates after
    ``today``, in order and within ``PLAN_HORIZON``, amounts adding up to ``outstanding``."""
    errors: list[tuple[str, str]] = []
    if not instalments:
        return [("instalments", "at least one instalment is needed")]
    if len(instalments) > MAX_INSTALMENTS:
        errors.append(("instalments", f"at most {MAX_INSTALMENTS} instalments"))
    latest = today + PLAN_HORIZON
    for index, instalment in enumerate(instalments):
        if instalment.due_on <= today:
            errors.append((f"instalments[{index}].due_on", "must be after today"))
        if instalment.due_on > latest:
            errors.append((f"instalments[{index}].due_on", f"must be on or before "
                           f"{latest.isoformat()}: a plan runs at most three years"))
        if index and instalment.due_on <= instalments[index - 1].due_on:
            errors.append((f"instalments[{index}].due_on",
                           "must be after the previous instalment's date"))
    total = sum((i.amount for i in instalments), Decimal(0))
    if total != outstanding:
        errors.append(("instalments",
                       f"amounts add up to {total}, not to the outstanding {outstanding}"))
    return errors


def first_unkept(instalments: Sequence[Instalment], paid: Decimal) -> Instalment | None:
    """The first instalment that the amount ``paid`` since the plan began does not cover yet."""
    due = Decimal(0)
    for instalment in instalments:
        due += instalment.amount
        if paid < due:
            return instalment
    return None


def missed_instalment(instalments: Sequence[Instalment], paid: Decimal,
                      today: date) -> Instalment | None:
    """The instalment whose date has passed while the total paid stays below the sum due by it."""
    unkept = first_unkept(instalments, paid)
    if unkept is not None and unkept.due_on < today:
        return unkept
    return None
