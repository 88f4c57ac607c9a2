"""The ``billing`` section of a branch rule pack: the seller's identity and the VAT mentions."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from smart_shared.rulepacks import (
    LegalIdentity,
    SellerIdentity,
    Sourced,
    SourcedDecimal,
    SourcedInt,
    all_packs,
    rule_pack,
)


class SellerRules(SellerIdentity):
    """The branch's SMart entity, which invoices the client (every document names it)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    company_id: Sourced[str]
    iban: Sourced[str]
    bic: Sourced[str]
    peppol_scheme: Sourced[str]


class LegalMentions(LegalIdentity):
    """What identifies the seller on every invoice and credit note, and, where the law asks for
    them (France), the late-payment terms."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    late_payment_penalty: Sourced[str] | None = None
    recovery_indemnity: SourcedDecimal | None = None
    early_payment_discount: Sourced[str] | None = None


class EInvoicingRules(BaseModel):
    """Which clients receive their invoices as structured e-invoices through Peppol."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    peppol_for_domestic_business: Sourced[bool]
    receiver_scheme: Sourced[str]


class Mention(BaseModel):
    """A legal mention in each language an invoice is written in."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    fr: str
    nl: str
    en: str

    def text(self, language: str) -> str:
        return str(getattr(self, language, self.en))


class VatTreatment(BaseModel):
    """The VAT of one nature of work (``WorkNature``) when it is taxed in the branch's country:
    its rate, its UNCL 5305 category as EN 16931 allows it, the VATEX code of an exemption and
    the mention the invoice carries."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rate: SourcedDecimal
    category: Sourced[Literal["S", "E"]]
    exemption_reason_code: Sourced[str] | None = None
    mention: Sourced[Mention]


class WriteOffRules(BaseModel):
    """How the VAT of a debt written off as lost is recovered, and what the client is told."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    vat_recoverable: Sourced[bool]
    document_to_business_client: Sourced[bool]
    business_client_mention: Sourced[Mention] | None = None
    debt_remains_due: Sourced[Mention]


class BillingRules(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    seller: SellerRules
    payment_term_days: SourcedInt
    max_payment_term_days: SourcedInt
    structured_communication: Sourced[bool]
    reverse_charge_mention: Sourced[str]
    outside_eu_mention: Sourced[str]
    legal: LegalMentions
    einvoicing: EInvoicingRules
    vat_by_work_nature: dict[str, VatTreatment] = Field(
        default_factory=dict, description="Work natures taxed otherwise than at the standard "
        "rate; a nature the pack does not list is taxed at the standard rate.")
    write_off: WriteOffRules | None = None


def billing_rules(branch: str, on: date) -> BillingRules:
    """The billing rules in force for ``branch`` on ``on``."""
    return rule_pack(branch, on).section("billing", BillingRules)


def collection_account_branch(iban: str) -> str | None:
    """The branch whose collection account (the seller's IBAN in one of its billing packs) is
    ``iban``, or None when it is no branch's."""
    wanted = "".join(iban.split()).upper()
    for pack in all_packs():
        account = pack.section("billing", BillingRules).seller.iban.value
        if "".join(account.split()).upper() == wanted:
            return pack.branch
    return None
