"""A disbursed loan's instalments: announced on their due dates (``InstalmentDue``), booked as
payroll withholds them (``InstalmentPaid``), the loan repaid (``LoanRepaid``) or, after the
pack's number of missed instalments, defaulted and its balance lost (``LoanDefaulted``).

Each repayment's transfers have ids from the loan, the instalment and the salary it was withheld
from, and the instalment remembers those salaries: the same withholding books once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from smart_shared.auth import Principal, visible_or_404
from smart_shared.codec import iso, stored_day
from smart_shared.events import (
    InstalmentDue,
    InstalmentPaid,
    InstalmentWithheld,
    LoanDefaulted,
    LoanRepaid,
)
from smart_shared.money import Money
from smart_shared.mongo import Document, UnitOfWork
from smart_shared.problems import conflict

from fund import store
from fund.domain.lending import add_months, early_repayment
from fund.domain.loan import Due, allocate, missed, repayment_transfers
from fund.loans import terms_for

log = logging.getLogger("fund.instalments")


def plan_of(schedule: list[Document]) -> list[Due]:
    return [Due(int(entry["number"]), stored_day(entry["due_date"]),
                store.dec(entry["capital"]["amount"]), store.dec(entry["interest"]["amount"]),
                store.dec(entry.get("paid")), bool(entry.get("debiting")))
            for entry in schedule]


def next_check(schedule: list[Document], today: date) -> str | None:
    """The first day something can change: an instalment falls due, or an unpaid one is missed."""
    plan = plan_of(schedule)
    days = []
    for index, (entry, due) in enumerate(zip(schedule, plan, strict=True)):
        if not entry.get("announced"):
            days.append(due.due)
        elif due.outstanding > 0:
            deadline = plan[index + 1].due if index + 1 < len(plan) else add_months(due.due, 1)
            if deadline > today:
                days.append(deadline)
    return iso(min(days)) if days else None


def interest_fallen_due(schedule: list[Document], today: date) -> Decimal:
    """The interest of the instalments fallen due by ``today`` and not paid yet."""
    return sum((allocate(due, due.outstanding)[1] for due in plan_of(schedule)
                if due.due <= today), Decimal("0.00"))


def loan_event_fields(doc: Document, version: int, uow: UnitOfWork) -> dict[str, Any]:
    return dict(branch=doc["branch"], version=version, occurred_at=uow.clock.now(),
                loan_id=doc["_id"], member_id=doc["member_id"])


async def announce_due(uow: UnitOfWork, loan_id: str) -> int:
    """Publish the loan's instalments fallen due by the platform clock, and default the loan
    once the pack's number of them are missed; the number of events published."""
    doc = await store.find_loan(uow, loan_id)
    if not doc or doc["status"] != "disbursed":
        return 0
    doc = {**doc, "_id": loan_id}
    today = uow.clock.today()
    schedule = [dict(entry) for entry in doc["schedule"]]
    version = int(doc["version"])
    published = 0
    for entry, due in zip(schedule, plan_of(schedule), strict=True):
        if entry.get("announced") or due.due > today:
            continue
        version += 1
        published += 1
        uow.publish(InstalmentDue(
            **loan_event_fields(doc, version, uow), number=due.number, due_date=due.due,
            amount=Money.of(due.outstanding),
            max_withholding_share=Decimal(doc["max_withholding_share"])))
        entry["announced"] = True
    changes: dict[str, Any] = {"schedule": schedule, "next_check": next_check(schedule, today)}
    count = missed(plan_of(schedule), today)
    if count >= int(doc["default_after_missed"]):
        balance = store.dec(doc["balance"])
        interest = interest_fallen_due(schedule, today)
        version += 1
        published += 1
        # the loss waits for the collection case: paid, or written off
        uow.publish(LoanDefaulted(**loan_event_fields(doc, version, uow), missed=count,
                                  balance=Money.of(balance),
                                  outstanding=Money.of(balance + interest),
                                  defaulted_on=today))
        changes |= {"status": "defaulted", "defaulted_on": iso(today), "next_check": None,
                    "interest_due": str(interest)}
    store.save_loan(uow, loan_id, changes | {"version": version})
    return published


async def book_withheld(uow: UnitOfWork, event: InstalmentWithheld) -> None:
    """Book what payroll withheld for an instalment; the loan repaid once every one is paid."""
    await book_repayment(uow, Repayment(event.loan_id, event.number, event.amount.amount,
                                        cause=event.salary_id, salary_id=event.salary_id))


@dataclass(frozen=True)
class Repayment:
    """Money received for one instalment: withheld from a salary, or collected by direct debit
    (``cause`` is that salary or file, so the same money books once)."""

    loan_id: str
    number: int
    amount: Decimal
    cause: str
    salary_id: str | None = None
    collection_id: str | None = None


async def book_repayment(uow: UnitOfWork, repayment: Repayment) -> Decimal:
    """Book a repayment of an instalment (``InstalmentPaid``), the loan repaid once every one
    is paid; what was booked (nothing beyond what the instalment still owes)."""
    loan_id, number = repayment.loan_id, repayment.number
    doc = await store.find_loan(uow, loan_id)
    if not doc or doc["status"] != "disbursed":
        log.warning("repayment %s for loan %s, which is not being repaid", repayment.cause,
                    loan_id)
        return Decimal("0.00")
    doc = {**doc, "_id": loan_id}
    schedule = [dict(entry) for entry in doc["schedule"]]
    if number > len(schedule):
        log.warning("loan %s has no instalment %s", loan_id, number)
        return Decimal("0.00")
    entry = schedule[number - 1]
    if repayment.cause in entry.get("withheld_from", []):
        return Decimal("0.00")  # booked already
    due = plan_of(schedule)[number - 1]
    capital, interest = allocate(due, repayment.amount)
    if capital + interest == 0:
        log.warning("%s paid %s for instalment %s of loan %s, already paid", repayment.cause,
                    repayment.amount, number, loan_id)
        return Decimal("0.00")
    await store.book_all(uow, repayment_transfers(doc["branch"], loan_id, number,
                                                  repayment.cause, capital, interest))
    today = uow.clock.today()
    entry["paid"] = str(due.paid + capital + interest)
    entry["withheld_from"] = [*entry.get("withheld_from", []), repayment.cause]
    balance = store.dec(doc["balance"]) - capital
    version = int(doc["version"]) + 1
    uow.publish(InstalmentPaid(
        **loan_event_fields(doc, version, uow), number=number,
        amount=Money.of(capital + interest), capital=Money.of(capital),
        interest=Money.of(interest), salary_id=repayment.salary_id,
        collection_id=repayment.collection_id,
        instalment_outstanding=Money.of(due.outstanding - capital - interest),
        balance=Money.of(balance), paid_on=today))
    changes: dict[str, Any] = {"schedule": schedule, "balance": str(balance),
                               "next_check": next_check(schedule, today)}
    if all(d.outstanding == 0 for d in plan_of(schedule)):
        version += 1
        uow.publish(LoanRepaid(**loan_event_fields(doc, version, uow), repaid_on=today))
        changes |= {"status": "repaid", "repaid_on": iso(today), "next_check": None}
    store.save_loan(uow, loan_id, changes | {"version": version})
    return capital + interest


@dataclass(frozen=True)
class RepayEarly:
    """Staff record that the member repaid the whole loan early, at the quoted price."""

    principal: Principal
    loan_id: str


def early_price(doc: Document, today: date) -> dict[str, Decimal]:
    """What repaying the loan today costs: the capital still owed, the interest of the
    instalments fallen due and not paid yet, and the pack's indemnity on the capital."""
    terms = terms_for(doc["branch"], today, doc["financing"], store.dec(doc["amount"]))
    balance = store.dec(doc["balance"])
    interest_due = interest_fallen_due(doc["schedule"], today)
    total = early_repayment(balance, terms.early_repayment_indemnity) + interest_due
    return {"balance": balance, "interest_due": interest_due,
            "indemnity": total - balance - interest_due, "total": total}


async def early_repayment_quote(uow: UnitOfWork, principal: Principal,
                                loan_id: str) -> dict[str, Decimal]:
    doc = visible_or_404(principal, await store.find_loan(uow, loan_id), "Loan", loan_id)
    if doc["status"] != "disbursed":
        raise conflict("The loan is not being repaid", f"Loan {loan_id} is {doc['status']}")
    return early_price(doc, uow.clock.today())


async def repay_early(uow: UnitOfWork, command: RepayEarly) -> dict[str, Decimal]:
    """Book the early repayment (capital back, interest and indemnity as income): the loan is
    repaid (``LoanRepaid``) and no instalment falls due any more."""
    price = await early_repayment_quote(uow, command.principal, command.loan_id)
    doc = {**(await store.find_loan(uow, command.loan_id) or {}), "_id": command.loan_id}
    income = price["interest_due"] + price["indemnity"]
    await store.book_all(uow, repayment_transfers(doc["branch"], command.loan_id, 0, "early",
                                                  price["balance"], income))
    today = uow.clock.today()
    version = int(doc["version"]) + 1
    uow.publish(LoanRepaid(**loan_event_fields(doc, version, uow), repaid_on=today))
    store.save_loan(uow, command.loan_id, {
        "status": "repaid", "repaid_on": iso(today), "repaid_early": True, "next_check": None,
        "balance": "0.00", "early_repayment": {k: str(v) for k, v in price.items()},
        "version": version})
    return price
