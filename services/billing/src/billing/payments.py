"""Booking client payments against invoices, and parking those that match none."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from smart_shared.codec import iso
from smart_shared.events.catalogue import InvoicePaid, PaymentReceived
from smart_shared.ids import new_id
from smart_shared.mail import send_mail
from smart_shared.money import Money
from smart_shared.mongo import Document, UnitOfWork
from smart_shared.problems import conflict, invalid, not_found
from smart_shared.rulepacks import UnknownRulePack, rule_pack
from smart_shared.telemetry import start_linked_trace

from billing.domain.balance import payment_outcome
from billing.mails import receipt_mail
from billing.store import (
    Invoice,
    account_fields,
    booked_dedup_keys,
    find_branch_invoice,
    insert_parked_payment,
    insert_parked_payments,
    insert_payment,
    insert_payments,
    invoices_by_reference,
    parked_payment_exists,
    read_invoice,
    take_parked_payment,
    update_invoice,
    update_invoices,
)
from billing.write_offs import vat_due_again_after

Outcome = Literal["matched", "partially_paid", "overpaid", "unmatched", "already_booked"]


@dataclass(frozen=True)
class IncomingPayment:
    """Money received on the branch's account, from the API or a bank statement line."""

    branch: str
    amount: Decimal
    currency: str
    received_on: date
    payer_iban: str | None
    payer_name: str | None
    reference: str | None
    source: str
    dedup_key: str | None = None


def refused_payment_date(branch: str, day: date, today: date) -> str | None:
    """Why money cannot have reached ``branch``'s account on ``day``, or None: not after
    ``today`` (the platform clock), not before the branch's first rule pack (no invoice of the
    branch could exist before it)."""
    if day > today:
        return "is in the future"
    try:
        rule_pack(branch, day)
    except UnknownRulePack:
        return f"is before branch {branch} invoiced anything"
    return None


class StatementBookings:
    """A statement's invoices, read with one query, and its bookings, written once just before
    the commit: the payments with one insert, the parked ones with another, the invoices'
    changes with one bulk write, each still conditional on the version it was booked against.
    Two lines paying the same invoice see each other: the second is booked on the invoice as
    the first left it."""

    def __init__(self) -> None:
        self._by_reference: dict[tuple[str, str], Document | None] = {}
        self._payments: list[Document] = []
        self._parked: list[Document] = []
        self._changes: list[tuple[str, int, Document]] = []

    async def read(self, uow: UnitOfWork, branch: str, references: list[str]) -> None:
        """Read the branch's invoices with these structured communications, in one query."""
        wanted = [r for r in dict.fromkeys(references) if (branch, r) not in self._by_reference]
        if not wanted:
            return
        found = await invoices_by_reference(uow, branch, wanted)
        for reference in wanted:
            self._by_reference[(branch, reference)] = found.get(reference)

    async def find(self, uow: UnitOfWork, branch: str, reference: str) -> Invoice | None:
        await self.read(uow, branch, [reference])
        return read_invoice(self._by_reference[(branch, reference)])

    def book(self, invoice: Invoice, payment: Document, changes: Document) -> None:
        self._payments.append(payment)
        self._changes.append((invoice.invoice_id, invoice.version, changes))
        known = self._by_reference.get((invoice.branch, invoice.structured_reference or ""))
        if known is not None and known["_id"] == invoice.invoice_id:
            known.update(changes)

    def park(self, parked: Document) -> None:
        self._parked.append(parked)

    async def write(self, uow: UnitOfWork) -> None:
        payments, self._payments = self._payments, []
        parked, self._parked = self._parked, []
        changes, self._changes = self._changes, []
        await insert_payments(uow, payments)
        await insert_parked_payments(uow, parked)
        await update_invoices(uow, changes, "the booking of a statement")


async def find_invoice(
    uow: UnitOfWork, branch: str, invoice_id: str | None = None, reference: str | None = None,
    bookings: StatementBookings | None = None,
) -> Invoice | None:
    """The branch's invoice with this id or this structured communication."""
    if bookings is not None and reference and not invoice_id:
        return await bookings.find(uow, branch, reference)
    return await find_branch_invoice(uow, branch, invoice_id, reference)


async def booked_keys(uow: UnitOfWork, dedup_keys: list[str]) -> set[str]:
    """The keys among ``dedup_keys`` of payments already booked or parked (a query each)."""
    return await booked_dedup_keys(uow, dedup_keys)


async def book_payment(
    uow: UnitOfWork, invoice: Invoice, payment: IncomingPayment,
    bookings: StatementBookings | None = None,
) -> dict[str, Any]:
    """Book ``payment`` on ``invoice`` → ``PaymentReceived``, and ``InvoicePaid`` when it settles
    the balance. A surplus stays on the invoice as the client's credit. With ``bookings`` (a
    statement's), the writes are made with the statement's others, before the commit."""
    before = invoice.account
    after = before.pay(payment.amount)
    outcome = payment_outcome(before, after)
    payment_id = new_id()
    now = uow.clock.now()
    document: Document = {
        "_id": payment_id,
        "branch": invoice.branch,
        "invoice_id": invoice.invoice_id,
        "amount": str(payment.amount),
        "currency": payment.currency,
        "received_on": iso(payment.received_on),
        "payer_iban": payment.payer_iban,
        "payer_name": payment.payer_name,
        "reference": payment.reference,
        "source": payment.source,
        "dedup_key": payment.dedup_key,
        "booked_at": now,
    }
    version = invoice.version + 1
    changes: dict[str, Any] = {**account_fields(after), "version": version,
                               **vat_due_again_after(invoice, payment.amount)}
    # a written-off claim stayed due: paying it settles it like any other
    settles = after.settled and invoice.status in ("open", "written_off")
    if settles:
        changes.update(status="paid", paid_on=iso(payment.received_on), overdue_watch=False)
        version += 1
        changes["version"] = version
    if bookings is not None:
        bookings.book(invoice, document, changes)
    else:
        await insert_payment(uow, document)
        await update_invoice(uow, invoice, changes, "the booking")
    common = {"branch": invoice.branch, "occurred_at": now, "invoice_id": invoice.invoice_id,
              "contract_id": invoice.contract_id, "member_id": invoice.member_id or ""}
    # a payment starts a trace of its own, linked to the contract's and to the request or the
    # statement import: months of payments never grow the contract's trace
    with start_linked_trace("book payment", invoice.traceparent,
                            attributes={"invoice_id": invoice.invoice_id}):
        uow.publish(PaymentReceived(
            **common, version=invoice.version + 1, payment_id=payment_id,
            amount=Money.of(payment.amount, payment.currency), received_on=payment.received_on,
            balance_due=invoice.money(after.balance_due), credit=invoice.money(after.credit),
        ))
        if settles:
            uow.publish(InvoicePaid(
                **common, version=version, amount_excl_vat=invoice.money(invoice.amount_excl_vat),
                total=invoice.money(invoice.total), paid_on=payment.received_on,
            ))
    if settles:
        send_mail(uow, receipt_mail(invoice, payment.received_on))
    return {
        "payment_id": payment_id,
        "outcome": outcome,
        "invoice_id": invoice.invoice_id,
        "invoice_number": invoice.number,
        "balance_due": str(after.balance_due),
        "credit": str(after.credit),
    }


async def park_payment(
    uow: UnitOfWork, payment: IncomingPayment, why: str,
    bookings: StatementBookings | None = None,
) -> dict[str, Any]:
    """Keep a payment that matches no invoice for staff to assign; money is never dropped.
    With ``bookings`` (a statement's), it is written with the statement's others."""
    parked_id = new_id()
    document: Document = {
        "_id": parked_id,
        "branch": payment.branch,
        "status": "parked",
        "why": why,
        "amount": str(payment.amount),
        "currency": payment.currency,
        "received_on": iso(payment.received_on),
        "payer_iban": payment.payer_iban,
        "payer_name": payment.payer_name,
        "reference": payment.reference,
        "source": payment.source,
        "dedup_key": payment.dedup_key,
        "parked_at": uow.clock.now(),
    }
    if bookings is not None:
        bookings.park(document)
    else:
        await insert_parked_payment(uow, document)
    return {"payment_id": parked_id, "outcome": "unmatched", "why": why}


async def receive_payment(
    uow: UnitOfWork, payment: IncomingPayment, invoice_id: str | None = None,
    booked: set[str] | None = None, bookings: StatementBookings | None = None,
) -> dict[str, Any]:
    """Match ``payment`` by invoice id or structured communication, then book or park it. A
    payment entered through the API and dated before its invoice was issued is refused (400).

    With a ``dedup_key`` a payment already booked or parked is not booked again. ``booked``, the
    keys already booked among those of a whole import (read with ``booked_keys``), spares a
    query per payment; the payment's key is added to it.
    """
    if payment.dedup_key:
        if booked is None:
            booked = await booked_keys(uow, [payment.dedup_key])
        if payment.dedup_key in booked:
            return {"outcome": "already_booked"}
        booked.add(payment.dedup_key)
    invoice = await find_invoice(uow, payment.branch, invoice_id, payment.reference, bookings)
    if invoice is None:
        what = f"invoice {invoice_id}" if invoice_id else f"reference {payment.reference}"
        return await park_payment(uow, payment, f"no invoice of the branch matches {what}"
                                  if invoice_id or payment.reference else "no reference given",
                                  bookings)
    if payment.currency != invoice.currency:
        return await park_payment(uow, payment, f"paid in {payment.currency}, invoiced in "
                                  f"{invoice.currency}", bookings)
    # a date staff typed cannot precede the invoice it pays; a statement line is the bank's fact
    if payment.source == "api" and payment.received_on < invoice.issue_date:
        raise invalid("received_on", f"is before invoice {invoice.number} was issued, on "
                      f"{invoice.issue_date.isoformat()}")
    return await book_payment(uow, invoice, payment, bookings)


@dataclass(frozen=True)
class AssignParkedPayment:
    """Staff book a payment parked for them on an invoice of their branch."""

    branch: str
    payment_id: str
    invoice_id: str
    assigned_by: str


async def assign_parked_payment(uow: UnitOfWork, command: AssignParkedPayment) -> dict[str, Any]:
    """Book the parked payment on the invoice; it may precede the invoice (an advance)."""
    # assigned at once: a refusal below raises, and the transaction takes it back
    parked = await take_parked_payment(uow, command.payment_id, command.branch,
                                       command.invoice_id, command.assigned_by)
    if parked is None:
        if not await parked_payment_exists(uow, command.payment_id, command.branch):
            raise not_found("Parked payment", command.payment_id)
        raise conflict("Already assigned", f"Payment {command.payment_id} was booked before")
    invoice = await find_invoice(uow, command.branch, invoice_id=command.invoice_id)
    if invoice is None:
        raise invalid("invoice_id", "no invoice of your branch has this id")
    if parked["currency"] != invoice.currency:
        raise invalid("invoice_id", f"the invoice is in {invoice.currency}")
    return await book_payment(uow, invoice, IncomingPayment(
        branch=command.branch, amount=Decimal(parked["amount"]),
        currency=parked["currency"], received_on=date.fromisoformat(parked["received_on"]),
        payer_iban=parked["payer_iban"], payer_name=parked["payer_name"],
        reference=parked["reference"], source=f"assigned:{command.payment_id}",
    ))
