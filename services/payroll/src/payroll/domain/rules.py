"""The payroll section of a branch rule pack, and the rules a salary is computed with."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from smart_shared.events import ActivityKind
from smart_shared.money import ExactDecimal
from smart_shared.rulepacks import Sourced, SourcedDecimal, SourcedInt, rule_pack

_ONE = Decimal(1)


class _Rules(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ActivityRules(_Rules):
    """How one kind of activity is taxed: the social base and, if flat, the withholding rate."""

    social_base_rate: SourcedDecimal
    withholding_rate: SourcedDecimal | None = None

    @model_validator(mode="after")
    def _sensible(self) -> ActivityRules:
        if not _ONE <= self.social_base_rate.value <= Decimal(2):
            raise ValueError("social_base_rate must be between 1 and 2")
        if self.withholding_rate and not 0 <= self.withholding_rate.value < 1:
            raise ValueError("withholding_rate must be at least 0 and below 1")
        return self


class Bracket(_Rules):
    """One line of a withholding grid: ``rate`` applies to taxable pay up to ``up_to``."""

    up_to: ExactDecimal | None = None
    rate: ExactDecimal = Field(ge=0, lt=1)


class Payer(_Rules):
    """The branch's employing entity and the account salaries are paid from."""

    name: Sourced[str]
    iban: Sourced[str]
    bic: Sourced[str]
    enterprise_number: Sourced[str]
    social_security_number: Sourced[str]


class PayrollSection(_Rules):
    """``payroll.toml`` of a rule pack."""

    employer_contribution_rate: SourcedDecimal
    employee_contribution_rate: SourcedDecimal
    pay_delay_working_days: SourcedInt
    holiday_calendar: Sourced[str]
    activities: dict[ActivityKind, ActivityRules]
    neutral_rate_grid: Sourced[list[Bracket]] | None = None
    payer: Payer

    @model_validator(mode="after")
    def _complete(self) -> PayrollSection:
        if not 0 <= self.employer_contribution_rate.value < 1:
            raise ValueError("employer_contribution_rate must be at least 0 and below 1")
        for kind in ("artistic", "manual", "other"):
            activity = self.activities.get(kind)
            if activity is None:
                raise ValueError(f"activities.{kind} is missing")
            if activity.social_base_rate.value * self.employee_contribution_rate.value >= 1:
                raise ValueError(f"activities.{kind}: employee contributions would exceed gross")
            if activity.withholding_rate is None and self.neutral_rate_grid is None:
                raise ValueError(f"activities.{kind} needs a withholding_rate or a grid")
        if self.neutral_rate_grid is not None:
            grid = self.neutral_rate_grid.value
            if not grid or grid[-1].up_to is not None:
                raise ValueError("neutral_rate_grid must end with an open bracket")
        if self.pay_delay_working_days.value < 0:
            raise ValueError("pay_delay_working_days must not be negative")
        return self


@dataclass(frozen=True)
class SalaryRules:
    """Everything a salary computation needs from one rule pack."""

    pack_id: str
    branch: str
    currency: str
    fee_rate: Decimal
    payroll: PayrollSection

    def withholding_rate(self, kind: ActivityKind, taxable: Decimal) -> Decimal:
        """The flat rate of the activity, else the grid's rate for this taxable pay."""
        flat = self.payroll.activities[kind].withholding_rate
        if flat is not None:
            return flat.value
        assert self.payroll.neutral_rate_grid is not None
        for bracket in self.payroll.neutral_rate_grid.value:
            if bracket.up_to is None or taxable <= bracket.up_to:
                return bracket.rate
        raise AssertionError("the grid ends with an open bracket")


def salary_rules(branch: str, on: date) -> SalaryRules:
    """The salary rules of ``branch`` in force on day ``on`` (``UnknownRulePack`` if none)."""
    pack = rule_pack(branch, on)
    return SalaryRules(
        pack_id=pack.id,
        branch=pack.branch,
        currency=pack.currency,
        fee_rate=pack.common.fee_rate.value,
        payroll=pack.section("payroll", PayrollSection),
    )
