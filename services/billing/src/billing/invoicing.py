"""Issuing invoices for completed contracts, from billing's projection of contracts."""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal
from typing import Any

from smart_shared.events.catalogue import (
    Client,
    ContractCancelled,
    ContractSigned,
    InvoiceIssued,
    WorkCompleted,
)
from smart_shared.ids import new_id
from smart_shared.money import Money
from smart_shared.mongo import Document, UnitOfWork
from smart_shared.rulepacks import rule_pack
from smart_shared.telemetry import current_traceparent

from billing.domain.invoice import invoice_terms
from billing.domain.rules import billing_rules
from billing.numbers import next_sequence
from billing.store import CONTRACTS, INVOICES, Invoice, iso, read_invoice

log = logging.getLogger("billing.invoicing")


async def record_contract_signed(event: ContractSigned, uow: UnitOfWork) -> None:
    """Keep what the invoice needs; issue it now if the work was already reported complete."""
    signed = event.model_dump(mode="json")
    await uow.db[CONTRACTS].update_one(
        {"_id": event.contract_id},
        {"$setOnInsert": {"branch": event.branch, "member_id": event.member_id},
         "$max": {"version": event.version},
         "$set": {"signed": signed}},
        upsert=True, session=uow.session,
    )
    contract = await uow.db[CONTRACTS].find_one({"_id": event.contract_id}, session=uow.session)
    if contract and contract.get("completed") and not contract.get("invoice_id"):
        await issue_invoice(uow, event.contract_id)


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
    await uow.db[CONTRACTS].update_one(
        {"_id": event.contract_id},
        {"$setOnInsert": {"branch": event.branch, "member_id": event.member_id},
         "$max": {"version": event.version},
         "$set": {"completed": {"version": event.version,
                                "last_work_day": iso(event.last_work_day),
                                "completed_at": event.completed_at}}},
        upsert=True, session=uow.session,
    )
    contract = await uow.db[CONTRACTS].find_one({"_id": event.contract_id}, session=uow.session)
    assert contract is not None
    cancelled = contract.get("cancelled")
    if cancelled and cancelled["version"] > event.version:
        log.warning("work completed on cancelled contract %s: not invoiced", event.contract_id)
        return
    if contract.get("signed"):
        await issue_invoice(uow, event.contract_id)


async def issue_invoice(uow: UnitOfWork, contract_id: str) -> Invoice:
    """Issue the contract's invoice once, numbered in this transaction → ``InvoiceIssued``.

    Idempotent: a contract already invoiced returns its invoice and publishes nothing.
    """
    existing = read_invoice(
        await uow.db[INVOICES].find_one({"contract_id": contract_id}, session=uow.session)
    )
    if existing:
        return existing
    contract = await uow.db[CONTRACTS].find_one({"_id": contract_id}, session=uow.session)
    if not contract or not contract.get("signed"):
        raise LookupError(f"contract {contract_id} has not been signed")
    signed = ContractSigned.model_validate(contract["signed"])
    issue_date = uow.clock.today()
    rules = billing_rules(signed.branch, issue_date)
    standard_rate = rule_pack(signed.branch, issue_date).common.standard_vat_rate.value
    sequence = await next_sequence(uow, "invoice", signed.branch, issue_date.year)
    terms = invoice_terms(
        signed.branch, sequence, issue_date, signed.client, signed.amount_excl_vat.amount,
        signed.payment_term_days, rules, standard_rate,
    )
    invoice_id = new_id()
    document = _invoice_document(invoice_id, signed, terms, rules, uow.clock.now())
    await uow.db[INVOICES].insert_one(document, session=uow.session)
    await uow.db[CONTRACTS].update_one(
        {"_id": contract_id}, {"$set": {"invoice_id": invoice_id}}, session=uow.session
    )
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
    result = await uow.db[INVOICES].update_many(
        {"member_id": member_id, "performer.erased": False},
        {"$set": {"performer.member_id": None, "performer.erased": True}},
        session=uow.session,
    )
    await uow.db[CONTRACTS].update_many(
        {"member_id": member_id}, {"$set": {"member_erased": True}}, session=uow.session
    )
    return int(result.modified_count)
