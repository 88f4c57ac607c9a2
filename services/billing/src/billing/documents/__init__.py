"""Invoices and credit notes as documents: PDF with an EPC QR code, and Peppol BIS Billing 3.0
UBL."""

from __future__ import annotations

from datetime import UTC, datetime, time

from pymongo.asynchronous.database import AsyncDatabase
from smart_shared.mongo import Document

from billing.documents.pdf import credit_note_pdf, invoice_pdf
from billing.documents.ubl import credit_note_ubl, invoice_ubl
from billing.store import DOCUMENTS, Invoice


async def kept_invoice_pdf(db: AsyncDatabase[Document], invoice: Invoice) -> bytes:
    """The PDF kept when ``invoice`` was issued (one rendered as issued for older invoices)."""
    stored = await db[DOCUMENTS].find_one({"_id": f"invoice:{invoice.invoice_id}"})
    if stored is not None:
        return bytes(stored["content"])
    return invoice_pdf(invoice, datetime.combine(invoice.issue_date, time(), tzinfo=UTC))


__all__ = ["credit_note_pdf", "credit_note_ubl", "invoice_pdf", "invoice_ubl", "kept_invoice_pdf"]
