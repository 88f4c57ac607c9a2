"""Events in → the fund's use cases (``guarantees``, ``contributions``, ``members``, ``loans``).

A whole batch of events runs in one transaction: before its handlers, the batch reads in one
command everything they all need (``read_what_the_batch_needs``), so a use case finds what it
reads known and only stages its changes, which the transaction writes once per collection just
before it commits.
"""

from __future__ import annotations

from collections import defaultdict

from smart_shared.consumer import EventHandlers
from smart_shared.events import (
    ContractCancelled,
    ContractSigned,
    DebtWrittenOff,
    Event,
    InstalmentWithheld,
    InvoiceIssued,
    InvoicePaid,
    LoanPaymentCollected,
    LoanWrittenOff,
    MemberActivated,
    MemberErased,
    MemberUpdated,
    SalaryDue,
)
from smart_shared.mongo import UnitOfWork

from fund import contributions, guarantees, instalments, loans, members, recoveries, store
from fund.domain import contract_transfer_ids, transfer_id

handlers = EventHandlers()


def documents_needed(event: Event) -> dict[str, list[str]]:
    """What handling ``event`` reads, as ``store.read_ahead`` arguments: the branch's balances,
    the guarantee, the exposures, the invoice and which of its transfers are booked (and the
    member's contact, should the guarantee be declined)."""
    branches = [event.branch]
    match event:
        case ContractSigned():
            return dict(branches=branches, guarantees=[event.contract_id],
                        exposures=list(store.exposure_ids(event.branch, event.client.client_key,
                                                          event.member_id)),
                        transfers=contract_transfer_ids(event.contract_id),
                        contacts=[event.member_id])  # read only if one is declined
        case InvoiceIssued():
            return dict(guarantees=[event.contract_id], invoices=[event.invoice_id])
        case InvoicePaid():
            return dict(branches=branches, guarantees=[event.contract_id],
                        invoices=[event.invoice_id],
                        transfers=[*contract_transfer_ids(event.contract_id),
                                   transfer_id("contribution", event.invoice_id)])
        case SalaryDue() if not event.guaranteed:
            return {}
        case SalaryDue() | ContractCancelled() | DebtWrittenOff():
            return dict(branches=branches, guarantees=[event.contract_id],
                        transfers=contract_transfer_ids(event.contract_id))
    return {}


@handlers.before_batch
async def read_what_the_batch_needs(uow: UnitOfWork, events: list[Event]) -> None:
    needed: defaultdict[str, list[str]] = defaultdict(list)
    for event in events:
        for name, idents in documents_needed(event).items():
            needed[name] += idents
    await store.read_ahead(uow, **needed)


handlers.on(ContractSigned)(guarantees.decide)
handlers.on(InvoiceIssued)(guarantees.note_invoice)
handlers.on(SalaryDue)(guarantees.advance_salary_cost)
handlers.on(ContractCancelled)(guarantees.release_reservation)
handlers.on(InvoicePaid)(contributions.recover_advance)
handlers.on(InstalmentWithheld)(instalments.book_withheld)
handlers.on(LoanPaymentCollected)(recoveries.book_case_payment)
handlers.on(LoanWrittenOff)(recoveries.absorb_loan_loss)


@handlers.on(DebtWrittenOff)
async def absorb_loss(uow: UnitOfWork, event: DebtWrittenOff) -> None:
    await guarantees.absorb_loss(uow, event)
    await loans.note_write_off(uow, event)


@handlers.on(MemberActivated, MemberUpdated, MemberErased)
async def keep_contact(uow: UnitOfWork,
                       event: MemberActivated | MemberUpdated | MemberErased) -> None:
    await members.keep_contact(uow, event)
    await loans.note_membership(uow, event)
