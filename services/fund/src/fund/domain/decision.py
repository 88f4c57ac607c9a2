"""The guarantee decision: may the fund promise this contract's salary cost?"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from smart_shared.events.catalogue import DeclineReason
from smart_shared.money import round2


@dataclass(frozen=True)
class GuaranteePolicy:
    """The branch's numbers, from its rule pack."""

    client_cap: Decimal
    member_cap: Decimal
    fee_rate: Decimal
    eu_countries: frozenset[str]


@dataclass(frozen=True)
class GuaranteeRequest:
    """What the signed contract says, and what the fund already stands behind."""

    amount_excl_vat: Decimal
    client_country: str
    client_signed_at: datetime | None
    signed_at: datetime
    client_exposure: Decimal
    member_exposure: Decimal
    free_balance: Decimal


@dataclass(frozen=True)
class Decision:
    granted: bool
    amount: Decimal
    reason: DeclineReason | None = None
    detail: str = ""


def salary_cost(amount_excl_vat: Decimal, fee_rate: Decimal) -> Decimal:
    """What the fund may have to advance: the amount excl. VAT less SMart's fee."""
    return amount_excl_vat - round2(amount_excl_vat * fee_rate)


def decide_guarantee(request: GuaranteeRequest, policy: GuaranteePolicy) -> Decision:
    """Granted when every rule holds; else declined with the first rule that fails."""
    cost = salary_cost(request.amount_excl_vat, policy.fee_rate)

    def declined(reason: DeclineReason, detail: str) -> Decision:
        return Decision(False, cost, reason, detail)

    if request.client_signed_at is None or request.client_signed_at > request.signed_at:
        return declined("client_not_signed", "The client's signature is missing")
    if request.client_country.upper() not in policy.eu_countries:
        return declined("client_outside_eu",
                        f"The client is in {request.client_country}, outside the EU")
    client_total = request.client_exposure + cost
    if client_total > policy.client_cap:
        return declined("client_cap_exceeded",
                        f"The client's guaranteed exposure would be {client_total}, "
                        f"above the cap of {policy.client_cap}")
    member_total = request.member_exposure + cost
    if member_total > policy.member_cap:
        return declined("member_cap_exceeded",
                        f"The member's guaranteed exposure would be {member_total}, "
                        f"above the cap of {policy.member_cap}")
    if request.free_balance < cost:
        return declined("fund_insufficient",
                        f"The fund's free balance {request.free_balance} does not cover {cost}")
    return Decision(True, cost, None, f"Salary cost {cost} reserved")
