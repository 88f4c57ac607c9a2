"""The fund's section of the branch rule packs (``fund.toml``)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict
from smart_shared.rulepacks import Sourced, SourcedDecimal, rule_pack

from fund.domain.decision import GuaranteePolicy


class FundRules(BaseModel):
    """Guarantee caps, the contribution rate and the countries whose clients may be guaranteed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    client_cap: SourcedDecimal
    member_cap: SourcedDecimal
    contribution_rate: SourcedDecimal
    eu_countries: Sourced[list[str]]


def fund_rules(branch: str, day: date) -> FundRules:
    """The fund's rules in force for ``branch`` on ``day`` (``UnknownRulePack`` if none)."""
    return rule_pack(branch, day).section("fund", FundRules)


def guarantee_policy(branch: str, day: date) -> GuaranteePolicy:
    """The numbers the guarantee decision needs, from the branch's pack."""
    pack = rule_pack(branch, day)
    rules = pack.section("fund", FundRules)
    return GuaranteePolicy(
        client_cap=rules.client_cap.value,
        member_cap=rules.member_cap.value,
        fee_rate=pack.common.fee_rate.value,
        eu_countries=frozenset(rules.eu_countries.value),
    )


def contribution_rate(branch: str, day: date) -> Decimal:
    return fund_rules(branch, day).contribution_rate.value
