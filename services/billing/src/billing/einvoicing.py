"""Sending invoices and credit notes through Peppol to the clients who receive them so.

A document issued for a client on Peppol (``domain.einvoicing.peppol_receiver``) is stored with
its delivery queued, in the issuing transaction. The ``einvoice-delivery`` job (one replica at a
time: a scheduler lease) hands each queued document's UBL to the access point and then asks what
became of it: sent, then delivered, or rejected with the access point's reason
(``InvoiceDelivered``, ``InvoiceDeliveryRejected``, with the outcome in one transaction). A
transient failure is tried again later with exponential backoff and jitter
(``SMART_EINVOICE_RETRY_SECONDS``). A document is claimed before it is sent, so two runs never
send it together, and the access point takes a document sent again after a crash (same instance
id) as the same transmission: a document is never delivered twice.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from smart_shared.events.catalogue import InvoiceDelivered, InvoiceDeliveryRejected
from smart_shared.mongo import Document, UnitOfWork
from smart_shared.outbox import retry_at
from smart_shared.service import Platform
from smart_shared.telemetry import start_linked_trace

from billing.documents import credit_note_ubl, invoice_ubl
from billing.domain.einvoicing import (
    AccessPoint,
    AccessPointUnavailable,
    Delivered,
    DocumentKind,
    DocumentRefused,
    Outcome,
    PeppolDocument,
    Rejected,
)
from billing.store import (
    CREDIT_NOTES,
    INVOICES,
    CreditNote,
    Invoice,
    claim_delivery,
    due_deliveries,
    invoice_document,
    next_invoice_version,
    record_delivery_step,
    settle_delivery,
)

log = logging.getLogger("billing.einvoicing")

BATCH = 50
CLAIM = timedelta(minutes=2)
"""How long a document being sent is kept from other runs (a run killed mid-send lets go)."""
KINDS: dict[str, DocumentKind] = {INVOICES: "invoice", CREDIT_NOTES: "credit_note"}


def access_point_of(platform: Platform) -> AccessPoint:
    access_point: AccessPoint = platform.extras["access_point"]
    return access_point


async def deliver_einvoices(platform: Platform) -> int:
    """Move every delivery that is due one step on (send, or ask its outcome); returns how many
    changed status."""
    access_point = access_point_of(platform)
    changed = 0
    for collection in KINDS:
        for ident in await due_deliveries(platform.db, collection, datetime.now(UTC), BATCH):
            changed += await _advance(platform, access_point, collection, ident)
    return changed


async def _advance(platform: Platform, access_point: AccessPoint, collection: str,
                   ident: str) -> int:
    now = datetime.now(UTC)
    doc = await claim_delivery(platform.db, collection, ident, now, now + CLAIM)
    if doc is None:
        return 0  # another run claimed it first
    delivery = doc["delivery"]
    first_wait = platform.settings.einvoice_retry_seconds
    status = delivery["status"]
    try:
        if delivery["status"] == "queued":
            transmission_id = await access_point.send(
                await _peppol_document(platform, collection, doc))
            await record_delivery_step(platform.db, collection, ident, status, {
                "status": "sent", "transmission_id": transmission_id, "sent_at": now,
                "polls": 0, "next_attempt_at": retry_at(1, now, first_wait)})
            return 1
        outcome: Outcome = await access_point.outcome(delivery["transmission_id"])
    except AccessPointUnavailable as error:
        attempts = delivery.get("attempts", 0) + 1
        log.warning("e-invoice %s of %s not taken (attempt %d): %s", KINDS[collection], ident,
                    attempts, error)
        await record_delivery_step(platform.db, collection, ident, status, {
            "attempts": attempts, "last_error": str(error)[:500],
            "next_attempt_at": retry_at(attempts, now, first_wait)})
        return 0
    except DocumentRefused as refused:
        outcome = Rejected(str(refused))
    if outcome is None:
        polls = delivery.get("polls", 0) + 1
        await record_delivery_step(platform.db, collection, ident, status, {
            "polls": polls, "next_attempt_at": retry_at(polls, now, first_wait)})
        return 0
    return int(await platform.database.transaction(
        lambda uow: _settle(uow, collection, doc, outcome)))


async def _peppol_document(platform: Platform, collection: str, doc: Document) -> PeppolDocument:
    if collection == INVOICES:
        invoice = Invoice.model_validate(doc)
        number, ubl = invoice.number, invoice_ubl(invoice)
    else:
        credit_note = CreditNote.model_validate(doc)
        invoice = Invoice.model_validate(
            await invoice_document(platform.db, credit_note.invoice_id))
        number, ubl = credit_note.number, credit_note_ubl(credit_note, invoice)
    seller = invoice.seller
    return PeppolDocument(
        instance_id=f"{KINDS[collection]}:{doc['_id']}", branch=invoice.branch,
        kind=KINDS[collection], number=number, sender=f"{seller.peppol_scheme}:{seller.vat_number}",
        receiver=doc["delivery"]["receiver"], ubl=ubl)


async def _settle(uow: UnitOfWork, collection: str, doc: Document, outcome: Delivered | Rejected
                  ) -> bool:
    """Record the outcome once, with its event on the invoice's stream."""
    now = datetime.now(UTC)
    delivery = doc["delivery"]
    if isinstance(outcome, Delivered):
        changes: dict[str, Any] = {"status": "delivered", "delivered_at": outcome.at}
    else:
        changes = {"status": "rejected", "reason": outcome.reason[:500], "rejected_at": now}
    if not await settle_delivery(uow, collection, doc["_id"], delivery["status"], changes):
        return False  # another run recorded it
    invoice_id = doc["_id"] if collection == INVOICES else doc["invoice_id"]
    invoice = await next_invoice_version(uow, invoice_id)
    if invoice is None:
        raise LookupError(f"invoice {invoice_id} of a delivered document is unknown")
    common: dict[str, Any] = {
        "branch": invoice["branch"], "version": invoice["version"], "occurred_at": uow.clock.now(),
        "invoice_id": invoice_id, "contract_id": invoice["contract_id"],
        "member_id": invoice.get("member_id") or "", "document": KINDS[collection],
        "document_id": doc["_id"], "number": doc["number"], "receiver": delivery["receiver"]}
    with start_linked_trace("einvoice delivery", invoice.get("traceparent"),
                            attributes={"invoice_id": invoice_id}):
        if isinstance(outcome, Delivered):
            uow.publish(InvoiceDelivered(**common, transmission_id=delivery["transmission_id"],
                                         delivered_at=outcome.at))
        else:
            log.warning("e-invoice %s %s rejected: %s", KINDS[collection], doc["number"],
                        outcome.reason)
            uow.publish(InvoiceDeliveryRejected(**common, reason=outcome.reason,
                                                rejected_at=now))
    return True
