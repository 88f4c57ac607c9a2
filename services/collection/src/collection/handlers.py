"""Events in: billing's overdue invoices, payments and credit notes drive the dunning cases; the
fund's defaulted loans open the members' loan cases, written to with members' contacts."""

from __future__ import annotations

from smart_shared.consumer import EventHandlers
from smart_shared.events import Event
from smart_shared.events.catalogue import (
    CreditNoteIssued,
    DebtOverdue,
    InvoicePaid,
    LoanDefaulted,
    MemberActivated,
    MemberErased,
    MemberUpdated,
    PaymentReceived,
)
from smart_shared.money import Money
from smart_shared.mongo import UnitOfWork

from collection.dunning import BalanceFact, open_case, record_balance
from collection.loan_cases import keep_member_contact, open_loan_case
from collection.store import InvoiceFacts

handlers = EventHandlers()

INVOICE_EVENTS = (DebtOverdue, PaymentReceived, InvoicePaid, CreditNoteIssued)


@handlers.before_batch
async def read_invoice_facts(uow: UnitOfWork, events: list[Event]) -> None:
    """Read the facts and cases of all the batch's invoices at once, one query each."""
    await uow.staged(InvoiceFacts).read(
        uow, [event.invoice_id for event in events if isinstance(event, INVOICE_EVENTS)])


handlers.on(DebtOverdue)(open_case)


@handlers.on(PaymentReceived)
async def follow_payment(uow: UnitOfWork, event: PaymentReceived) -> None:
    await record_balance(uow, BalanceFact(
        event.invoice_id, event.branch, event.version, event.received_on,
        event.balance_due.amount, "payment", credit=event.credit.amount,
        detail=f"Payment {event.payment_id} of {event.amount} received",
    ))


@handlers.on(InvoicePaid)
async def close_paid_invoice(uow: UnitOfWork, event: InvoicePaid) -> None:
    await record_balance(uow, BalanceFact(
        event.invoice_id, event.branch, event.version, event.paid_on,
        Money.zero(event.total.currency).amount, "paid", detail="Invoice paid in full",
    ))


@handlers.on(CreditNoteIssued)
async def follow_credit_note(uow: UnitOfWork, event: CreditNoteIssued) -> None:
    await record_balance(uow, BalanceFact(
        event.invoice_id, event.branch, event.version, event.issue_date,
        event.balance_due.amount, "credit_note",
        detail=f"Credit note {event.number} of {event.amount}: {event.reason}",
    ))


handlers.on(LoanDefaulted)(open_loan_case)
handlers.on(MemberActivated, MemberUpdated, MemberErased)(keep_member_contact)
