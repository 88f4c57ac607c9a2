"""The invoice of a completed contract: amounts, VAT, dates and references."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from smart_shared.documents import document_language
from smart_shared.events.catalogue import Client
from smart_shared.money import round2

from billing.domain.numbering import invoice_number
from billing.domain.rules import BillingRules
from billing.domain.structured_reference import reference_for_invoice
from billing.domain.vat import VatDecision, decide_vat


@dataclass(frozen=True)
class InvoiceAmounts:
    amount_excl_vat: Decimal
    vat_rate: Decimal
    vat_amount: Decimal
    total: Decimal


def invoice_amounts(amount_excl_vat: Decimal, vat: VatDecision) -> InvoiceAmounts:
    """VAT rounded half-up to the cent on the invoice total (one line, one rate)."""
    vat_amount = round2(amount_excl_vat * vat.rate)
    return InvoiceAmounts(amount_excl_vat, vat.rate, vat_amount, amount_excl_vat + vat_amount)


def due_date(issue_date: date, payment_term_days: int | None, rules: BillingRules) -> date:
    """Issue date plus the contract's term (the branch default when it sets none), capped."""
    term = rules.payment_term_days.value if payment_term_days is None else payment_term_days
    term = min(term, rules.max_payment_term_days.value)
    return issue_date + timedelta(days=term)


@dataclass(frozen=True)
class InvoiceTerms:
    """What an invoice says, decided from the contract, the client and the branch rules."""

    number: str
    issue_date: date
    due_date: date
    vat: VatDecision
    amounts: InvoiceAmounts
    structured_reference: str | None


def invoice_terms(
    branch: str,
    sequence: int,
    issue_date: date,
    client: Client,
    amount_excl_vat: Decimal,
    payment_term_days: int | None,
    rules: BillingRules,
    standard_rate: Decimal,
    work_nature: str = "other",
) -> InvoiceTerms:
    """Everything an invoice states, for the ``sequence``-th invoice of the branch's year."""
    vat = decide_vat(
        rules.seller.country.value, client, standard_rate,
        rules.reverse_charge_mention.value, rules.outside_eu_mention.value,
        rules.vat_by_work_nature.get(work_nature), document_language(client.language, branch),
    )
    year = issue_date.year
    reference = (
        reference_for_invoice(year, sequence) if rules.structured_communication.value else None
    )
    return InvoiceTerms(
        number=invoice_number(branch, year, sequence),
        issue_date=issue_date,
        due_date=due_date(issue_date, payment_term_days, rules),
        vat=vat,
        amounts=invoice_amounts(amount_excl_vat, vat),
        structured_reference=reference,
    )


def credit_note_split(amount: Decimal, vat_rate: Decimal) -> tuple[Decimal, Decimal]:
    """A credited amount incl. VAT as (excl. VAT, VAT), the VAT part rounded half-up."""
    excl = round2(amount / (Decimal(1) + vat_rate))
    return excl, amount - excl
