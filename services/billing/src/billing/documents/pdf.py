"""The invoice and the credit note as PDFs in the client's language, with the seller's legal
mentions and, on the invoice, an EPC ("SEPA") QR code to pay it by phone."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import segno
from smart_shared.documents import Messages, PrintedDocument, Wording
from smart_shared.qr import make_epc_qr

from billing.domain.rules import LegalMentions, billing_rules
from billing.store import CreditNote, Invoice, WriteOff

MESSAGES = Messages(Path(__file__).parent / "messages")


def payment_qr(invoice: Invoice) -> segno.QRCode | None:
    """An EPC QR code for the invoice's total (EPC069-12), none when nothing is payable."""
    if invoice.payable <= 0 or invoice.currency != "EUR":
        return None
    seller = invoice.seller
    return make_epc_qr(name=seller.name, iban=seller.iban, amount=invoice.payable,
                       communication=invoice.structured_reference or invoice.number,
                       bic=seller.bic)


class _Page:
    """One document of an invoice, in the client's language."""

    def __init__(self, invoice: Invoice, title: str, created: datetime) -> None:
        self.wording = Wording(MESSAGES, invoice.client.language, invoice.branch)
        self.text = self.wording.text
        self.invoice = invoice
        self.pdf = PrintedDocument(title, invoice.seller.name, created)

    def money(self, amount: Decimal) -> str:
        return self.wording.money(amount, self.invoice.currency)

    def seller(self, legal: LegalMentions) -> None:
        seller, pdf = self.invoice.seller, self.pdf
        pdf.paragraph(seller.name, 14, bold=True, height=7)
        pdf.paragraph(f"{legal.legal_form.value}")
        pdf.paragraph(f"{seller.street}, {seller.postal_code} {seller.city}, {seller.country}")
        pdf.paragraph(self.text("Enterprise number {number}", number=legal.enterprise_number.value)
                 + f" · {legal.registry.value} · {legal.court.value}")
        pdf.paragraph(self.text("VAT {number}", number=seller.vat_number))
        pdf.ln(6)

    def client(self) -> None:
        client, pdf = self.invoice.client, self.pdf
        pdf.paragraph(self.text("Bill to"), bold=True)
        pdf.paragraph(client.name)
        address = client.address
        pdf.paragraph(f"{address.street}, {address.postal_code} {address.city}, {address.country}")
        if client.vat_number:
            pdf.paragraph(self.text("VAT {number}", number=client.vat_number))
        pdf.ln(4)

    def totals(self, excl: Decimal, vat: Decimal, label: str, total: Decimal) -> None:
        """Amounts excl. VAT, the VAT at the invoice's rate, the total, the VAT mention."""
        invoice, pdf = self.invoice, self.pdf
        pdf.pair(self.text("Total excl. VAT"), self.money(excl))
        pdf.pair(self.text("VAT {rate} %", rate=self.wording.number(invoice.vat_rate * 100)),
                 self.money(vat))
        pdf.pair(self.text(label), self.money(total), bold=True)
        if invoice.vat_mention:
            pdf.paragraph(invoice.vat_mention, 9)

    def late_payment(self, legal: LegalMentions) -> None:
        pdf = self.pdf
        if legal.late_payment_penalty:
            pdf.paragraph(self.text("Late-payment penalties: {rate}.",
                               rate=legal.late_payment_penalty.value), 8)
        if legal.recovery_indemnity:
            pdf.paragraph(self.text(
                "Fixed indemnity for recovery costs in case of late payment: {amount}.",
                amount=self.money(legal.recovery_indemnity.value)), 8)
        if legal.early_payment_discount:
            pdf.paragraph(self.text("Early payment: {terms}.",
                               terms=legal.early_payment_discount.value), 8)


def invoice_pdf(invoice: Invoice, created: datetime) -> bytes:
    """The invoice on one A4 page as issued: parties, legal mentions, line, VAT, totals, how to
    pay. It states nothing that changes after issue (payments live on the account statement)."""
    legal = billing_rules(invoice.branch, invoice.issue_date).legal
    page = _Page(invoice, f"{invoice.seller.name} {invoice.number}", created)
    pdf, text, day = page.pdf, page.text, page.wording.day
    page.seller(legal)
    pdf.paragraph(text("Invoice {number}", number=invoice.number), 16, bold=True, height=8)
    pdf.paragraph(text("Issue date: {day}", day=day(invoice.issue_date)) + "    "
                  + text("Due date: {day}", day=day(invoice.due_date)))
    pdf.paragraph(text("Contract: {contract}", contract=invoice.contract_id))
    pdf.ln(4)
    page.client()
    performer = invoice.performer
    who = performer.name if performer.name and not performer.erased else text("a SMart member")
    pdf.paragraph(text("Work performed by {who} ({activity}), employed by {seller}.", who=who,
                  activity=performer.activity, seller=invoice.seller.name))
    pdf.ln(4)
    for item in invoice.lines:
        days = ", ".join(day(work_day) for work_day in item.work_days)
        pdf.paragraph(item.description, bold=True)
        pdf.paragraph(text("Work days: {days}", days=days), 9)
        pdf.pair(text("Amount excl. VAT"), page.money(item.amount_excl_vat))
    pdf.ln(2)
    page.totals(invoice.amount_excl_vat, invoice.vat_amount, "Total", invoice.total)
    for credit in invoice.prepaid_from:
        pdf.pair(text("Your credit on invoice {number}", number=credit.number),
                 "-" + page.money(credit.amount))
    if invoice.prepaid_from:
        pdf.pair(text("Amount to pay"), page.money(invoice.payable), bold=True)
    pdf.ln(4)
    pdf.paragraph(text("Payment"), bold=True)
    pdf.paragraph(f"IBAN {invoice.seller.iban}    BIC {invoice.seller.bic}")
    pdf.paragraph(text("Communication: {reference}",
                  reference=invoice.structured_reference or invoice.number))
    qr = payment_qr(invoice)
    if qr is not None:
        pdf.image([list(row) for row in qr.matrix_iter(border=2)], x=pdf.l_margin,
                  y=pdf.get_y() + 2, w=40, h=40)
        pdf.set_y(pdf.get_y() + 44)
        pdf.paragraph(text("Scan with your banking app to pay."), 8)
    pdf.ln(2)
    page.late_payment(legal)
    return pdf.content()


def credit_note_pdf(credit_note: CreditNote, invoice: Invoice, created: datetime) -> bytes:
    """The credit note on one A4 page: parties, legal mentions, the invoice it credits, amounts."""
    legal = billing_rules(invoice.branch, credit_note.issue_date).legal
    page = _Page(invoice, f"{invoice.seller.name} {credit_note.number}", created)
    pdf, text, day = page.pdf, page.text, page.wording.day
    page.seller(legal)
    pdf.paragraph(text("Credit note {number}", number=credit_note.number), 16, bold=True, height=8)
    pdf.paragraph(text("Issue date: {day}", day=day(credit_note.issue_date)))
    pdf.paragraph(text("Credits invoice {number} of {day}.", number=invoice.number,
                  day=day(invoice.issue_date)))
    pdf.ln(4)
    page.client()
    pdf.paragraph(text("Reason: {reason}", reason=credit_note.reason))
    pdf.ln(2)
    page.totals(credit_note.amount_excl_vat, credit_note.vat_amount, "Total credited",
                credit_note.amount)
    return pdf.content()


def vat_correction_pdf(invoice: Invoice, write_off: WriteOff, issued: date,
                       created: datetime) -> bytes:
    """The corrective document of a lost debt's VAT (Belgian VAT Code art. 77 §1 7°): the
    invoice it corrects, the VAT corrected, the mention the law requires and, so that it never
    reads as a cancellation, that the claim stays due."""
    rules = billing_rules(invoice.branch, issued)
    assert rules.write_off is not None and write_off.vat_correction_number is not None
    legal = rules.legal
    page = _Page(invoice, f"{invoice.seller.name} {write_off.vat_correction_number}", created)
    pdf, text, day = page.pdf, page.text, page.wording.day
    language = page.wording.language
    page.seller(legal)
    pdf.paragraph(text("VAT correction {number}", number=write_off.vat_correction_number), 16,
                  bold=True, height=8)
    pdf.paragraph(text("Issue date: {day}", day=day(issued)))
    pdf.paragraph(text("Corrects the VAT of invoice {number} of {day}.", number=invoice.number,
                       day=day(invoice.issue_date)))
    pdf.ln(4)
    page.client()
    pdf.pair(text("Unpaid amount excl. VAT"), page.money(write_off.lost_excl_vat))
    pdf.pair(text("VAT corrected"), page.money(write_off.vat_recovered), bold=True)
    pdf.ln(2)
    mention = rules.write_off.business_client_mention
    if mention is not None:
        pdf.paragraph(mention.value.text(language), 11, bold=True)
    pdf.paragraph(rules.write_off.debt_remains_due.value.text(language), 11, bold=True)
    pdf.paragraph(text("Payment"), bold=True)
    pdf.paragraph(f"IBAN {invoice.seller.iban}    BIC {invoice.seller.bic}")
    pdf.paragraph(text("Communication: {reference}",
                  reference=invoice.structured_reference or invoice.number))
    return pdf.content()
