"""The fund's sections of the branch rule packs: ``fund.toml`` (the guarantee) and
``lending.toml`` (microcredit and leasing)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict
from smart_shared.events.catalogue import Financing
from smart_shared.money import ExactDecimal
from smart_shared.rulepacks import Sourced, SourcedDecimal, SourcedInt, rule_pack

from fund.domain.decision import GuaranteePolicy
from fund.domain.lending import LendingTerms


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


class AprCeiling(BaseModel):
    """The legal maximum APR for amounts up to ``up_to`` (the last bracket has none)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    up_to: ExactDecimal | None = None
    rate: ExactDecimal


class FinancingRules(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    min_amount: SourcedDecimal
    max_amount: SourcedDecimal
    min_months: SourcedInt
    max_months: SourcedInt
    annual_rate: SourcedDecimal
    fee: SourcedDecimal
    legal_max_apr: Sourced[list[AprCeiling]]
    min_months_active: SourcedInt
    min_turnover: SourcedDecimal
    write_off_free_days: SourcedInt
    max_withholding_share: SourcedDecimal
    default_after_missed: SourcedInt
    early_repayment_indemnity: SourcedDecimal
    min_residual_share: SourcedDecimal | None = None
    max_residual_share: SourcedDecimal | None = None

    def ceiling(self, amount: Decimal) -> Decimal:
        """The legal maximum APR of the bracket ``amount`` falls in."""
        for bracket in self.legal_max_apr.value:
            if bracket.up_to is None or amount <= bracket.up_to:
                return bracket.rate
        raise ValueError("the pack's APR ceilings need a last bracket without an upper bound")


class FundAccount(BaseModel):
    """The fund's bank account, which loans are paid out from."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: Sourced[str]
    iban: Sourced[str]
    bic: Sourced[str]


class DirectDebitRules(BaseModel):
    """When an instalment payroll could not withhold is collected by SEPA direct debit, and the
    branch's creditor identifier the mandates are signed to."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    after_days: SourcedInt
    creditor_id: Sourced[str]


class LendingRules(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    microcredit: FinancingRules
    leasing: FinancingRules
    account: FundAccount
    direct_debit: DirectDebitRules


def lending_rules(branch: str, day: date) -> LendingRules:
    """The lending rules in force for ``branch`` on ``day`` (``UnknownRulePack`` where the branch
    does not lend)."""
    return rule_pack(branch, day).section("lending", LendingRules)


def lending_terms(branch: str, day: date, financing: Financing, amount: Decimal) -> LendingTerms:
    """The numbers deciding and pricing one application of ``amount``."""
    rules: FinancingRules = getattr(lending_rules(branch, day), financing)
    zero = Decimal("0")
    return LendingTerms(
        financing=financing,
        min_amount=rules.min_amount.value, max_amount=rules.max_amount.value,
        min_months=rules.min_months.value, max_months=rules.max_months.value,
        annual_rate=rules.annual_rate.value, fee=rules.fee.value,
        max_apr=rules.ceiling(amount),
        min_months_active=rules.min_months_active.value,
        min_turnover=rules.min_turnover.value,
        write_off_free_days=rules.write_off_free_days.value,
        max_withholding_share=rules.max_withholding_share.value,
        default_after_missed=rules.default_after_missed.value,
        early_repayment_indemnity=rules.early_repayment_indemnity.value,
        min_residual_share=rules.min_residual_share.value if rules.min_residual_share else zero,
        max_residual_share=rules.max_residual_share.value if rules.max_residual_share else zero,
    )
