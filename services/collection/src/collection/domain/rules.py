"""The collection section of a branch's rule pack: schedules, claims, interest rates, damages."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from smart_shared.events.catalogue import ClientKind, ReminderLevel
from smart_shared.rulepacks import (
    CompanyIdentity,
    SellerIdentity,
    Sourced,
    SourcedDecimal,
    SourcedInt,
    rule_pack,
)

LEVELS: tuple[ReminderLevel, ...] = (
    "reminder_1", "reminder_2", "formal_notice", "legal_handover", "write_off_proposed"
)
"""The steps of every dunning schedule, in the order they are taken."""

InterestFrom = Literal["due_date", "first_claim"]
Channel = Literal["email", "post"]
"""How a letter reaches the debtor: e-mailed, or printed and posted by staff."""


class _Rules(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Schedule(_Rules):
    """Days after the due date on which each step is taken at the earliest."""

    reminder_1: SourcedInt
    reminder_2: SourcedInt
    formal_notice: SourcedInt
    legal_handover: SourcedInt
    write_off_proposed: SourcedInt

    def day_of(self, level: ReminderLevel) -> int:
        return int(getattr(self, level).value)

    @model_validator(mode="after")
    def _in_order(self) -> Schedule:
        days = [self.day_of(level) for level in LEVELS]
        if days != sorted(set(days)) or days[0] < 1:
            raise ValueError(f"schedule days must be positive and strictly increasing: {days}")
        return self


class RatePeriod(_Rules):
    """A yearly late-interest rate in force from ``starts_on`` to ``ends_on`` inclusive."""

    starts_on: date
    ends_on: date
    rate: SourcedDecimal


class BookXixDamages(_Rules):
    """Belgian consumer damages tiers (Code of Economic Law, art. XIX.4 §2)."""

    flat_up_to: SourcedDecimal
    flat_amount: SourcedDecimal
    middle_up_to: SourcedDecimal
    middle_base: SourcedDecimal
    middle_rate: SourcedDecimal
    upper_base: SourcedDecimal
    upper_rate: SourcedDecimal
    ceiling: SourcedDecimal


class TermStart(_Rules):
    """When the free reminder's term starts (Code of Economic Law, art. XIX.2 §1)."""

    email_calendar_days: SourcedInt
    post_working_days: SourcedInt
    holiday_calendar: Sourced[str]


class LetterTerms(_Rules):
    """Days the debtor is given to pay from the day a letter is sent (none: the letter only
    informs, e.g. the handover for legal recovery)."""

    reminder_1: SourcedInt | None = None
    reminder_2: SourcedInt | None = None
    formal_notice: SourcedInt | None = None

    def days_for(self, level: ReminderLevel) -> int | None:
        term: SourcedInt | None = getattr(self, level, None)
        return None if term is None else int(term.value)


class DebtorRules(_Rules):
    """How a business or a consumer debtor is reminded and what may be claimed from them."""

    schedule: Schedule
    claims_from: Sourced[ReminderLevel]
    interest_from: Sourced[InterestFrom]
    interest_rates: list[RatePeriod] = Field(min_length=1)
    fixed_compensation: SourcedDecimal | None = None
    damages: BookXixDamages | None = None
    cost_free_days: SourcedInt | None = None
    term_starts: TermStart | None = None
    pay_within_days: LetterTerms
    mentions: dict[str, Sourced[str]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _costs_wait_for_the_free_term(self) -> DebtorRules:
        # the pack's own schedule must already respect the term of an e-mailed free reminder
        if self.cost_free_days and self.cost_free_days.value and self.term_starts:
            earliest = (self.schedule.reminder_1.value + self.term_starts.email_calendar_days.value
                        + self.cost_free_days.value)
            if self.schedule.day_of(self.claims_from.value) < earliest:
                raise ValueError(f"the first step with costs comes before the free reminder's "
                                 f"term ends: due+{earliest} at the earliest")
        return self

    @model_validator(mode="after")
    def _rates_follow_each_other(self) -> DebtorRules:
        for before, after in zip(self.interest_rates, self.interest_rates[1:], strict=False):
            if (after.starts_on - before.ends_on).days != 1:
                raise ValueError(f"interest periods must follow each other without gap: "
                                 f"{before.ends_on} then {after.starts_on}")
        for period in self.interest_rates:
            if period.ends_on < period.starts_on:
                raise ValueError(f"interest period ends before it starts: {period.starts_on}")
        return self

    def claims_costs_at(self, level: ReminderLevel) -> bool:
        """Whether interest and compensation are claimed at this step."""
        return LEVELS.index(level) >= LEVELS.index(self.claims_from.value)


class CreditorSeller(SellerIdentity):
    """The branch's SMart entity, and the account the debtor pays into."""

    iban: Sourced[str]


class Creditor(CompanyIdentity):
    """Who claims the debt, as every document of the branch names it."""

    seller: CreditorSeller


def creditor(branch: str, on: date) -> Creditor:
    """The branch's company details in force on ``on``, read where the invoices read them."""
    return rule_pack(branch, on).section("billing", Creditor)


class LoanCaseRules(_Rules):
    """A defaulted loan's case: days from the default to each letter to the member and to the
    proposal that staff write it off (no interest: none is set by law on these loans)."""

    default_notice: SourcedInt
    reminder: SourcedInt
    write_off_proposed: SourcedInt

    @model_validator(mode="after")
    def _in_order(self) -> LoanCaseRules:
        days = [self.default_notice.value, self.reminder.value, self.write_off_proposed.value]
        if days[0] < 0 or days != sorted(set(days)):
            raise ValueError(f"loan case days must be strictly increasing from 0: {days}")
        return self


class CollectionRules(_Rules):
    """The ``collection`` section of a rule pack."""

    business: DebtorRules
    consumer: DebtorRules
    loans: LoanCaseRules | None = None

    def for_debtor(self, kind: ClientKind) -> DebtorRules:
        return self.business if kind == "business" else self.consumer


def collection_rules(branch: str, on: date) -> CollectionRules:
    """The collection rules of ``branch`` in force on day ``on``."""
    return rule_pack(branch, on).section("collection", CollectionRules)
