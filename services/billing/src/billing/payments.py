"""Booking client payments against invoices, and parking those that match none."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from smart_shared.events.catalogue import InvoicePaid, PaymentReceived
from smart_shared.ids import new_id
from smart_shared.money import Money
from smart_shared.mongo import UnitOfWork, text_equals
from smart_shared.telemetry import continue_trace

from billing.domain.balance import payment_outcome
from billing.store import INVOICES, PAYMENTS, UNMATCHED, Invoice, account_fields, iso, read_invoice

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


async def find_invoice(
    uow: UnitOfWork, branch: str, invoice_id: str | None = None, reference: str | None = None
) -> Invoice | None:
    """The branch's invoice with this id or this structured communication."""
    query: dict[str, Any] = {"branch": branch}
    if invoice_id:
        query["_id"] = invoice_id
    elif reference:
        query["structured_reference"] = text_equals(reference)
    else:
        return None
    return read_invoice(await uow.db[INVOICES].find_one(query, session=uow.session))


async def booked_keys(uow: UnitOfWork, dedup_keys: list[str]) -> set[str]:
    """The keys among ``dedup_keys`` of payments already booked or parked (a query each)."""
    booked: set[str] = set()
    if not dedup_keys:
        return booked
    for collection in (PAYMENTS, UNMATCHED):
        cursor = uow.db[collection].find(
            {"dedup_key": {"$in": dedup_keys, "$type": "string"}}, {"dedup_key": 1},
            session=uow.session)
        booked.update([doc["dedup_key"] async for doc in cursor])
    return booked


async def book_payment(
    uow: UnitOfWork, invoice: Invoice, payment: IncomingPayment
) -> dict[str, Any]:
    """Book ``payment`` on ``invoice`` → ``PaymentReceived``, and ``InvoicePaid`` when it settles
    the balance. A surplus stays on the invoice as the client's credit."""
    before = invoice.account
    after = before.pay(payment.amount)
    outcome = payment_outcome(before, after)
    payment_id = new_id()
    now = uow.clock.now()
    await uow.db[PAYMENTS].insert_one({
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
    }, session=uow.session)
    version = invoice.version + 1
    changes: dict[str, Any] = {**account_fields(after), "version": version}
    settles = after.settled and invoice.status == "open"
    if settles:
        changes.update(status="paid", paid_on=iso(payment.received_on), overdue_watch=False)
        version += 1
        changes["version"] = version
    updated = await uow.db[INVOICES].update_one(
        {"_id": invoice.invoice_id, "version": invoice.version}, {"$set": changes},
        session=uow.session,
    )
    if updated.matched_count != 1:
        raise RuntimeError(f"invoice {invoice.invoice_id} changed during the booking")
    common = {"branch": invoice.branch, "occurred_at": now, "invoice_id": invoice.invoice_id,
              "contract_id": invoice.contract_id, "member_id": invoice.member_id or ""}
    # the payment continues the contract's trace (linked to the request or statement import)
    with continue_trace("book payment", invoice.traceparent, invoice_id=invoice.invoice_id):
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
    return {
        "payment_id": payment_id,
        "outcome": outcome,
        "invoice_id": invoice.invoice_id,
        "invoice_number": invoice.number,
        "balance_due": str(after.balance_due),
        "credit": str(after.credit),
    }


async def park_payment(uow: UnitOfWork, payment: IncomingPayment, why: str) -> dict[str, Any]:
    """Keep a payment that matches no invoice for staff to assign; money is never dropped."""
    parked_id = new_id()
    await uow.db[UNMATCHED].insert_one({
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
    }, session=uow.session)
    return {"payment_id": parked_id, "outcome": "unmatched", "why": why}


async def receive_payment(
    uow: UnitOfWork, payment: IncomingPayment, invoice_id: str | None = None,
    booked: set[str] | None = None,
) -> dict[str, Any]:
    """Match ``payment`` by invoice id or structured communication, then book or park it.

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
    invoice = await find_invoice(uow, payment.branch, invoice_id, payment.reference)
    if invoice is None:
        what = f"invoice {invoice_id}" if invoice_id else f"reference {payment.reference}"
        return await park_payment(uow, payment, f"no invoice of the branch matches {what}"
                                  if invoice_id or payment.reference else "no reference given")
    if payment.currency != invoice.currency:
        return await park_payment(uow, payment, f"paid in {payment.currency}, invoiced in "
                                  f"{invoice.currency}")
    return await book_payment(uow, invoice, payment)
