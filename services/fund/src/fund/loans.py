"""Microcredit and equipment leasing from the fund: a member applies, staff decide.

The member's standing is what the fund already knows from the events it consumes: their first
activation (members), the invoices issued for their contracts (billing), their debts written off
(collection), and the loans it made them itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from smart_shared.auth import Principal, visible_or_404
from smart_shared.codec import iso
from smart_shared.events import (
    DebtWrittenOff,
    LoanApplied,
    LoanApproved,
    LoanDeclined,
    MemberActivated,
    MemberErased,
    MemberUpdated,
    ScheduledInstalment,
)
from smart_shared.events.catalogue import Financing, LoanRefusal
from smart_shared.ids import new_id
from smart_shared.money import Money
from smart_shared.mongo import Document, UnitOfWork
from smart_shared.problems import Problem, conflict
from smart_shared.rulepacks import UnknownRulePack

from fund import store
from fund.domain.lending import (
    ZERO,
    Application,
    Instalment,
    LendingTerms,
    Standing,
    add_months,
    apr_of,
    refusals,
    schedule,
)
from fund.domain.rules import lending_terms

YEAR = timedelta(days=365)


@dataclass(frozen=True)
class ApplyForLoan:
    """What a member asks: a microcredit, or the lease of an item from a supplier."""

    branch: str
    member_id: str
    financing: Financing
    amount: Decimal
    months: int
    purpose: str
    item: str | None = None
    supplier: str | None = None
    supplier_iban: str | None = None
    residual: Decimal = ZERO


@dataclass(frozen=True)
class DecideLoan:
    """Staff approve an application, or decline it with the reason the member is given."""

    principal: Principal
    loan_id: str
    approve: bool
    reason: str | None = None


def terms_for(branch: str, day: date, financing: Financing, amount: Decimal) -> LendingTerms:
    """The pack's terms, or a 409 where the branch does not lend."""
    try:
        return lending_terms(branch, day, financing, amount)
    except UnknownRulePack:
        raise conflict("The branch does not lend",
                       f"Branch {branch} has no {financing} in its rules on {day}") from None


async def standing_of(uow: UnitOfWork, branch: str, member_id: str, loan_id: str,
                      today: date) -> Standing:
    """What the fund knows of the member today (not yet activated: a member since today)."""
    member_since, last_write_off = await store.borrower(uow, member_id)
    return Standing(
        member_since=member_since or today,
        turnover_last_year=await store.turnover_since(uow, branch, member_id, today - YEAR),
        last_write_off=last_write_off,
        loans_outstanding=await store.loans_outstanding(uow, branch, member_id, loan_id),
    )


def application_of(doc: Document) -> Application:
    return Application(doc["financing"], store.dec(doc["amount"]), int(doc["months"]),
                       store.dec(doc.get("residual")))


async def apply_for_loan(uow: UnitOfWork, command: ApplyForLoan) -> Document:
    """Record the application with the pack's refusals as they stand today; ``LoanApplied``."""
    today = uow.clock.today()
    terms = terms_for(command.branch, today, command.financing, command.amount)
    loan_id = new_id()
    application = Application(command.financing, command.amount, command.months,
                              command.residual)
    standing = await standing_of(uow, command.branch, command.member_id, loan_id, today)
    found = refusals(application, standing, terms, today)
    uow.publish(LoanApplied(
        branch=command.branch, version=1, occurred_at=uow.clock.now(), loan_id=loan_id,
        member_id=command.member_id, financing=command.financing,
        amount=Money.of(command.amount), months=command.months, purpose=command.purpose,
        item=command.item, supplier=command.supplier, residual=Money.of(command.residual),
        refusals=found, applied_on=today))
    store.save_loan(uow, loan_id, {
        "branch": command.branch, "member_id": command.member_id,
        "financing": command.financing, "amount": str(command.amount),
        "months": command.months, "purpose": command.purpose, "item": command.item,
        "supplier": command.supplier, "supplier_iban": command.supplier_iban,
        "residual": str(command.residual), "status": "applied",
        "refusals": list(found), "applied_on": iso(today), "version": 1,
    })
    return await _current(uow, loan_id)


async def decide_loan(uow: UnitOfWork, command: DecideLoan) -> Document:
    """Approve (only when none of the pack's conditions fails today) with its schedule, APR
    and cost (``LoanApproved``), or decline with a reason (``LoanDeclined``)."""
    doc = visible_or_404(command.principal, await store.find_loan(uow, command.loan_id),
                         "Loan", command.loan_id)
    if doc["status"] != "applied":
        raise conflict("The loan is decided already",
                       f"Loan {command.loan_id} is {doc['status']}")
    today = uow.clock.today()
    application = application_of(doc)
    terms = terms_for(doc["branch"], today, application.financing, application.amount)
    standing = await standing_of(uow, doc["branch"], doc["member_id"], command.loan_id, today)
    found = refusals(application, standing, terms, today)
    common: dict[str, Any] = dict(branch=doc["branch"], version=int(doc["version"]) + 1,
                                  occurred_at=uow.clock.now(), loan_id=command.loan_id,
                                  member_id=doc["member_id"])
    if not command.approve:
        uow.publish(LoanDeclined(**common, reason=command.reason or "", refusals=found,
                                 declined_on=today))
        store.save_loan(uow, command.loan_id, {
            "status": "declined", "reason": command.reason, "refusals": list(found),
            "decided_on": iso(today), "version": common["version"]})
        return await _current(uow, command.loan_id)
    if found:
        raise refused(command.loan_id, found)
    plan = schedule(application.amount, terms.annual_rate, application.months,
                    add_months(today, 1), application.residual)
    apr = apr_of(terms, application.amount, plan)
    repayable = sum((i.amount for i in plan), ZERO) + plan[-1].balance_after
    cost = sum((i.interest for i in plan), ZERO) + terms.fee
    uow.publish(LoanApproved(
        **common, financing=application.financing, amount=Money.of(application.amount),
        annual_rate=terms.annual_rate, apr=apr, fee=Money.of(terms.fee),
        total_repayable=Money.of(repayable), total_cost=Money.of(cost),
        max_withholding_share=terms.max_withholding_share,
        schedule=[scheduled(i) for i in plan], approved_on=today,
        mandate_id=mandate_id(command.loan_id), mandate_signed_on=today))
    store.save_loan(uow, command.loan_id, {
        "status": "approved", "refusals": [], "decided_on": iso(today),
        "annual_rate": str(terms.annual_rate), "apr": str(apr), "fee": str(terms.fee),
        "total_repayable": str(repayable), "total_cost": str(cost),
        "max_withholding_share": str(terms.max_withholding_share),
        "default_after_missed": terms.default_after_missed,
        "balance": str(application.amount),
        # the member signs the direct debit mandate with the loan agreement
        "mandate_id": mandate_id(command.loan_id), "mandate_signed_on": iso(today),
        "schedule": [scheduled(i).model_dump(mode="json") | {"paid": "0.00"} for i in plan],
        "version": common["version"]})
    return await _current(uow, command.loan_id)


def mandate_id(loan_id: str) -> str:
    """The loan's SEPA direct debit mandate reference (at most 35 characters)."""
    return "LOAN" + loan_id.replace("-", "")[:31].upper()


def refused(loan_id: str, found: list[LoanRefusal]) -> Problem:
    """The 409 of an approval the pack's conditions forbid, naming each."""
    return Problem(409, "The pack's conditions for the loan are not met",
                   f"Loan {loan_id} cannot be approved: {', '.join(found)}", "loan-refused",
                   refusals=list(found))


def scheduled(instalment: Instalment) -> ScheduledInstalment:
    return ScheduledInstalment(
        number=instalment.number, due_date=instalment.due,
        amount=Money.of(instalment.amount), capital=Money.of(instalment.capital),
        interest=Money.of(instalment.interest),
        balance_after=Money.of(instalment.balance_after))


async def _current(uow: UnitOfWork, loan_id: str) -> Document:
    doc = await store.find_loan(uow, loan_id)
    assert doc is not None
    return {**doc, "_id": loan_id}


async def note_membership(uow: UnitOfWork,
                          event: MemberActivated | MemberUpdated | MemberErased) -> None:
    """Remember since when the member is active (their first activation); erased: forgotten."""
    if isinstance(event, MemberActivated):
        store.note_member_since(uow, event.member_id, event.occurred_at.date())
    elif isinstance(event, MemberErased):
        store.forget_borrower(uow, event.member_id)


async def note_write_off(uow: UnitOfWork, event: DebtWrittenOff) -> None:
    """Remember the member's last debt written off (lending waits a year after one)."""
    store.note_write_off(uow, event.member_id, event.written_off_on)
