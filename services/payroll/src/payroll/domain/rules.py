"""The payroll section of a branch rule pack, and the rules a salary is computed with."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from smart_shared.events import ActivityKind
from smart_shared.money import ExactDecimal, round2
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


class Contribution(_Rules):
    """One social contribution: ``rate`` of a base. The base is the gross (``gross``), the gross
    times the activity's social base rate (``social``) or times the pack's CSG base rate
    (``csg``); ``from_ceilings`` / ``up_to_ceilings`` keep the part of it between those multiples
    of the social security ceiling (a French "tranche")."""

    name: str = Field(pattern=r"^[a-z0-9_]+$")
    label: str = Field(min_length=3)
    rate: SourcedDecimal
    base: Literal["gross", "social", "csg"] = "gross"
    from_ceilings: ExactDecimal | None = Field(None, ge=0)
    up_to_ceilings: ExactDecimal | None = Field(None, gt=0)
    activities: list[ActivityKind] | None = None
    deductible: bool = Field(
        True, description="Employee contributions only: deducted from the taxable pay.")

    @model_validator(mode="after")
    def _sensible(self) -> Contribution:
        if not 0 <= self.rate.value < 1:
            raise ValueError(f"{self.name}: rate must be at least 0 and below 1")
        low, high = self.from_ceilings or 0, self.up_to_ceilings
        if high is not None and high <= low:
            raise ValueError(f"{self.name}: up_to_ceilings must be above from_ceilings")
        return self

    def applies_to(self, kind: ActivityKind) -> bool:
        return self.activities is None or kind in self.activities


class KeyFormula(_Rules):
    """The key formula of Annex III of the AR/CIR 92 (Belgium), single person without
    dependants: yearly pay less lump-sum expenses, taxed by the base scale, less the tax on
    the tax-free sum."""

    periods_per_year: SourcedInt
    lump_sum_expenses_rate: SourcedDecimal
    lump_sum_expenses_max: SourcedDecimal
    tax_free_sum: SourcedDecimal
    brackets: Sourced[list[Bracket]]

    @model_validator(mode="after")
    def _sensible(self) -> KeyFormula:
        scale = self.brackets.value
        if not scale or scale[-1].up_to is not None:
            raise ValueError("brackets must end with an open bracket")
        if self.periods_per_year.value < 1:
            raise ValueError("periods_per_year must be at least 1")
        return self

    def scale_tax(self, income: Decimal) -> Decimal:
        """The base scale applied to a yearly income (unrounded)."""
        tax, lower = Decimal(0), Decimal(0)
        for bracket in self.brackets.value:
            upper = bracket.up_to
            if income <= lower:
                break
            part = income - lower if upper is None else min(income, upper) - lower
            tax += part * bracket.rate
            if upper is None:
                break
            lower = upper
        return tax

    def withholding(self, taxable: Decimal) -> Decimal:
        """The withholding on one period's taxable pay, to the cent."""
        periods = self.periods_per_year.value
        yearly = taxable * periods
        expenses = min(round2(yearly * self.lump_sum_expenses_rate.value),
                       self.lump_sum_expenses_max.value)
        tax = self.scale_tax(yearly - expenses) - self.scale_tax(self.tax_free_sum.value)
        return round2(max(tax, Decimal(0)) / periods)


class Payer(_Rules):
    """The branch's employing entity and the account salaries are paid from."""

    name: Sourced[str]
    iban: Sourced[str]
    bic: Sourced[str]
    enterprise_number: Sourced[str]
    social_security_number: Sourced[str]


class PayrollSection(_Rules):
    """``payroll.toml`` of a rule pack."""

    employer_contributions: list[Contribution] = Field(min_length=1)
    employee_contributions: list[Contribution] = Field(min_length=1)
    social_security_ceiling: SourcedDecimal | None = None
    csg_base_rate: SourcedDecimal | None = None
    pay_delay_working_days: SourcedInt
    holiday_calendar: Sourced[str]
    activities: dict[ActivityKind, ActivityRules]
    neutral_rate_grid: Sourced[list[Bracket]] | None = None
    withholding_scale: KeyFormula | None = None
    payer: Payer

    @model_validator(mode="after")
    def _complete(self) -> PayrollSection:
        for kind in ("artistic", "manual", "other"):
            activity = self.activities.get(kind)
            if activity is None:
                raise ValueError(f"activities.{kind} is missing")
            employee = sum((c.rate.value * (activity.social_base_rate.value
                                            if c.base == "social" else _ONE)
                            for c in self.employee_contributions if c.applies_to(kind)),
                           Decimal(0))
            if employee >= 1:
                raise ValueError(f"activities.{kind}: employee contributions would exceed gross")
            if (activity.withholding_rate is None and self.neutral_rate_grid is None
                    and self.withholding_scale is None):
                raise ValueError(f"activities.{kind} needs a withholding_rate, a grid or a scale")
        every = self.employer_contributions + self.employee_contributions
        if any(c.from_ceilings or c.up_to_ceilings for c in every) and (
                self.social_security_ceiling is None):
            raise ValueError("contributions by ceiling need social_security_ceiling")
        if any(c.base == "csg" for c in every) and self.csg_base_rate is None:
            raise ValueError("contributions on the CSG base need csg_base_rate")
        for side in (self.employer_contributions, self.employee_contributions):
            names = [c.name for c in side]
            if len(names) != len(set(names)):
                raise ValueError("contribution names must be unique on each side")
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

    def withholding_rate(self, kind: ActivityKind, taxable: Decimal) -> Decimal | None:
        """The flat rate of the activity, else the grid's rate for this taxable pay; ``None``
        where the progressive scale (Annex III key formula) decides the amount."""
        flat = self.payroll.activities[kind].withholding_rate
        if flat is not None:
            return flat.value
        if self.payroll.withholding_scale is not None:
            return None
        assert self.payroll.neutral_rate_grid is not None
        for bracket in self.payroll.neutral_rate_grid.value:
            if bracket.up_to is None or taxable <= bracket.up_to:
                return bracket.rate
        raise AssertionError("the grid ends with an open bracket")

    def withholding_tax(self, kind: ActivityKind, taxable: Decimal) -> Decimal:
        """The tax withheld on ``taxable``: flat rate, grid rate, or the key formula."""
        rate = self.withholding_rate(kind, taxable)
        if rate is not None:
            return round2(taxable * rate)
        assert self.payroll.withholding_scale is not None
        return self.payroll.withholding_scale.withholding(taxable)


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
