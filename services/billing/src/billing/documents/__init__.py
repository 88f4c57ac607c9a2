"""Invoices and credit notes as documents: PDF with an EPC QR code, and Peppol BIS Billing 3.0
UBL."""

from billing.documents.pdf import credit_note_pdf, invoice_pdf
from billing.documents.ubl import credit_note_ubl, invoice_ubl

__all__ = ["credit_note_pdf", "credit_note_ubl", "invoice_pdf", "invoice_ubl"]
