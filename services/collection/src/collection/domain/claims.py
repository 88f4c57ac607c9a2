"""What a reminder claims: the principal still due, late interest and compensation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from smart_shared.events.catalogue import ReminderLevel

from collection.domain.damages import book_xix_damages
from collection.domain.interest import BalanceChange, balance_on, late_interest
from collection.domain.rules import DebtorRules
from collection.domain.schedule import CaseState

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Claim:
    outstanding: Decimal
    interest: Decimal
    compensation: Decimal

    @property
    def total(self) -> Decimal:
        return self.outstanding + self.interest + self.compensation

    @property
    def beyond_principal(self) -> Decimal:
        return self.interest + self.compensation


def interest_accrues_from(state: CaseState, on: date, rules: DebtorRules) -> date:
    """First day of interest: the day after the due date (business), or the day after the first
    step that claimed costs (consumer; that step may be the one being taken)."""
    if rules.interest_from.value == "due_date":
        return state.due_date + timedelta(days=1)
    first_claim = next((s.on for s in state.steps if rules.claims_costs_at(s.level)), on)
    return first_claim + timedelta(days=1)


def claim_at(
    state: CaseState,
    level: ReminderLevel,
    on: date,
    opening: Decimal,
    changes: Sequence[BalanceChange],
    rules: DebtorRules,
) -> Claim:
    """The amounts a step taken on day ``on`` claims.

    Before ``claims_from`` only the principal is claimed. From then on: interest on the principal
    still due each day, and the fixed compensation (business) or Book XIX damages on the balance
    (Belgian consumers).
    """
    outstanding = balance_on(on, opening, changes)
    if not rules.claims_costs_at(level) or outstanding <= 0:
        return Claim(outstanding, ZERO, ZERO)
    accrues_from = interest_accrues_from(state, on, rules)
    interest = late_interest(opening, changes, accrues_from, on, rules.interest_rates)
    compensation = ZERO
    if rules.fixed_compensation is not None:
        compensation = rules.fixed_compensation.value
    elif rules.damages is not None:
        compensation = book_xix_damages(outstanding, rules.damages)
    return Claim(outstanding, interest, compensation)
