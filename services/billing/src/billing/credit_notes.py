"""Credit notes: staff corrections of an invoice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from smart_shared.codec import iso
from smart_shared.documents import issued_document
from smart_shared.events.catalogue import CreditNoteIssued
from smart_shared.ids import new_id
from smart_shared.money import Money
from smart_shared.mongo import UnitOfWork
from smart_shared.problems import conflict, invalid, not_found

from billing.documents import credit_note_pdf
from billing.domain.balance import CreditTooLarge
from billing.domain.invoice import credit_note_split
from billing.numbers import next_number
from billing.payments import find_invoice
from billing.store import (
    CreditNote,
    Invoice,
    account_fields,
    credit_note_of_cause,
    delivery_document,
    delivery_view,
    insert_credit_note,
    keep_issued_document,
    update_invoice,
)


@dataclass(frozen=True)
class CreditInvoice:
    """Staff credit an invoice of their branch: ``amount`` incl. VAT, or all that remains."""

    branch: str
    invoice_id: str
    amount: Money | None
    reason: str


async def credit_invoice(uow: UnitOfWork, command: CreditInvoice) -> dict[str, Any]:
    """The credit note staff asked for; 409 when nothing remains to credit."""
    invoice = await find_invoice(uow, command.branch, invoice_id=command.invoice_id)
    if invoice is None:
        raise not_found("Invoice", command.invoice_id)
    if command.amount and command.amount.currency != invoice.currency:
        raise invalid("amount.currency", f"the invoice is in {invoice.currency}")
    amount = command.amount.amount if command.amount else invoice.account.creditable
    if amount <= 0:
        raise conflict("Nothing to credit", "The invoice is already fully credited")
    try:
        return await issue_credit_note(uow, invoice, amount, command.reason, None)
    except CreditTooLarge as error:
        raise invalid("amount", str(error)) from None


async def issue_credit_note(
    uow: UnitOfWork, invoice: Invoice, amount: Decimal, reason: str, source_key: str | None
) -> dict[str, Any]:
    """Credit ``amount`` (incl. VAT) on ``invoice`` with a gapless number → ``CreditNoteIssued``.

    Raises ``CreditTooLarge`` beyond what remains invoiced. With a ``source_key`` the same cause
    (a write-off case) credits once.
    """
    if source_key:
        earlier = await credit_note_of_cause(uow, source_key)
        if earlier:
            return credit_note_view(earlier)
    after = invoice.account.credit_note(amount)
    today = uow.clock.today()
    _, number = await next_number(uow, "credit_note", invoice.branch, today.year)
    credit_note_id = new_id()
    document = credit_note_document(credit_note_id, invoice, number, today, amount, reason,
                                    source_key, uow.clock.now())
    await insert_credit_note(uow, document)
    content = credit_note_pdf(CreditNote.model_validate(document), invoice, document["created_at"])
    await keep_issued_document(uow, issued_document(
        "credit_note", credit_note_id, invoice.branch, invoice.member_id, content,
        "application/pdf", document["created_at"]))
    version = invoice.version + 1
    changes: dict[str, Any] = {**account_fields(after), "version": version}
    if after.settled:
        changes["overdue_watch"] = False
        if invoice.status == "open":
            changes["status"] = "credited"
    await update_invoice(uow, invoice, changes, "the credit note")
    uow.publish(CreditNoteIssued(
        branch=invoice.branch, version=version, occurred_at=uow.clock.now(),
        invoice_id=invoice.invoice_id, contract_id=invoice.contract_id,
        member_id=invoice.member_id or "", credit_note_id=credit_note_id, number=number,
        amount=Money.of(amount, invoice.currency), reason=reason, issue_date=today,
        balance_due=invoice.money(after.balance_due),
    ))
    return credit_note_view(document)


def credit_note_document(
    credit_note_id: str, invoice: Invoice, number: str, issue_date: date, amount: Decimal,
    reason: str, source_key: str | None, now: datetime,
) -> dict[str, Any]:
    """The stored credit note of ``amount`` (incl. VAT) on ``invoice``, split as it was taxed."""
    excl, vat = credit_note_split(amount, invoice.vat_rate)
    return {
        "_id": credit_note_id,
        "branch": invoice.branch,
        "number": number,
        "invoice_id": invoice.invoice_id,
        "invoice_number": invoice.number,
        "member_id": invoice.member_id,
        "issue_date": iso(issue_date),
        "amount": str(amount),
        "amount_excl_vat": str(excl),
        "vat_amount": str(vat),
        "vat_rate": str(invoice.vat_rate),
        "currency": invoice.currency,
        "reason": reason,
        "source_key": source_key,
        # it goes the way its invoice went: through Peppol when the invoice did
        "delivery": delivery_document(
            invoice.delivery.receiver if invoice.delivery and invoice.delivery.channel == "peppol"
            else None, now),
        "created_at": now,
    }


def credit_note_view(document: dict[str, Any]) -> dict[str, Any]:
    return {
        "credit_note_id": document["_id"],
        "number": document["number"],
        "invoice_id": document["invoice_id"],
        "invoice_number": document["invoice_number"],
        "issue_date": document["issue_date"],
        "amount": {"amount": document["amount"], "currency": document["currency"]},
        "amount_excl_vat": document["amount_excl_vat"],
        "vat_amount": document["vat_amount"],
        "reason": document["reason"],
        "delivery": delivery_view(document),
    }
