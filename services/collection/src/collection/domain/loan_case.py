"""A member's defaulted loan in collection: its letters by the pack's days, its payments. No I/O.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from smart_shared.events.catalogue import LoanReminderLevel

from collection.domain.rules import LoanCaseRules

LOAN_LEVELS: tuple[LoanReminderLevel, ...] = ("default_notice", "reminder", "write_off_proposed")


def next_loan_step(defaulted_on: date, taken: int,
                   rules: LoanCaseRules) -> tuple[LoanReminderLevel, date] | None:
    """The case's next step after ``taken`` steps, and its day (None: every step is taken)."""
    if taken >= len(LOAN_LEVELS):
        return None
    level = LOAN_LEVELS[taken]
    days: int = getattr(rules, level).value
    return level, defaulted_on + timedelta(days=days)


def payment_problem(amount: Decimal, outstanding: Decimal) -> str | None:
    """Why a payment cannot be recorded on a case owing ``outstanding`` (None: it can)."""
    if amount > outstanding:
        return f"the member owes {outstanding}; record what they paid towards it"
    return None
