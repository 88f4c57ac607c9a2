"""The invoice as a PDF, with an EPC ("SEPA") QR code to pay the balance by phone."""

from __future__ import annotations

import io
from decimal import Decimal

import segno
from fpdf import FPDF
from segno import helpers

from billing.store import Invoice


def _latin1(text: str) -> str:
    # the PDF core fonts only carry Latin-1; other characters become '?'
    return text.encode("latin-1", "replace").decode("latin-1")


def _amount(value: Decimal, currency: str) -> str:
    return f"{value:,.2f} {currency}".replace(",", " ")


def payment_qr(invoice: Invoice) -> segno.QRCode | None:
    """An EPC QR code for the balance due (none when nothing is due)."""
    if invoice.balance_due <= 0 or invoice.currency != "EUR":
        return None
    seller = invoice.seller
    if invoice.structured_reference:
        digits = "".join(c for c in invoice.structured_reference if c.isdigit())
        return helpers.make_epc_qr(name=seller.name, iban=seller.iban, amount=invoice.balance_due,
                                   reference=digits, bic=seller.bic)
    return helpers.make_epc_qr(name=seller.name, iban=seller.iban, amount=invoice.balance_due,
                               text=invoice.number, bic=seller.bic)


def invoice_pdf(invoice: Invoice) -> bytes:
    """The invoice on one A4 page: parties, line, VAT, totals, how to pay."""
    pdf = FPDF(format="A4")
    pdf.set_title(_latin1(f"Invoice {invoice.number}"))
    pdf.set_author(_latin1(invoice.seller.name))
    pdf.add_page()
    seller, client, currency = invoice.seller, invoice.client, invoice.currency

    def line(text: str, size: int = 10, bold: bool = False, height: float = 5) -> None:
        pdf.set_font("Helvetica", "B" if bold else "", size)
        pdf.multi_cell(0, height, _latin1(text), new_x="LMARGIN", new_y="NEXT")

    line(seller.name, 14, bold=True, height=7)
    line(f"{seller.street}, {seller.postal_code} {seller.city}, {seller.country}")
    line(f"VAT {seller.vat_number}")
    pdf.ln(6)
    line(f"Invoice {invoice.number}", 16, bold=True, height=8)
    line(f"Issue date: {invoice.issue_date.isoformat()}    "
         f"Due date: {invoice.due_date.isoformat()}")
    line(f"Contract: {invoice.contract_id}")
    pdf.ln(4)
    line("Bill to", bold=True)
    line(client.name)
    line(f"{client.address.street}, {client.address.postal_code} {client.address.city}, "
         f"{client.address.country}")
    if client.vat_number:
        line(f"VAT {client.vat_number}")
    pdf.ln(4)
    performer = invoice.performer
    who = "a SMart member" if performer.erased else f"SMart member {performer.member_id}"
    line(f"Work performed by {who} ({performer.activity}), employed by {seller.name}.")
    pdf.ln(4)
    for item in invoice.lines:
        days = ", ".join(day.isoformat() for day in item.work_days)
        line(f"{item.description}", bold=True)
        line(f"Work days: {days}", 9)
        line(f"Amount excl. VAT: {_amount(item.amount_excl_vat, currency)}")
    pdf.ln(2)
    rate = f"{invoice.vat_rate * 100:.2f}".rstrip("0").rstrip(".")
    line(f"Total excl. VAT: {_amount(invoice.amount_excl_vat, currency)}")
    line(f"VAT {rate} %: {_amount(invoice.vat_amount, currency)}")
    line(f"Total: {_amount(invoice.total, currency)}", 12, bold=True, height=7)
    if invoice.vat_mention:
        line(invoice.vat_mention, 9)
    if invoice.paid or invoice.credited:
        line(f"Paid: {_amount(invoice.paid, currency)}    Credited: "
             f"{_amount(invoice.credited, currency)}    Balance due: "
             f"{_amount(invoice.balance_due, currency)}")
    pdf.ln(4)
    line("Payment", bold=True)
    line(f"IBAN {seller.iban}    BIC {seller.bic}")
    line(f"Communication: {invoice.structured_reference or invoice.number}")
    qr = payment_qr(invoice)
    if qr is not None:
        image = io.BytesIO()
        qr.save(image, kind="png", scale=5, border=2)
        image.seek(0)
        pdf.image(image, x=pdf.l_margin, y=pdf.get_y() + 2, w=40, h=40)
        pdf.set_y(pdf.get_y() + 44)
        line("Scan with your banking app to pay.", 8)
    return bytes(pdf.output())
