"""Which VAT an invoice carries (DESIGN.md §4.3)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from smart_shared.events.catalogue import Client

from billing.domain.rules import VatTreatment

EU_COUNTRIES = frozenset({
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE",
    "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
})

TaxCategory = Literal["S", "E", "AE", "O"]
"""UNCL 5305 as Peppol uses it: taxed (at the standard or a reduced rate), exempt, reverse
charge, outside the scope of VAT."""


@dataclass(frozen=True)
class VatDecision:
    rate: Decimal
    category: TaxCategory
    mention: str | None = None
    exemption_reason_code: str | None = None

    @property
    def reverse_charge(self) -> bool:
        return self.category == "AE"


def vat_country(vat_number: str) -> str:
    """The member state of an EU VAT number (Greece writes EL)."""
    prefix = vat_number.strip().upper()[:2]
    return "GR" if prefix == "EL" else prefix


def decide_vat(
    seller_country: str,
    client: Client,
    standard_rate: Decimal,
    reverse_charge_mention: str,
    outside_eu_mention: str,
    treatment: VatTreatment | None = None,
    language: str | None = None,
) -> VatDecision:
    """Taxed at home and for consumers, at the rate of the work's ``treatment`` (a reduced rate,
    an exemption) or else the standard rate; reverse charge for an EU business registered for
    VAT in another member state and outside the scope for a business established outside the
    EU, whatever the work (the place of a B2B service is the client's country). The mention is
    in ``language``, the invoice's (the client's by default)."""
    if client.kind == "business":
        if client.country not in EU_COUNTRIES:
            return VatDecision(Decimal("0"), "O", outside_eu_mention)
        if client.vat_number and vat_country(client.vat_number) != seller_country:
            return VatDecision(Decimal("0"), "AE", reverse_charge_mention)
    if treatment is None:
        return VatDecision(standard_rate, "S")
    code = treatment.exemption_reason_code
    return VatDecision(treatment.rate.value, treatment.category.value,
                       treatment.mention.value.text(language or client.language),
                       code.value if code else None)
