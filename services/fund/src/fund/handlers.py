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
    the guarantee, the exposures, the invoice and which of its transfers are booked."""
    branches = [event.branch]
    match event:
        case ContractSigned():
            return dict(branches=branches, guarantees=[event.contract_id],
                        exposures=list(store.exposure_ids(event.branch, event.client.client_key,
                                                          event.member_id)),
                        transfers=contract_transfer_ids(event.contract_id))
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
async def read_what_the_batch_needs(events: list[Event], uow: UnitOfWork) -> None:
    needed: defaultdict[str, list[str]] = defaultdict(list)
    for event in events:
        for name, idents in documents_needed(event).items():
            needed[name] += idents
    await store.read_ahead(uow, **needed)


@handlers.on(ContractSigned)
async def decide_guarantee_for_contract(event: ContractSigned, uow: UnitOfWork) -> None:
    await guarantees.decide(uow, event)


@handlers.on(InvoiceIssued)
async def link_invoice_to_contract(event: InvoiceIssued, uow: UnitOfWork) -> None:
    await guarantees.note_invoice(uow, event)


@handlers.on(SalaryDue)
async def advance_salary_cost(event: SalaryDue, uow: UnitOfWork) -> None:
    await guarantees.advance_salary_cost(uow, event)


@handlers.on(ContractCancelled)
async def release_reservation(event: ContractCancelled, uow: UnitOfWork) -> None:
    await guarantees.release_reservation(uow, event)


@handlers.on(DebtWrittenOff)
async def absorb_loss(event: DebtWrittenOff, uow: UnitOfWork) -> None:
    await guarantees.absorb_loss(uow, event)
    await loans.note_write_off(uow, event)


@handlers.on(InvoicePaid)
async def recover_advance(event: InvoicePaid, uow: UnitOfWork) -> None:
    await contributions.recover_advance(uow, event)


@handlers.on(MemberActivated, MemberUpdated, MemberErased)
async def keep_contact(event: MemberActivated | MemberUpdated | MemberErased,
                       uow: UnitOfWork) -> None:
    await members.keep_contact(uow, event)
    await loans.note_membership(uow, event)


@handlers.on(InstalmentWithheld)
async def book_instalment(event: InstalmentWithheld, uow: UnitOfWork) -> None:
    await instalments.book_withheld(uow, event)


@handlers.on(LoanPaymentCollected)
async def book_case_payment(event: LoanPaymentCollected, uow: UnitOfWork) -> None:
    await recoveries.book_case_payment(uow, event)


@handlers.on(LoanWrittenOff)
async def absorb_loan_loss(event: LoanWrittenOff, uow: UnitOfWork) -> None:
    await recoveries.absorb_loan_loss(uow, event)
