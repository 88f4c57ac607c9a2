"""Which VAT an invoice carries (DESIGN.md §4.3)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from smart_shared.events.catalogue import Client

EU_COUNTRIES = frozenset({
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE",
    "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
})

TaxCategory = Literal["S", "AE", "O"]
"""UNCL 5305 as Peppol uses it: standard rate, reverse charge, outside the scope of VAT."""


@dataclass(frozen=True)
class VatDecision:
    rate: Decimal
    category: TaxCategory
    mention: str | None = None

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
) -> VatDecision:
    """Standard rate at home and for consumers; reverse charge for an EU business registered for
    VAT in another member state; outside the scope for a business established outside the EU."""
    if client.kind == "consumer":
        return VatDecision(standard_rate, "S")
    if client.country not in EU_COUNTRIES:
        return VatDecision(Decimal("0"), "O", outside_eu_mention)
    if client.vat_number and vat_country(client.vat_number) != seller_country:
        return VatDecision(Decimal("0"), "AE", reverse_charge_mention)
    return VatDecision(standard_rate, "S")
