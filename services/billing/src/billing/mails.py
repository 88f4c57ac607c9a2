"""The mails billing sends the client: the invoice with its PDF and UBL, the receipt when paid.

The documents are attached by reference and rendered from the stored invoice when the mail is
sent, so the mail carries the very documents the API serves.
"""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from smart_shared.mail import Attachment, AttachmentSource, CapabilityLink, FromRecord, Mail
from smart_shared.mongo import Document

from billing.documents import invoice_ubl, kept_invoice_pdf
from billing.store import (
    Invoice,
    WriteOff,
    invoice_document,
    kept_vat_correction_pdf,
    read_invoice,
)


def _facts(invoice: Invoice) -> dict[str, Any]:
    return {"client_name": invoice.client.name, "number": invoice.number,
            "total": invoice.money(invoice.total), "issue_date": invoice.issue_date,
            "due_date": invoice.due_date, "reference": invoice.structured_reference}


def invoice_mail(invoice: Invoice) -> Mail:
    """The issued invoice, with its PDF (EPC QR code to pay) and its Peppol UBL."""
    return Mail(
        cause=f"invoice-issued:{invoice.invoice_id}", to=invoice.client.email,
        to_name=invoice.client.name, language=invoice.client.language, branch=invoice.branch,
        template="invoice_issued", data=_facts(invoice),
        # the invoice page of the portal, with its payments and, once overdue, a plan request
        links=(CapabilityLink("link", "invoice", invoice.invoice_id),),
        attachments=(
            Attachment("invoice_pdf", invoice.invoice_id, f"{invoice.number}.pdf",
                       "application/pdf"),
            Attachment("invoice_ubl", invoice.invoice_id, f"{invoice.number}.xml",
                       "application/xml"),
        ),
    )


def receipt_mail(invoice: Invoice, paid_on: Any) -> Mail:
    """The receipt: the invoice is paid in full."""
    return Mail(
        cause=f"invoice-paid:{invoice.invoice_id}", to=invoice.client.email,
        to_name=invoice.client.name, language=invoice.client.language, branch=invoice.branch,
        template="invoice_paid", data={**_facts(invoice), "paid_on": paid_on},
    )


def vat_correction_mail(invoice: Invoice, write_off: WriteOff) -> Mail:
    """The corrective document of a lost debt's VAT, to a business client: repay the VAT you
    deducted; the invoice stays due."""
    return Mail(
        cause=f"vat-correction:{invoice.invoice_id}", to=invoice.client.email,
        to_name=invoice.client.name, language=invoice.client.language, branch=invoice.branch,
        template="vat_correction",
        data={**_facts(invoice), "correction_number": write_off.vat_correction_number,
              "vat": invoice.money(write_off.vat_recovered)},
        attachments=(Attachment("vat_correction_pdf", invoice.invoice_id,
                                f"{write_off.vat_correction_number}.pdf", "application/pdf"),),
    )


async def _invoice(db: AsyncDatabase[Document], invoice_id: str) -> Invoice:
    invoice = read_invoice(await invoice_document(db, invoice_id))
    if invoice is None:
        raise LookupError(f"no invoice {invoice_id}")
    return invoice


async def _pdf(db: AsyncDatabase[Document], invoice: Invoice) -> bytes:
    return bytes((await kept_invoice_pdf(db, invoice))["content"])


async def _ubl(db: AsyncDatabase[Document], invoice: Invoice) -> bytes:
    return invoice_ubl(invoice)


async def _vat_correction(db: AsyncDatabase[Document], invoice_id: str) -> bytes:
    stored = await kept_vat_correction_pdf(db, invoice_id)
    if stored is None:
        raise LookupError(f"no VAT correction for invoice {invoice_id}")
    return bytes(stored["content"])


# the invoice mail's PDF and UBL are rendered from the invoice read once for the mail
ATTACHMENTS: dict[str, AttachmentSource] = {"invoice_pdf": FromRecord(_invoice, _pdf),
                                            "invoice_ubl": FromRecord(_invoice, _ubl),
                                            "vat_correction_pdf": _vat_correction}
