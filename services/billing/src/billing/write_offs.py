"""The write-off of a lost debt: SMart recovers the VAT it paid on it (Belgian VAT Code art. 77
§1 7°), a business client receives the corrective document the law requires, and the claim stays
due, as collection's letters say. No credit note: nothing tells the client the debt is gone."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from smart_shared.codec import iso
from smart_shared.documents import issued_document
from smart_shared.events.catalogue import DebtWrittenOff
from smart_shared.mail import send_mail
from smart_shared.mongo import UnitOfWork

from billing.documents import vat_correction_pdf
from billing.domain.rules import billing_rules
from billing.domain.write_off import vat_due_again, vat_regularisation
from billing.mails import vat_correction_mail
from billing.numbers import next_number
from billing.store import (
    Invoice,
    WriteOff,
    find_branch_invoice,
    keep_issued_document,
    update_invoice,
)


async def record_written_off_debt(uow: UnitOfWork, event: DebtWrittenOff) -> None:
    """Record collection's write-off on the invoice with its VAT regularisation, once."""
    await uow.write_staged()  # the invoice may have been issued earlier in this unit of work
    invoice = await find_branch_invoice(uow, event.branch, invoice_id=event.invoice_id)
    if invoice is None:
        raise LookupError(f"written-off invoice {event.invoice_id} is unknown to billing")
    lost = min(event.amount.amount, invoice.account.balance_due)
    if invoice.write_off is not None or lost <= 0:
        return
    rules = billing_rules(invoice.branch, event.written_off_on).write_off
    regularisation = vat_regularisation(lost, invoice.vat_rate, invoice.vat_category,
                                        invoice.client.kind, rules)
    number = None
    if regularisation.document_to_client:
        _, number = await next_number(uow, "vat_correction", invoice.branch,
                                      event.written_off_on.year)
    write_off = WriteOff(
        case_id=event.case_id, written_off_on=event.written_off_on, reason=event.reason,
        lost=lost, lost_excl_vat=regularisation.lost_excl_vat,
        vat_recovered=regularisation.vat_recovered, vat_correction_number=number)
    await update_invoice(uow, invoice, {"status": "written_off", "overdue_watch": False,
                                        "write_off": write_off_document(write_off)},
                         "the write-off")
    if number is not None:
        content = vat_correction_pdf(invoice, write_off, event.written_off_on, uow.clock.now())
        await keep_issued_document(uow, issued_document(
            "vat_correction", invoice.invoice_id, invoice.branch, invoice.member_id, content,
            "application/pdf", uow.clock.now()))
        send_mail(uow, vat_correction_mail(invoice, write_off))


def write_off_document(write_off: WriteOff) -> dict[str, Any]:
    return {**write_off.model_dump(mode="json"), "written_off_on": iso(write_off.written_off_on)}


def vat_due_again_after(invoice: Invoice, payment: Decimal) -> dict[str, Any]:
    """The invoice's changes when a payment reaches it after its write-off: the VAT part of
    the payment is due to the State again (none before a write-off)."""
    write_off = invoice.write_off
    if write_off is None:
        return {}
    again = vat_due_again(payment, invoice.vat_rate, write_off.vat_recovered,
                          write_off.vat_due_again)
    # the whole write-off, so a statement's next line on the invoice reads it as changed
    changed = write_off.model_copy(update={"vat_due_again": write_off.vat_due_again + again})
    return {"write_off": write_off_document(changed)}
