"""The insurance cover of a signed contract: recorded at SMart's validation with the branch's
policies of that day, for the work days from the first to the last, ended by a cancellation."""

from __future__ import annotations

from datetime import date

from smart_shared.events import InsuranceCover, InsuranceKind, InsurancePolicy
from smart_shared.money import Money

from contracts.domain.rules import InsuranceRules, PolicyRules


def _policy(kind: InsuranceKind, rules: PolicyRules, currency: str) -> InsurancePolicy:
    limit = rules.limit_per_claim
    return InsurancePolicy(
        kind=kind, insurer=rules.insurer.value, policy_number=rules.policy_number.value,
        covers=rules.covers.value,
        limit_per_claim=Money.of(limit.value, currency) if limit is not None else None,
        during=rules.during, source=rules.covers.source, placeholder=rules.placeholder)


def cover_of(rules: InsuranceRules, work_days: list[date], currency: str) -> InsuranceCover:
    """The cover a contract gets when it is signed: every policy of the branch's rules, from the
    first work day to the last."""
    policies = [_policy("work_accident", rules.work_accident, currency),
                _policy("civil_liability", rules.civil_liability, currency)]
    if rules.accident_in_life is not None:
        policies.append(_policy("accident_in_life", rules.accident_in_life, currency))
    return InsuranceCover(covered_from=min(work_days), covered_until=max(work_days),
                          obligation=rules.obligation.value, policies=policies)


def cover_ended(cover: InsuranceCover, on: date) -> InsuranceCover:
    """The cover once the contract is cancelled on ``on``: nothing is covered from that day on
    (an earlier end, once recorded, stays)."""
    if cover.ended_on is not None and cover.ended_on <= on:
        return cover
    return cover.model_copy(update={"ended_on": on})


def is_covered(cover: InsuranceCover, work_days: list[date], day: date) -> bool:
    """Whether ``day`` is a covered work day: one of the contract's, before any end."""
    return (day in work_days and cover.covered_from <= day <= cover.covered_until
            and (cover.ended_on is None or day < cover.ended_on))


def covered_days(cover: InsuranceCover, work_days: list[date]) -> list[date]:
    """The work days the cover protects (none once the contract was cancelled before them)."""
    return [day for day in work_days if is_covered(cover, work_days, day)]
