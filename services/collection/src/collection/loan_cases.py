"""Use cases of a member's defaulted loan: the case opened from the fund's ``LoanDefaulted``,
its letters to the member by the pack's days (``LoanReminderSent``), the payments staff record
(``LoanPaymentCollected``, which the fund books; everything paid closes the case) and the write-off
staff decide (``LoanWrittenOff``: the fund books the loss). Also the members' contacts, which is
how the member is written to, in their language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from smart_shared.auth import Principal, visible_or_404
from smart_shared.codec import stored_day
from smart_shared.events import (
    LoanDefaulted,
    LoanPaymentCollected,
    LoanReminderSent,
    LoanWrittenOff,
    MemberActivated,
    MemberErased,
    MemberUpdated,
)
from smart_shared.events.catalogue import Language, LoanReminderLevel
from smart_shared.ids import new_id
from smart_shared.mail import Mail, forget_mails_of, send_mail
from smart_shared.mail.render import default_language
from smart_shared.money import Money
from smart_shared.mongo import Document, UnitOfWork
from smart_shared.problems import conflict, invalid

from collection import store
from collection.domain import collection_rules
from collection.domain.loan_case import next_loan_step, payment_problem


async def keep_member_contact(uow: UnitOfWork,
                              event: MemberActivated | MemberUpdated | MemberErased) -> None:
    """The member's latest contact (latest version wins); erased: forgotten, with their mails."""
    if isinstance(event, MemberErased):
        await forget_mails_of(uow, event.member_id)
        contact = None
    else:
        contact = event.contact.model_dump(mode="json") if event.contact else None
    await store.keep_member_contact(uow, event.member_id, event.version, contact)


def _next(doc: Document) -> str | None:
    rules = collection_rules(doc["branch"], stored_day(doc["defaulted_on"])).loans
    assert rules is not None, "a branch that lends has a loan case schedule"
    step = next_loan_step(stored_day(doc["defaulted_on"]), len(doc["steps"]), rules)
    return step[1].isoformat() if step else None


async def open_loan_case(uow: UnitOfWork, event: LoanDefaulted) -> None:
    """Open the case of the member's defaulted loan, once, for what they owe."""
    if await store.loan_case_of(uow, event.loan_id):
        return
    outstanding = (event.outstanding or event.balance).amount
    doc: Document = {
        "_id": new_id(), "loan_id": event.loan_id, "member_id": event.member_id,
        "branch": event.branch, "owed": str(outstanding), "outstanding": str(outstanding),
        "paid": "0.00", "defaulted_on": event.defaulted_on.isoformat(),
        "opened_on": uow.clock.today().isoformat(), "status": "open", "steps": [],
        "payments": [], "version": 0, "closed_on": None,
    }
    doc["next_step_on"] = _next(doc)
    await store.insert_loan_case(uow, doc)


def _mail(doc: Document, contact: Document, level: LoanReminderLevel,
          language: Language) -> Mail:
    return Mail(
        cause=f"loan-case:{doc['_id']}:{level}", to=contact["email"], to_name=contact["name"],
        branch=doc["branch"], template="loan_case_letter", person_id=doc["member_id"],
        language=language,
        data={"name": contact["name"], "level": level, "loan_id": doc["loan_id"],
              "outstanding": Money.of(Decimal(doc["outstanding"])),
              "defaulted_on": stored_day(doc["defaulted_on"])})


async def take_loan_step(uow: UnitOfWork, case_id: str) -> int:
    """Write to the member the step due today (1), or nothing (0); the last step asks staff to
    follow up or write the loan off."""
    doc = await store.find_loan_case(uow, case_id)
    today = uow.clock.today()
    if not doc or doc["status"] != "open" or not doc.get("next_step_on") or \
            stored_day(doc["next_step_on"]) > today:
        return 0
    rules = collection_rules(doc["branch"], stored_day(doc["defaulted_on"])).loans
    assert rules is not None
    step = next_loan_step(stored_day(doc["defaulted_on"]), len(doc["steps"]), rules)
    assert step is not None
    level = step[0]
    contact = await store.member_contact(uow, doc["member_id"])
    language: Language = (contact or {}).get("language") or default_language(doc["branch"],
                                                                              today)
    if contact:
        send_mail(uow, _mail(doc, contact, level, language))
    version = int(doc["version"]) + 1
    uow.publish(LoanReminderSent(
        branch=doc["branch"], version=version, occurred_at=uow.clock.now(),
        loan_id=doc["loan_id"], member_id=doc["member_id"], case_id=case_id, level=level,
        outstanding=Money.of(Decimal(doc["outstanding"])), language=language, sent_on=today))
    steps = [*doc["steps"], {"level": level, "on": today.isoformat(),
                             "mailed": contact is not None}]
    await store.save_loan_case(uow, case_id, {
        "steps": steps, "level": level, "version": version,
        "next_step_on": _next({**doc, "steps": steps})})
    return 1


@dataclass(frozen=True)
class RecordLoanPayment:
    """Staff record what the member paid towards their defaulted loan."""

    principal: Principal
    case_id: str
    amount: Decimal
    received_on: date | None = None


@dataclass(frozen=True)
class WriteOffLoan:
    """Staff abandon what the member still owes on the loan."""

    principal: Principal
    case_id: str
    reason: str


async def _open_case(uow: UnitOfWork, principal: Principal, case_id: str) -> Document:
    doc = visible_or_404(principal, await store.find_loan_case(uow, case_id), "Loan case",
                         case_id)
    if doc["status"] != "open":
        raise conflict("The loan case is closed", f"Loan case {case_id} is {doc['status']}")
    return doc


async def record_loan_payment(uow: UnitOfWork, command: RecordLoanPayment) -> Document:
    """The member paid towards the loan (``LoanPaymentCollected``); all of it: the case is paid."""
    doc = await _open_case(uow, command.principal, command.case_id)
    outstanding = Decimal(doc["outstanding"])
    problem = payment_problem(command.amount, outstanding)
    if problem:
        raise invalid("amount", problem)
    today = uow.clock.today()
    received = command.received_on or today
    if received > today:
        raise invalid("received_on", "a payment is recorded once received")
    left = outstanding - command.amount
    payment_id = new_id()
    version = int(doc["version"]) + 1
    uow.publish(LoanPaymentCollected(
        branch=doc["branch"], version=version, occurred_at=uow.clock.now(),
        loan_id=doc["loan_id"], member_id=doc["member_id"], case_id=command.case_id,
        payment_id=payment_id, amount=Money.of(command.amount), outstanding=Money.of(left),
        received_on=received))
    changes: Document = {
        "outstanding": str(left), "paid": str(Decimal(doc["paid"]) + command.amount),
        "payments": [*doc["payments"], {"payment_id": payment_id,
                                        "amount": str(command.amount),
                                        "received_on": received.isoformat()}],
        "version": version}
    if left == 0:
        changes |= {"status": "paid", "closed_on": today.isoformat(), "next_step_on": None}
    await store.save_loan_case(uow, command.case_id, changes)
    return {**doc, **changes}


async def write_loan_off(uow: UnitOfWork, command: WriteOffLoan) -> Document:
    """Staff write off what the member still owes (``LoanWrittenOff``): the fund bears it."""
    doc = await _open_case(uow, command.principal, command.case_id)
    today = uow.clock.today()
    version = int(doc["version"]) + 1
    uow.publish(LoanWrittenOff(
        branch=doc["branch"], version=version, occurred_at=uow.clock.now(),
        loan_id=doc["loan_id"], member_id=doc["member_id"], case_id=command.case_id,
        amount=Money.of(Decimal(doc["outstanding"])), reason=command.reason,
        written_off_on=today))
    changes: Document = {"status": "written_off", "closed_on": today.isoformat(),
                         "next_step_on": None, "reason": command.reason, "version": version,
                         "written_off": doc["outstanding"]}
    await store.save_loan_case(uow, command.case_id, changes)
    return {**doc, **changes}
