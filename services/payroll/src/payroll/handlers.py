"""Events in → payroll's use cases."""

from __future__ import annotations

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
from payroll.withholdings import follow_direct_debit, note_instalment_due, stop_withholding

handlers = EventHandlers()

CONTRACT_FACTS = (ContractSigned, WorkCompleted, ContractCancelled, GuaranteeGranted,
                  GuaranteeDeclined, InvoiceIssued, InvoicePaid)


@handlers.before_batch
async def read_contracts(uow: UnitOfWork, events: list[Event]) -> None:
    """The contracts the batch's events are about, read with one query, and written together
    before the commit; their members' open loan instalments are read with one more once a salary
    falls due."""
    facts = [event for event in events if isinstance(event, CONTRACT_FACTS)]
    await uow.staged(Contracts).read(uow, [event.contract_id for event in facts])
    uow.staged(LoanDues).expect(event.member_id for event in facts)


handlers.on(MemberActivated, MemberUpdated)(remember_member)
handlers.on(MemberErased)(forget_erased_member)
handlers.on(ContractSigned)(record_contract_signed)
handlers.on(WorkCompleted)(record_work_completed)
handlers.on(ContractCancelled)(record_contract_cancelled)
handlers.on(GuaranteeGranted)(record_guarantee_granted)
handlers.on(GuaranteeDeclined)(record_guarantee_declined)
handlers.on(InvoiceIssued)(record_invoice_issued)
handlers.on(InvoicePaid)(record_invoice_paid)
handlers.on(InstalmentDue)(note_instalment_due)
handlers.on(LoanRepaid, LoanDefaulted)(stop_withholding)
handlers.on(DirectDebitRequested, DirectDebitReturned)(follow_direct_debit)
