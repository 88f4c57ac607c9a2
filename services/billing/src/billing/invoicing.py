"""Issuing invoices for completed contracts, from billing's projection of contracts."""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal
from typing import Any

from pymongo import ReturnDocument
from smart_shared.events.catalogue import (
    Client,
    ContractCancelled,
    ContractSigned,
    InvoiceIssued,
    WorkCompleted,
)
from smart_shared.ids import new_id
from smart_shared.money import Money
from smart_shared.mongo import Document, StagedInserts, UnitOfWork
from smart_shared.rulepacks import rule_pack
from smart_shared.telemetry import current_traceparent

from billing.domain.invoice import invoice_terms
from billing.domain.rules import billing_rules
from billing.numbers import next_sequence
from billing.store import CONTRACTS, INVOICES, Invoice, iso, read_invoice

log = logging.getLogger("billing.invoicing")


class _NewInvoices(StagedInserts):
    """The invoices issued in a unit of work, inserted together when it flushes."""

    collection = INVOICES


async def record_contract_signed(event: ContractSigned, uow: UnitOfWork) -> None:
    """Keep what the invoice needs; issue it now if the work was already reported complete."""
    invoice_id = new_id()
    contract = await _record(uow, event, {"signed": event.model_dump(mode="json")},
                             claim_if=_has("completed"), invoice_id=invoice_id)
    if contract.get("invoice_id") == invoice_id:
        await _issue(uow, contract, invoice_id)


async def record_contract_cancelled(event: ContractCancelled, uow: UnitOfWork) -> None:
    """A cancelled contract is never invoiced (it is cancelled before any work)."""
    await uow.db[CONTRACTS].update_one(
        {"_id": event.contract_id},
        {"$setOnInsert": {"branch": event.branch, "member_id": event.member_id},
         "$max": {"version": event.version},
         "$set": {"cancelled": {"version": event.version, "reason": event.reason}}},
        upsert=True, session=uow.session,
    )


async def record_work_completed(event: WorkCompleted, uow: UnitOfWork) -> None:
    """Issue the invoice, or remember the completion until the contract's terms arrive."""
    invoice_id = new_id()
    not_cancelled_later = {"$not": [{"$gt": ["$cancelled.version", event.version]}]}
    contract = await _record(
        uow, event,
        {"completed": {"version": event.version, "last_work_day": iso(event.last_work_day),
                       "completed_at": event.completed_at}},
        claim_if={"$and": [_has("signed"), not_cancelled_later]}, invoice_id=invoice_id,
    )
    cancelled = contract.get("cancelled")
    if cancelled and cancelled["version"] > event.version:
        log.warning("work completed on cancelled contract %s: not invoiced", event.contract_id)
        return
    if contract.get("invoice_id") == invoice_id:
        await _issue(uow, contract, invoice_id)


def _has(name: str) -> dict[str, Any]:
    """Aggregation: the contract has the object ``name`` (a fact recorded by an event)."""
    return {"$eq": [{"$type": f"${name}"}, "object"]}


async def _record(uow: UnitOfWork, event: ContractSigned | WorkCompleted, facts: Document,
                  claim_if: dict[str, Any], invoice_id: str) -> Document:
    """Record ``facts`` on the contract and, when it is not invoiced yet and ``claim_if`` holds
    once they are recorded, claim it for ``invoice_id``: one command that returns the contract.

    The claim is the contract's ``invoice_id``, set in the transaction that inserts the invoice,
    so a contract whose ``invoice_id`` is another is already invoiced (or being invoiced by a
    concurrent transaction, which then conflicts on this very document).
    """
    not_invoiced = {"$in": [{"$type": "$invoice_id"}, ["missing", "null"]]}
    contract = await uow.db[CONTRACTS].find_one_and_update(
        {"_id": event.contract_id},
        [
            {"$set": {
                "branch": _on_insert("branch", event.branch),
                "member_id": _on_insert("member_id", event.member_id),
                "version": {"$max": ["$version", event.version]},
                **{name: {"$literal": value} for name, value in facts.items()},
            }},
            {"$set": {"invoice_id": {
                "$cond": [{"$and": [not_invoiced, claim_if]}, invoice_id, "$invoice_id"]}}},
        ],
        upsert=True, return_document=ReturnDocument.AFTER, session=uow.session,
    )
    assert contract is not None  # an upsert returning the document after it always finds one
    return dict(contract)


def _on_insert(name: str, value: Any) -> dict[str, Any]:
    """Aggregation: ``value`` when the contract has no ``name`` yet (``$setOnInsert``)."""
    return {"$cond": [{"$eq": [{"$type": f"${name}"}, "missing"]}, value, f"${name}"]}


async def issue_invoice(uow: UnitOfWork, contract_id: str) -> Invoice:
    """Issue the contract's invoice once, numbered in this transaction → ``InvoiceIssued``.

    Idempotent: a contract already invoiced returns its invoice and publishes nothing.
    """
    invoice_id = new_id()
    contract = await uow.db[CONTRACTS].find_one_and_update(
        {"_id": contract_id, "invoice_id": None, "signed": {"$type": "object"}},
        {"$set": {"invoice_id": invoice_id}},
        return_document=ReturnDocument.AFTER, session=uow.session,
    )
    if contract is not None:
        return await _issue(uow, contract, invoice_id)
    await uow.write_staged()  # the invoice may have been issued earlier in this unit of work
    existing = read_invoice(
        await uow.db[INVOICES].find_one({"contract_id": contract_id}, session=uow.session)
    )
    if existing:
        return existing
    raise LookupError(f"contract {contract_id} has not been signed")


async def _issue(uow: UnitOfWork, contract: Document, invoice_id: str) -> Invoice:
    """Number and insert the invoice of ``contract``, claimed for ``invoice_id`` in this
    transaction → ``InvoiceIssued``."""
    signed = ContractSigned.model_validate(contract["signed"])
    issue_date = uow.clock.today()
    rules = billing_rules(signed.branch, issue_date)
    standard_rate = rule_pack(signed.branch, issue_date).common.standard_vat_rate.value
    sequence = await next_sequence(uow, "invoice", signed.branch, issue_date.year)
    terms = invoice_terms(
        signed.branch, sequence, issue_date, signed.client, signed.amount_excl_vat.amount,
        signed.payment_term_days, rules, standard_rate,
    )
    document = _invoice_document(invoice_id, signed, terms, rules, uow.clock.now())
    # inserted with the other invoices of the unit of work just before it commits (one command);
    # its contract's claim, already written, keeps any other issuance of the contract away
    uow.staged(_NewInvoices).documents.append(document)
    invoice = Invoice.model_validate(document)
    uow.publish(_invoice_issued(invoice, signed.client, uow.clock.now()))
    return invoice


def _invoice_document(
    invoice_id: str, signed: ContractSigned, terms: Any, rules: Any, now: datetime
) -> Document:
    seller = {name: field.value for name, field in rules.seller}
    amounts = terms.amounts
    return {
        "_id": invoice_id,
        "branch": signed.branch,
        "number": terms.number,
        "year": terms.issue_date.year,
        "contract_id": signed.contract_id,
        "member_id": signed.member_id,
        "status": "open",
        "issue_date": iso(terms.issue_date),
        "due_date": iso(terms.due_date),
        "payment_term_days": (terms.due_date - terms.issue_date).days,
        "seller": seller,
        "client": signed.client.model_dump(mode="json"),
        "performer": {"member_id": signed.member_id, "activity": signed.activity.name,
                      "erased": False},
        "lines": [{
            "description": signed.description,
            "work_days": [iso(day) for day in signed.work_days],
            "amount_excl_vat": str(amounts.amount_excl_vat),
        }],
        "currency": signed.amount_excl_vat.currency,
        "amount_excl_vat": str(amounts.amount_excl_vat),
        "vat_rate": str(amounts.vat_rate),
        "vat_category": terms.vat.category,
        "vat_amount": str(amounts.vat_amount),
        "total": str(amounts.total),
        "reverse_charge": terms.vat.reverse_charge,
        "vat_mention": terms.vat.mention,
        "structured_reference": terms.structured_reference,
        "paid": "0.00",
        "credited": "0.00",
        "balance_due": str(amounts.total),
        "credit": "0.00",
        "overdue_watch": amounts.total > Decimal("0"),
        "version": 1,
        "traceparent": current_traceparent(),
        "created_at": now,
    }


def _invoice_issued(invoice: Invoice, client: Client, now: datetime) -> InvoiceIssued:
    return InvoiceIssued(
        branch=invoice.branch,
        version=invoice.version,
        occurred_at=now,
        invoice_id=invoice.invoice_id,
        contract_id=invoice.contract_id,
        member_id=invoice.member_id or "",
        number=invoice.number,
        issue_date=invoice.issue_date,
        due_date=invoice.due_date,
        client_key=client.client_key,
        client_kind=client.kind,
        amount_excl_vat=Money.of(invoice.amount_excl_vat, invoice.currency),
        vat_rate=invoice.vat_rate,
        vat_amount=Money.of(invoice.vat_amount, invoice.currency),
        total=Money.of(invoice.total, invoice.currency),
        reverse_charge=invoice.reverse_charge,
        structured_reference=invoice.structured_reference,
    )


async def pseudonymise_member(uow: UnitOfWork, member_id: str) -> int:
    """After erasure the invoices stay (kept 7 years by law) but no longer name the member."""
    await uow.write_staged()  # invoices issued earlier in this unit of work are renamed too
    result = await uow.db[INVOICES].update_many(
        {"member_id": member_id, "performer.erased": False},
        {"$set": {"performer.member_id": None, "performer.erased": True}},
        session=uow.session,
    )
    await uow.db[CONTRACTS].update_many(
        {"member_id": member_id}, {"$set": {"member_erased": True}}, session=uow.session
    )
    return int(result.modified_count)
