"""Events in → payroll's use cases."""

from __future__ import annotations

from smart_shared.consumer import EventHandlers
from smart_shared.events import (
    ContractCancelled,
    ContractSigned,
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
from smart_shared.mongo import UnitOfWork

from payroll.members import forget_erased_member, remember_member
from payroll.salaries import (
    record_contract_cancelled,
    record_contract_signed,
    record_guarantee_declined,
    record_guarantee_granted,
    record_invoice_issued,
    record_invoice_paid,
    record_work_completed,
)
from payroll.store import Contracts, LoanDues
from payroll.withholdings import note_instalment_due, stop_withholding

handlers = EventHandlers()

CONTRACT_FACTS = (ContractSigned, WorkCompleted, ContractCancelled, GuaranteeGranted,
                  GuaranteeDeclined, InvoiceIssued, InvoicePaid)


@handlers.before_batch
async def read_contracts(events: list[Event], uow: UnitOfWork) -> None:
    """The contracts the batch's events are about, read with one query, and written together
    before the commit; their members' open loan instalments are read with one more once a salary
    falls due."""
    facts = [event for event in events if isinstance(event, CONTRACT_FACTS)]
    await uow.staged(Contracts).read(uow, [event.contract_id for event in facts])
    uow.staged(LoanDues).expect(event.member_id for event in facts)


@handlers.on(MemberActivated)
async def member_activated(event: MemberActivated, uow: UnitOfWork) -> None:
    await remember_member(uow, event)


@handlers.on(MemberUpdated)
async def member_updated(event: MemberUpdated, uow: UnitOfWork) -> None:
    await remember_member(uow, event)


@handlers.on(MemberErased)
async def member_erased(event: MemberErased, uow: UnitOfWork) -> None:
    await forget_erased_member(uow, event)


@handlers.on(ContractSigned)
async def contract_signed(event: ContractSigned, uow: UnitOfWork) -> None:
    await record_contract_signed(uow, event)


@handlers.on(WorkCompleted)
async def work_completed(event: WorkCompleted, uow: UnitOfWork) -> None:
    await record_work_completed(uow, event)


@handlers.on(ContractCancelled)
async def contract_cancelled(event: ContractCancelled, uow: UnitOfWork) -> None:
    await record_contract_cancelled(uow, event)


@handlers.on(GuaranteeGranted)
async def guarantee_granted(event: GuaranteeGranted, uow: UnitOfWork) -> None:
    await record_guarantee_granted(uow, event)


@handlers.on(GuaranteeDeclined)
async def guarantee_declined(event: GuaranteeDeclined, uow: UnitOfWork) -> None:
    await record_guarantee_declined(uow, event)


@handlers.on(InvoiceIssued)
async def invoice_issued(event: InvoiceIssued, uow: UnitOfWork) -> None:
    await record_invoice_issued(uow, event)


@handlers.on(InvoicePaid)
async def invoice_paid(event: InvoicePaid, uow: UnitOfWork) -> None:
    await record_invoice_paid(uow, event)


@handlers.on(InstalmentDue)
async def instalment_due(event: InstalmentDue, uow: UnitOfWork) -> None:
    await note_instalment_due(uow, event)


@handlers.on(LoanRepaid, LoanDefaulted)
async def loan_ended(event: LoanRepaid | LoanDefaulted, uow: UnitOfWork) -> None:
    await stop_withholding(uow, event)
