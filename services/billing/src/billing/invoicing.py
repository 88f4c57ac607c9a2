"""Issuing invoices for completed contracts, from billing's projection of contracts."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from smart_shared.codec import iso
from smart_shared.events.catalogue import (
    Client,
    ContractCancelled,
    ContractSigned,
    InvoiceIssued,
    InvoicePaid,
    WorkCompleted,
)
from smart_shared.ids import new_id
from smart_shared.mail import send_mail
from smart_shared.money import Money
from smart_shared.mongo import Document, UnitOfWork
from smart_shared.rulepacks import rule_pack
from smart_shared.telemetry import current_traceparent

from billing.credits import ClientCredits
from billing.domain.balance import Account
from billing.domain.einvoicing import peppol_receiver
from billing.domain.invoice import invoice_terms
from billing.domain.rules import billing_rules
from billing.mails import invoice_mail
from billing.numbers import next_sequence
from billing.store import (
    Contracts,
    Invoice,
    NewInvoices,
    account_fields,
    delivery_document,
    invoice_of_contract,
    pseudonymise_invoices,
)

log = logging.getLogger("billing.invoicing")


async def record_contract_signed(uow: UnitOfWork, event: ContractSigned) -> None:
    """Keep what the invoice needs; issue it now if the work was already reported complete."""
    invoice_id = new_id()
    contract = await _record(uow, event, {"signed": event.model_dump(mode="json")},
                             claim_if=lambda contract: _has(contract, "completed"),
                             invoice_id=invoice_id)
    if contract.get("invoice_id") == invoice_id:
        await _issue(uow, contract, invoice_id)


async def record_contract_cancelled(uow: UnitOfWork, event: ContractCancelled) -> None:
    """A cancelled contract is never invoiced (it is cancelled before any work)."""
    await _record(uow, event, {"cancelled": {"version": event.version, "reason": event.reason}},
                  claim_if=lambda contract: False, invoice_id=None)


async def record_work_completed(uow: UnitOfWork, event: WorkCompleted) -> None:
    """Issue the invoice, or remember the completion until the contract's terms arrive."""
    invoice_id = new_id()

    def signed_and_not_cancelled_later(contract: Document) -> bool:
        cancelled = contract.get("cancelled")
        later = (isinstance(cancelled, dict) and cancelled.get("version") is not None
                 and cancelled["version"] > event.version)
        return _has(contract, "signed") and not later

    contract = await _record(
        uow, event,
        {"completed": {"version": event.version, "last_work_day": iso(event.last_work_day),
                       "completed_at": event.completed_at}},
        claim_if=signed_and_not_cancelled_later, invoice_id=invoice_id,
    )
    cancelled = contract.get("cancelled")
    if cancelled and cancelled["version"] > event.version:
        log.warning("work completed on cancelled contract %s: not invoiced", event.contract_id)
        return
    if contract.get("invoice_id") == invoice_id:
        await _issue(uow, contract, invoice_id)


def _has(contract: Document, name: str) -> bool:
    """The contract has the object ``name`` (a fact recorded by an event)."""
    return isinstance(contract.get(name), dict)


async def _record(uow: UnitOfWork, event: ContractSigned | ContractCancelled | WorkCompleted,
                  facts: Document, claim_if: Callable[[Document], bool],
                  invoice_id: str | None) -> Document:
    """Record ``facts`` on the contract and, when it is not invoiced yet and ``claim_if`` holds
    once they are recorded, claim it for ``invoice_id``; returns the contract.

    The claim is the contract's ``invoice_id``, written in the transaction that inserts the
    invoice, so a contract whose ``invoice_id`` is another is already invoiced (or being invoiced
    by a concurrent transaction, which then conflicts on this very document).
    """
    contracts = uow.staged(Contracts)
    known = await contracts.get(uow, event.contract_id) or {}
    changes: Document = {}
    for name, value in (("branch", event.branch), ("member_id", event.member_id)):
        if name not in known:
            changes[name] = value
    version = known.get("version")
    changes["version"] = event.version if version is None else max(version, event.version)
    changes.update(facts)
    if invoice_id and known.get("invoice_id") is None and claim_if({**known, **changes}):
        changes["invoice_id"] = invoice_id
    return contracts.change(event.contract_id, changes)


async def issue_invoice(uow: UnitOfWork, contract_id: str) -> Invoice:
    """Issue the contract's invoice once, numbered in this transaction → ``InvoiceIssued``.

    Idempotent: a contract already invoiced returns its invoice and publishes nothing.
    """
    contracts = uow.staged(Contracts)
    contract = await contracts.get(uow, contract_id)
    if contract and contract.get("invoice_id") is None and _has(contract, "signed"):
        invoice_id = new_id()
        contract = contracts.change(contract_id, {"invoice_id": invoice_id})
        return await _issue(uow, contract, invoice_id)
    await uow.write_staged()  # the invoice may have been issued earlier in this unit of work
    existing = await invoice_of_contract(uow, contract_id)
    if existing:
        return existing
    raise LookupError(f"contract {contract_id} has not been signed")


async def _issue(uow: UnitOfWork, contract: Document, invoice_id: str) -> Invoice:
    """Number and insert the invoice of ``contract``, claimed for ``invoice_id`` in this
    transaction → ``InvoiceIssued``."""
    signed = ContractSigned.model_validate(contract["signed"])
    # never before the work is done: this replica's view of the shared clock may lag the
    # contracts service that said the work was completed
    issue_date = max(uow.clock.today(), signed.last_work_day + timedelta(days=1))
    rules = billing_rules(signed.branch, issue_date)
    standard_rate = rule_pack(signed.branch, issue_date).common.standard_vat_rate.value
    sequence = await next_sequence(uow, "invoice", signed.branch, issue_date.year)
    terms = invoice_terms(
        signed.branch, sequence, issue_date, signed.client, signed.amount_excl_vat.amount,
        signed.payment_term_days, rules, standard_rate, signed.work_nature,
    )
    document = invoice_document(invoice_id, signed, terms, rules, uow.clock.now())
    fully_prepaid = await _deduct_client_credit(uow, document, Invoice.model_validate(document))
    # inserted with the other invoices of the unit of work just before it commits (one command);
    # its contract's claim, written with it, keeps any other issuance of the contract away
    uow.staged(NewInvoices).documents.append(document)
    invoice = Invoice.model_validate(document)
    # its PDF is rendered after this transaction, the first time it is needed (its mail), and
    # kept from then on (billing.documents.kept_invoice_pdf): rendering costs tens of ms a page
    uow.publish(_invoice_issued(invoice, signed.client, uow.clock.now()))
    if fully_prepaid:
        uow.publish(InvoicePaid(
            branch=invoice.branch, version=invoice.version, occurred_at=uow.clock.now(),
            invoice_id=invoice.invoice_id, contract_id=invoice.contract_id,
            member_id=invoice.member_id or "", amount_excl_vat=invoice.money(
                invoice.amount_excl_vat), total=invoice.money(invoice.total),
            paid_on=invoice.issue_date))
    send_mail(uow, invoice_mail(invoice))
    return invoice


async def _deduct_client_credit(uow: UnitOfWork, document: Document, invoice: Invoice) -> bool:
    """Deduct the client's credit on earlier invoices from this new one (its prepaid amount);
    True when it covers all of it, which is then paid."""
    if invoice.total <= 0:
        return False
    taken = await uow.staged(ClientCredits).take(
        uow, (invoice.branch, invoice.client.client_key), invoice.total, invoice)
    if not taken:
        return False
    prepaid = sum((amount for _, amount in taken), Decimal("0.00"))
    account = Account(invoice.total, paid=prepaid)
    document.update(account_fields(account), prepaid=str(prepaid), prepaid_from=[
        {"invoice_id": holder.invoice_id, "number": holder.number, "amount": str(amount)}
        for holder, amount in taken])
    if not account.settled:
        return False
    document.update(status="paid", paid_on=iso(invoice.issue_date), overdue_watch=False,
                    version=invoice.version + 1)
    return True


def invoice_document(
    invoice_id: str, signed: ContractSigned, terms: Any, rules: Any, now: datetime,
    performer_name: str | None = None,
) -> Document:
    """The stored invoice for the contract ``signed`` on ``terms``."""
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
        "performer": {"member_id": signed.member_id, "name": performer_name,
                      "activity": signed.activity.name, "erased": False},
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
        "vat_exemption_reason_code": terms.vat.exemption_reason_code,
        "work_nature": signed.work_nature,
        "structured_reference": terms.structured_reference,
        "paid": "0.00",
        "credited": "0.00",
        "balance_due": str(amounts.total),
        "credit": "0.00",
        "overdue_watch": amounts.total > Decimal("0"),
        "version": 1,
        "traceparent": current_traceparent(),
        # a Belgian business client receives it through Peppol too (billing.einvoicing)
        "delivery": delivery_document(
            peppol_receiver(signed.client, rules.seller.country.value, rules.einvoicing), now),
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
    return await pseudonymise_invoices(uow, member_id)
