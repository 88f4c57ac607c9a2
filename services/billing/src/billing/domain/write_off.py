"""The VAT of a debt written off as lost (Belgian VAT Code art. 77 §1 7°): SMart recovers the
VAT it paid on what the client never paid, and the claim itself stays due."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from billing.domain.invoice import credit_note_split
from billing.domain.rules import WriteOffRules

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class VatRegularisation:
    """What the loss of ``lost`` (incl. VAT) changes in SMart's VAT return, and whether the
    client receives a corrective document."""

    lost: Decimal
    lost_excl_vat: Decimal
    vat_recovered: Decimal
    document_to_client: bool


def vat_regularisation(lost: Decimal, vat_rate: Decimal, vat_category: str,
                       client_kind: str, rules: WriteOffRules | None) -> VatRegularisation:
    """The VAT in ``lost`` is recovered where the branch's law restores it and SMart charged
    it (category S: reverse-charged, exempt or out-of-scope invoices carried none); a business
    client, who may have deducted it, is sent the corrective document the law requires."""
    excl, vat = credit_note_split(lost, vat_rate)
    recoverable = rules is not None and rules.vat_recoverable.value and vat_category == "S"
    recovered = vat if recoverable else ZERO
    document = (recovered > ZERO and client_kind == "business" and rules is not None
                and rules.document_to_business_client.value)
    return VatRegularisation(lost, excl, recovered, document)


def vat_due_again(payment: Decimal, vat_rate: Decimal, recovered: Decimal,
                  already_due_again: Decimal) -> Decimal:
    """The VAT a payment received after the write-off makes due again: the VAT part of the
    payment, at most what was recovered and not yet due again."""
    _, vat = credit_note_split(payment, vat_rate)
    return max(ZERO, min(vat, recovered - already_due_again))
