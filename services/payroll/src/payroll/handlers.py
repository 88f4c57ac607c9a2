"""Events in: keep the projections payroll needs and decide each salary once all facts are in.

Contracts, guarantees and invoices come on different topics, so their order is not guaranteed:
every handler records its fact on the contract document, then asks whether the salary can now be
decided. A batch reads its contracts once, before its handlers run, and writes each projection
once, before it commits (``payroll.projections``).
"""

from __future__ import annotations

from typing import Any

from smart_shared.consumer import EventHandlers
from smart_shared.events import (
    ContractCancelled,
    ContractSigned,
    DirectDebitRequested,
    DirectDebitReturned,
    Event,
    GuaranteeDeclined,
    GuaranteeGranted,
    InstalmentDue,
    InvoiceIssued,
    InvoicePaid,
    LoanDefaulted,
    LoanRepaid,
    MemberActivated,
    MemberErased,
    MemberUpdated,
    WorkCompleted,
)
from smart_shared.mail import forget_mails_of
from smart_shared.mongo import Document, UnitOfWork
from smart_shared.projections import keep_if_newer
from smart_shared.telemetry import current_traceparent

from payroll.projections import Contracts, Invoices, MemberUpdates
from payroll.salaries import record, record_and_decide
from payroll.withholdings import (
    LoanDues,
    follow_direct_debit,
    note_instalment_due,
    stop_withholding,
)

handlers = EventHandlers()

CONTRACT_FACTS = (ContractSigned, WorkCompleted, ContractCancelled, GuaranteeGranted,
                  GuaranteeDeclined, InvoiceIssued, InvoicePaid)


@handlers.before_batch
async def read_contracts(events: list[Event], uow: UnitOfWork) -> None:
    """The contracts the batch's events are about, read with one query; their members' open
    loan instalments are read with one more once a salary falls due."""
    facts = [event for event in events if isinstance(event, CONTRACT_FACTS)]
    await uow.staged(Contracts).read(uow, [event.contract_id for event in facts])
    uow.staged(LoanDues).expect(event.member_id for event in facts)


# ------------------------------------------------------------------------------------ members


def _project_member(uow: UnitOfWork, member_id: str, version: int,
                    facts: dict[str, Any]) -> None:
    """Keep the member's facts unless the projection already holds this version or a newer one
    (a stale or repeated update): one conditional update, a new member inserted, sent with the
    batch's other member updates."""
    uow.staged(MemberUpdates).updates.append(keep_if_newer(member_id, version, facts))


@handlers.on(MemberActivated)
async def remember_activated_member(event: MemberActivated, uow: UnitOfWork) -> None:
    _project_member(uow, event.member_id, event.version, {
        "branch": event.branch,
        "payout": event.payout.model_dump(mode="json"),
        "activities": [a.model_dump(mode="json") for a in event.activities],
        "contact": event.contact.model_dump(mode="json") if event.contact else None,
        "erased": False,
    })


@handlers.on(MemberUpdated)
async def remember_member_update(event: MemberUpdated, uow: UnitOfWork) -> None:
    erased = event.status == "erased"
    _project_member(uow, event.member_id, event.version, {
        "branch": event.branch,
        "status": event.status,
        "payout": None if erased else event.payout.model_dump(mode="json"),
        "activities": [] if erased else [a.model_dump(mode="json") for a in event.activities],
        "contact": None if erased or not event.contact else event.contact.model_dump(mode="json"),
        "erased": erased,
    })


@handlers.on(MemberErased)
async def forget_erased_member(event: MemberErased, uow: UnitOfWork) -> None:
    # salaries and payment runs stay: payroll records must be kept by law
    _project_member(uow, event.member_id, event.version, {
        "branch": event.branch, "status": "erased", "payout": None, "activities": [],
        "contact": None, "erased": True,
    })
    await forget_mails_of(uow, event.member_id)


# ---------------------------------------------------------------------------------- contracts


@handlers.on(ContractSigned)
async def remember_signed_contract(event: ContractSigned, uow: UnitOfWork) -> None:
    await record_and_decide(uow, event.contract_id, event.branch, event.member_id, {
        "signed": True,
        "activity_kind": event.activity.kind,
        "activity": event.activity.model_dump(mode="json"),
        "amount_excl_vat": event.amount_excl_vat.model_dump(mode="json"),
        "expenses": event.expenses.model_dump(mode="json"),
        "first_work_day": event.first_work_day.isoformat(),
        "last_work_day": event.last_work_day.isoformat(),
        "work_days": [day.isoformat() for day in event.work_days],
    })


@handlers.on(WorkCompleted)
async def compute_salary_of_completed_work(event: WorkCompleted, uow: UnitOfWork) -> None:
    await record_and_decide(uow, event.contract_id, event.branch, event.member_id, {
        "completed": True,
        "last_work_day": event.last_work_day.isoformat(),
        "completed_at": event.completed_at,
        "traceparent": current_traceparent(),
    })


@handlers.on(ContractCancelled)
async def drop_cancelled_contract(event: ContractCancelled, uow: UnitOfWork) -> None:
    await record(uow, event.contract_id, event.branch, event.member_id, {
        "cancelled": True, "cancelled_at": event.cancelled_at,
    })


# --------------------------------------------------------------------------------------- fund


async def _remember_decision(uow: UnitOfWork, event: GuaranteeGranted | GuaranteeDeclined,
                             decision: str) -> None:
    # a stale or repeated decision (its version already known) changes nothing
    def newer(contract: Document) -> bool:
        known = contract.get("guarantee_version")
        return (0 if known is None else known) < event.version

    await record_and_decide(uow, event.contract_id, event.branch, event.member_id, {
        "guarantee": decision, "guarantee_version": event.version,
    }, only_if=newer)


@handlers.on(GuaranteeGranted)
async def pay_guaranteed_salary_on_time(event: GuaranteeGranted, uow: UnitOfWork) -> None:
    await _remember_decision(uow, event, "granted")


@handlers.on(GuaranteeDeclined)
async def wait_for_the_client_without_guarantee(event: GuaranteeDeclined, uow: UnitOfWork) -> None:
    await _remember_decision(uow, event, "declined")


# ------------------------------------------------------------------------------------ billing


@handlers.on(InvoiceIssued)
async def link_invoice_to_contract(event: InvoiceIssued, uow: UnitOfWork) -> None:
    uow.staged(Invoices).record(event.invoice_id, {
        "contract_id": event.contract_id, "branch": event.branch, "number": event.number,
    })
    await record(uow, event.contract_id, event.branch, event.member_id,
                 {"invoice_id": event.invoice_id})


@handlers.on(InvoicePaid)
async def release_salary_of_paid_invoice(event: InvoicePaid, uow: UnitOfWork) -> None:
    uow.staged(Invoices).record(event.invoice_id, {
        "contract_id": event.contract_id, "branch": event.branch,
        "paid_on": event.paid_on.isoformat(),
    })
    await record_and_decide(uow, event.contract_id, event.branch, event.member_id, {
        "invoice_id": event.invoice_id, "invoice_paid": True,
        "invoice_paid_on": event.paid_on.isoformat(),
    })


# ---------------------------------------------------------------------------------- fund loans


@handlers.on(InstalmentDue)
async def withhold_from_next_salaries(event: InstalmentDue, uow: UnitOfWork) -> None:
    await note_instalment_due(uow, event)


@handlers.on(LoanRepaid, LoanDefaulted)
async def stop_withholding_for_ended_loan(event: LoanRepaid | LoanDefaulted,
                                          uow: UnitOfWork) -> None:
    await stop_withholding(uow, event)


@handlers.on(DirectDebitRequested, DirectDebitReturned)
async def set_aside_while_debited(event: DirectDebitRequested | DirectDebitReturned,
                                  uow: UnitOfWork) -> None:
    await follow_direct_debit(uow, event)
