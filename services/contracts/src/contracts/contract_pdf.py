"""The signed contract as a PDF in the client's language: the parties, the work, the amount and
terms the client signed, and the evidence of the signature."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from smart_shared.documents import Messages, PrintedDocument, Wording
from smart_shared.rulepacks import company_identity

from contracts.domain import Contract, terms_digest
from contracts.domain.members import KnownMember

MESSAGES = Messages(Path(__file__).parent / "messages")


def cooperative_document(wording: Wording, contract: Contract, title: str,
                         created: datetime) -> PrintedDocument:
    """A new document of the contract's branch cooperative, headed with the company mentions
    the law asks of it."""
    text = wording.text
    company = company_identity(contract.branch, contract.first_work_day)
    seller, legal = company.seller, company.legal
    pdf = PrintedDocument(title, seller.name.value, created)
    pdf.paragraph(seller.name.value, 14, bold=True, height=7)
    pdf.paragraph(legal.legal_form.value)
    pdf.paragraph(f"{seller.street.value}, {seller.postal_code.value} {seller.city.value}, "
                  f"{seller.country.value}")
    pdf.paragraph(text("Enterprise number {number}", number=legal.enterprise_number.value)
                  + f" · {legal.registry.value} · {legal.court.value}")
    pdf.paragraph(text("VAT {number}", number=seller.vat_number.value))
    pdf.ln(5)
    return pdf


def signed_contract_pdf(contract: Contract, member: KnownMember | None) -> bytes:
    """The contract as its client signed it; the same signed contract always gives the same
    bytes (it is dated on the signature)."""
    signature = contract.client_signature
    if signature is None:
        raise ValueError(f"contract {contract.contract_id} is not signed by its client")
    wording = Wording(MESSAGES, contract.client.language, contract.branch)
    text = wording.text
    pdf = cooperative_document(wording, contract,
                               text("Contract {contract}", contract=contract.contract_id),
                               signature.signed_at)
    pdf.paragraph(text("Contract {contract}", contract=contract.contract_id), 16, bold=True,
                  height=8)
    pdf.ln(2)

    client = contract.client
    pdf.paragraph(text("The client"), bold=True)
    pdf.paragraph(client.name)
    pdf.paragraph(f"{client.address.street}, {client.address.postal_code} {client.address.city}, "
                  f"{client.address.country}")
    if client.vat_number:
        pdf.paragraph(text("VAT {number}", number=client.vat_number))
    pdf.ln(2)
    pdf.paragraph(text("The member of the cooperative who does the work"), bold=True)
    contact = member.contact if member else None
    pdf.paragraph(contact.name if contact else text("a member of the cooperative"))
    pdf.paragraph(text("Activity: {activity}", activity=contract.activity.name))
    pdf.ln(2)

    pdf.paragraph(text("The work"), bold=True)
    pdf.paragraph(contract.description)
    days = ", ".join(wording.day(day) for day in contract.work_days)
    pdf.paragraph(text("Work days ({count}): {days}", count=len(contract.work_days), days=days))
    pdf.ln(2)
    amount, expenses = contract.amount_excl_vat, contract.expenses
    pdf.pair(text("Amount excl. VAT"), wording.money(amount.amount, amount.currency), bold=True)
    pdf.pair(text("of which expenses"), wording.money(expenses.amount, expenses.currency))
    pdf.paragraph(text("VAT is added to the invoice at the rate the law sets for the client "
                       "(none when the client reverse-charges it)."))
    pdf.ln(2)

    pdf.paragraph(text("Terms"), bold=True)
    for term in (
        text("The cooperative employs its member for this work, declares the employment and "
             "invoices the client for it after the last work day."),
        text("The client pays the invoice within {days} days of its date.",
             days=contract.payment_term_days),
        text("The cooperative's guarantee fund pays the member's salary on time, even if the "
             "invoice is paid late."),
        text("A late payment bears the interest and the compensation the law allows."),
    ):
        pdf.paragraph(f"\u2013 {term}")
    pdf.ln(3)

    pdf.paragraph(text("Signature"), bold=True)
    signed = signature.signed_at
    pdf.paragraph(text("Signed by the client on {day} at {time} (UTC) by {name}.",
                       day=wording.day(signed.date()), time=signed.strftime("%H:%M"),
                       name=signature.signer_name or text("the holder of the signing link")))
    if contract.signed_at:
        pdf.paragraph(text("Validated by the cooperative on {day}.",
                           day=wording.day(contract.signed_at.date())))
    pdf.paragraph(text("From the address {address}, with {browser}.", address=signature.ip,
                       browser=signature.user_agent or text("an unnamed browser")), size=8)
    pdf.paragraph(text("Fingerprint of the terms signed (SHA-256): {digest}",
                       digest=signature.terms_sha256 or terms_digest(contract.terms)), size=8)
    return pdf.content()
