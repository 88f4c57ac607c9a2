"""Invoices and credit notes as documents: PDF with an EPC QR code, and Peppol BIS Billing 3.0
UBL."""

from __future__ import annotations

from datetime import UTC, datetime, time

from pymongo.asynchronous.database import AsyncDatabase
from smart_shared.documents import kept_document
from smart_shared.mongo import Document

from billing.documents.pdf import credit_note_pdf, invoice_pdf, vat_correction_pdf
from billing.documents.ubl import credit_note_ubl, invoice_ubl
from billing.store import Invoice


async def kept_invoice_pdf(db: AsyncDatabase[Document], invoice: Invoice) -> Document:
    """The PDF of ``invoice`` as kept for good: rendered the first time anyone needs it (its
    mail, a download), after the issuing transaction, from the invoice's immutable data and
    dated on its issue day, then stored with its SHA-256 and never rendered again."""
    issued = datetime.combine(invoice.issue_date, time(), tzinfo=UTC)
    return await kept_document(db, "invoice", invoice.invoice_id, invoice.branch,
                               invoice.member_id, "application/pdf", issued,
                               lambda: invoice_pdf(invoice, issued))


__all__ = ["credit_note_pdf", "credit_note_ubl", "invoice_pdf", "invoice_ubl", "kept_invoice_pdf",
           "vat_correction_pdf"]
