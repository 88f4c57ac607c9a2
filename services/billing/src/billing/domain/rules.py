"""The ``billing`` section of a branch rule pack: the seller's identity and the VAT mentions."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict
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


class BillingRules(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    seller: SellerRules
    payment_term_days: SourcedInt
    max_payment_term_days: SourcedInt
    structured_communication: Sourced[bool]
    reverse_charge_mention: Sourced[str]
    outside_eu_mention: Sourced[str]
    legal: LegalMentions


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
