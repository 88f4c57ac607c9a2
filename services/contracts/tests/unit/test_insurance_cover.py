"""The insurance cover of a contract: recorded at SMart's validation with the branch's policies
of that day, for the work days from the first to the last, ended by a cancellation."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from contracts.contract_pdf import MESSAGES
from contracts.domain import (
    Contract,
    ContractRules,
    ContractStatus,
    InsuranceRules,
    cover_ended,
    cover_of,
    covered_days,
    is_covered,
    issue_signing_link,
)
from hypothesis import given
from hypothesis import strategies as st
from smart_shared.events import ContractCancelled, ContractSigned
from smart_shared.rulepacks import placeholders, rule_pack

from .test_lifecycle import INSURANCE, NOW, TODAY, a_contract

BE = rule_pack("BE", TODAY).section("contracts", ContractRules).insurance
FR = rule_pack("FR", TODAY).section("contracts", ContractRules).insurance
DAYS = [date(2026, 3, 10), date(2026, 3, 12), date(2026, 3, 20)]


def _signed_by_client(work_days: list[date] | None = None) -> Contract:
    contract = a_contract(work_days)
    link = issue_signing_link(NOW, 14)
    contract.submit(link, NOW)
    contract.sign_by_client(link.token, "192.0.2.1", NOW, None)
    return contract


def _validated(work_days: list[date] | None = None) -> tuple[Contract, ContractSigned]:
    contract = _signed_by_client(work_days)
    signed = contract.validate_for_smart(True, TODAY, NOW, INSURANCE)
    assert isinstance(signed, ContractSigned)
    return contract, signed


def test_the_cover_runs_from_the_first_work_day_to_the_last() -> None:
    cover = cover_of(BE, DAYS, "EUR")
    assert (cover.covered_from, cover.covered_until) == (date(2026, 3, 10), date(2026, 3, 20))
    assert cover.ended_on is None
    assert covered_days(cover, DAYS) == DAYS


def test_only_the_contracts_work_days_are_covered_not_the_days_between() -> None:
    cover = cover_of(BE, DAYS, "EUR")
    assert is_covered(cover, DAYS, date(2026, 3, 12))
    assert not is_covered(cover, DAYS, date(2026, 3, 11))
    assert not is_covered(cover, DAYS, date(2026, 3, 9))
    assert not is_covered(cover, DAYS, date(2026, 3, 21))


def test_a_belgian_contract_is_covered_for_work_accidents_civil_liability_and_life_accidents(
) -> None:
    cover = cover_of(BE, DAYS, "EUR")
    assert [policy.kind for policy in cover.policies] == [
        "work_accident", "civil_liability", "accident_in_life"]
    work_accident, liability, life = cover.policies
    assert cover.obligation == "Law of 10 April 1971 on work accidents"
    assert "art. 49" in BE.obligation.source
    assert work_accident.during == liability.during == "work_days"
    assert life.during == "from_first_contract"
    assert work_accident.limit_per_claim is None, "the law sets the compensation"
    assert liability.limit_per_claim is not None
    assert liability.limit_per_claim.amount == Decimal("2500000.00")
    assert liability.limit_per_claim.currency == "EUR"
    assert "10 April 1971" in work_accident.source


def test_a_french_contract_is_covered_under_the_social_security_code() -> None:
    cover = cover_of(FR, DAYS, "EUR")
    assert [policy.kind for policy in cover.policies] == ["work_accident", "civil_liability"]
    assert "L411-1" in cover.obligation
    assert cover.policies[0].insurer.startswith("Assurance Maladie")
    assert "1242" in cover.policies[1].source


def test_policy_numbers_that_are_not_public_are_labelled_placeholders_never_passed_as_real(
) -> None:
    for rules, branch in ((BE, "BE"), (FR, "FR")):
        cover = cover_of(rules, DAYS, "EUR")
        assert all(policy.placeholder for policy in cover.policies)
        assert all("PLACEHOLDER" in policy.policy_number for policy in cover.policies)
        stand_ins = placeholders(branch)
        assert any("insurance.work_accident.policy_number" in where for where in stand_ins)
        assert any("insurance.civil_liability.policy_number" in where for where in stand_ins)


def test_every_insurance_rule_has_its_source() -> None:
    for rules in (BE, FR):
        assert len(rules.obligation.source) > 20
        for name in InsuranceRules.model_fields.keys() - {"obligation"}:
            policy = getattr(rules, name)
            if policy is None:
                continue
            for value in (policy.insurer, policy.policy_number, policy.covers,
                          policy.limit_per_claim):
                assert value is None or len(value.source) > 10, name


def test_the_belgian_packs_texts_read_in_french_and_dutch_on_the_certificate() -> None:
    texts = [BE.obligation.value]
    for policy in (BE.work_accident, BE.civil_liability, BE.accident_in_life):
        assert policy is not None
        texts += [policy.insurer.value, policy.covers.value]
    for language in ("fr", "nl"):
        for text in texts:
            assert MESSAGES.text(language, text) != text, (language, text)


def test_a_cancellation_ends_the_cover_on_its_day_and_no_later_day_is_covered() -> None:
    cover = cover_ended(cover_of(BE, DAYS, "EUR"), date(2026, 3, 11))
    assert cover.ended_on == date(2026, 3, 11)
    assert covered_days(cover, DAYS) == [date(2026, 3, 10)]
    assert not is_covered(cover, DAYS, date(2026, 3, 12))


def test_an_end_once_recorded_is_not_moved_later() -> None:
    ended = cover_ended(cover_of(BE, DAYS, "EUR"), date(2026, 3, 5))
    assert cover_ended(ended, date(2026, 3, 8)).ended_on == date(2026, 3, 5)
    assert cover_ended(ended, date(2026, 3, 1)).ended_on == date(2026, 3, 1)


def test_the_cover_is_recorded_when_smart_validates_and_travels_in_contract_signed() -> None:
    contract, signed = _validated(DAYS)
    assert contract.insurance is not None
    assert signed.insurance == contract.insurance
    assert signed.insurance is not None
    assert signed.insurance.covered_from == DAYS[0]
    assert signed.insurance.covered_until == DAYS[-1]


def test_a_contract_the_client_signed_but_smart_did_not_validate_is_not_covered() -> None:
    contract = _signed_by_client()
    assert contract.validate_for_smart(False, TODAY, NOW, INSURANCE) is None
    assert contract.insurance is None


def test_cancelling_a_signed_contract_ends_its_cover_and_says_so_in_contract_cancelled() -> None:
    contract, _ = _validated(DAYS)
    cancelled_on = DAYS[0] - timedelta(days=3)
    event = contract.cancel("client withdrew", cancelled_on, NOW)
    assert isinstance(event, ContractCancelled)
    assert event.insurance_ended_on == cancelled_on
    assert contract.insurance is not None
    assert contract.insurance.ended_on == cancelled_on
    assert covered_days(contract.insurance, DAYS) == []


def test_cancelling_a_contract_never_covered_ends_no_cover() -> None:
    contract = a_contract()
    event = contract.cancel("changed my mind", TODAY, NOW)
    assert contract.status == ContractStatus.CANCELLED
    assert contract.insurance is None and event.insurance_ended_on is None


@given(st.sets(st.dates(date(2026, 3, 3), date(2027, 3, 1)), min_size=1, max_size=40),
       st.dates(date(2026, 3, 1), date(2027, 4, 1)) | st.none())
def test_the_covered_days_are_the_work_days_before_any_cancellation(
        days: set[date], cancelled_on: date | None) -> None:
    work_days = sorted(days)
    cover = cover_of(BE, work_days, "EUR")
    if cancelled_on is not None:
        cover = cover_ended(cover, cancelled_on)
    assert covered_days(cover, work_days) == [
        day for day in work_days if cancelled_on is None or day < cancelled_on]
    assert (cover.covered_from, cover.covered_until) == (work_days[0], work_days[-1])
