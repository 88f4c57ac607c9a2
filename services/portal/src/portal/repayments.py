"""A loan's repayment schedule as its pages show it: where each instalment stands and the
salaries it was withheld from. No I/O."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

ZERO = Decimal("0.00")
# a loan that ended leaves its unpaid instalments settled (repaid early) or lost (defaulted)
ENDED = {"repaid": "settled", "defaulted": "defaulted"}


@dataclass(frozen=True)
class Withholding:
    """A salary that paid (part of) an instalment: its pay date and what it withheld for loans."""

    salary_id: str
    pay_date: str | None = None
    withheld: Decimal | None = None


@dataclass(frozen=True)
class InstalmentRow:
    """One line of the schedule, and its state: ``withheld`` (paid from salaries), ``paid``,
    ``part`` (part withheld, the rest due), ``due``, ``upcoming``, ``settled`` or ``defaulted``."""

    number: int
    due_date: str
    amount: Decimal
    interest: Decimal
    capital: Decimal
    remaining: Decimal
    paid: Decimal
    state: str
    withheld_from: tuple[Withholding, ...]

    @property
    def outstanding(self) -> Decimal:
        return self.amount - self.paid


def _amount(money: Any) -> Decimal:
    if isinstance(money, Mapping):
        money = money.get("amount")
    return Decimal(str(money)) if money not in (None, "") else ZERO


def state_of(loan_status: str, amount: Decimal, paid: Decimal, fallen_due: bool,
             withheld: bool) -> str:
    """Where one instalment stands, from what the fund's schedule says of it."""
    if paid >= amount:
        return "withheld" if withheld else "paid"
    if loan_status in ENDED:
        return ENDED[loan_status]
    if paid > 0:
        return "part"
    return "due" if fallen_due else "upcoming"


def instalment_rows(loan: Mapping[str, Any],
                    salaries: Mapping[str, Mapping[str, Any]] | None = None,
                    ) -> list[InstalmentRow]:
    """The loan's schedule (the fund's ``schedule``), each instalment with its state and the
    member's salaries it was withheld from (``salaries`` by id, as payroll lists them)."""
    salaries = salaries or {}
    rows = []
    for entry in loan.get("schedule") or []:
        amount, paid = _amount(entry.get("amount")), _amount(entry.get("paid"))
        withheld_from = tuple(_withholding(salary_id, salaries.get(salary_id))
                              for salary_id in entry.get("withheld_from") or [])
        rows.append(InstalmentRow(
            number=int(entry["number"]), due_date=str(entry["due_date"]), amount=amount,
            interest=_amount(entry.get("interest")), capital=_amount(entry.get("capital")),
            remaining=_amount(entry.get("balance_after")), paid=paid,
            state=state_of(str(loan.get("status", "")), amount, paid,
                           bool(entry.get("announced")), bool(withheld_from)),
            withheld_from=withheld_from))
    return rows


def _withholding(salary_id: str, salary: Mapping[str, Any] | None) -> Withholding:
    if salary is None:
        return Withholding(salary_id)
    withheld = (salary.get("breakdown") or {}).get("loan_withheld")
    return Withholding(salary_id, salary.get("pay_date"),
                       _amount(withheld) if withheld else None)


def salaries_withheld(rows: Sequence[InstalmentRow]) -> list[Withholding]:
    """Each salary that paid the loan, once, in the order it did."""
    seen: dict[str, Withholding] = {}
    for row in rows:
        for withholding in row.withheld_from:
            seen.setdefault(withholding.salary_id, withholding)
    return list(seen.values())


def still_due(rows: Sequence[InstalmentRow]) -> Decimal:
    """What of the instalments fallen due is not paid yet."""
    return sum((row.outstanding for row in rows if row.state in ("due", "part")), ZERO)
