"""The contract's lifecycle: every allowed and every refused transition."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from contracts.domain import (
    Contract,
    ContractRules,
    ContractStatus,
    SigningRefused,
    TransitionRefused,
    issue_signing_link,
)
from contracts.domain.lifecycle import ALLOWED, can_move, ensure_can_move, statuses_before
from smart_shared.events import (
    Activity,
    Address,
    Client,
    ContractCancelled,
    ContractSigned,
    EmploymentDeclared,
    WorkCompleted,
)
from smart_shared.money import Money
from smart_shared.rulepacks import rule_pack

S = ContractStatus
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
TODAY = date(2026, 3, 2)
MUSICIAN = Activity(name="musician", kind="artistic", joint_committee="304")
INSURANCE = rule_pack("BE", TODAY).section("contracts", ContractRules).insurance


def a_client() -> Client:
    return Client(client_key="BE0403170701", name="Acme", kind="business", country="BE",
                  email="ap@acme.be",
                  address=Address(street="Rue 1", postal_code="1000", city="Bruxelles",
                                  country="BE"),
                  vat_number="BE0403170701", language="fr")


def a_contract(work_days: list[date] | None = None) -> Contract:
    return Contract(
        contract_id="c-1", branch="BE", member_id="m-1", activity=MUSICIAN, client=a_client(),
        description="Concert", work_days=work_days or [date(2026, 3, 10), date(2026, 3, 11)],
        amount_excl_vat=Money.of("1000"), expenses=Money.zero(), payment_term_days=30,
        created_at=NOW, created_by="m-1",
    )


EXPECTED_ALLOWED = {
    (S.DRAFT, S.SUBMITTED), (S.DRAFT, S.CANCELLED),
    (S.SUBMITTED, S.SUBMITTED), (S.SUBMITTED, S.SIGNED_BY_CLIENT), (S.SUBMITTED, S.CANCELLED),
    (S.SIGNED_BY_CLIENT, S.SIGNED), (S.SIGNED_BY_CLIENT, S.CANCELLED),
    (S.SIGNED, S.DECLARED), (S.SIGNED, S.CANCELLED),
    (S.DECLARED, S.COMPLETED), (S.DECLARED, S.CANCELLED),
}


@pytest.mark.parametrize("current", list(S))
@pytest.mark.parametrize("wanted", list(S))
def test_each_transition_is_allowed_or_refused_as_the_lifecycle_says(
    current: ContractStatus, wanted: ContractStatus
) -> None:
    allowed = (current, wanted) in EXPECTED_ALLOWED
    assert can_move(current, wanted) is allowed
    if allowed:
        ensure_can_move(current, wanted)
    else:
        with pytest.raises(TransitionRefused):
            ensure_can_move(current, wanted)


def test_completed_and_cancelled_contracts_are_final() -> None:
    assert ALLOWED[S.COMPLETED] == frozenset()
    assert ALLOWED[S.CANCELLED] == frozenset()


def test_statuses_before_lists_where_a_step_may_come_from() -> None:
    assert statuses_before(S.COMPLETED) == ["declared"]
    assert set(statuses_before(S.CANCELLED)) == {"draft", "submitted", "signed_by_client",
                                                 "signed", "declared"}


def _signed(contract: Contract | None = None) -> Contract:
    contract = contract or a_contract()
    link = issue_signing_link(NOW, 14)
    contract.submit(link, NOW)
    contract.sign_by_client(link.token, "203.0.113.7", NOW, "00-trace-span-01")
    event = contract.validate_for_smart(True, TODAY, NOW, INSURANCE)
    assert isinstance(event, ContractSigned)
    return contract


def test_the_happy_path_publishes_signed_declared_completed_with_versions_1_2_3() -> None:
    contract = a_contract()
    link = issue_signing_link(NOW, 14)
    contract.submit(link, NOW)
    assert contract.status == S.SUBMITTED
    contract.sign_by_client(link.token, "203.0.113.7", NOW, "tp")
    assert contract.status == S.SIGNED_BY_CLIENT
    assert contract.client_signature is not None
    assert contract.client_signature.ip == "203.0.113.7"
    signed = contract.validate_for_smart(True, TODAY, NOW + timedelta(seconds=1), INSURANCE)
    assert isinstance(signed, ContractSigned)
    assert signed.version == 1
    assert signed.first_work_day == date(2026, 3, 10)
    assert signed.last_work_day == date(2026, 3, 11)
    assert signed.client_signed_at == NOW
    assert signed.client.client_key == "BE0403170701"
    declared = contract.record_declaration("SIM-1", NOW)
    assert isinstance(declared, EmploymentDeclared) and declared.version == 2
    completed = contract.complete(date(2026, 3, 12), NOW)
    assert isinstance(completed, WorkCompleted) and completed.version == 3
    assert contract.status == S.COMPLETED


def test_validation_is_refused_for_a_member_no_longer_active() -> None:
    contract = a_contract()
    link = issue_signing_link(NOW, 14)
    contract.submit(link, NOW)
    contract.sign_by_client(link.token, "1.2.3.4", NOW, None)
    assert contract.validate_for_smart(False, TODAY, NOW, INSURANCE) is None
    assert contract.status == S.SIGNED_BY_CLIENT
    assert contract.validation_refused == "the member is not active"
    assert contract.version == 0


def test_validation_is_refused_once_the_work_has_started() -> None:
    contract = a_contract()
    link = issue_signing_link(NOW, 14)
    contract.submit(link, NOW)
    contract.sign_by_client(link.token, "1.2.3.4", NOW, None)
    assert contract.validate_for_smart(True, date(2026, 3, 10), NOW, INSURANCE) is None
    assert contract.status == S.SIGNED_BY_CLIENT


def test_work_is_not_completed_before_the_last_work_day_is_over() -> None:
    contract = _signed()
    contract.record_declaration("SIM-1", NOW)
    with pytest.raises(TransitionRefused):
        contract.complete(date(2026, 3, 11), NOW)
    assert contract.status == S.DECLARED


def test_a_signed_but_undeclared_contract_is_not_completed() -> None:
    contract = _signed()
    with pytest.raises(TransitionRefused):
        contract.complete(date(2026, 4, 1), NOW)


def test_cancelling_a_declared_contract_before_the_start_asks_to_cancel_the_declaration() -> None:
    contract = _signed()
    contract.record_declaration("SIM-1", NOW)
    event = contract.cancel("client withdrew", date(2026, 3, 9), NOW)
    assert isinstance(event, ContractCancelled)
    assert event.version == 3
    assert contract.status == S.CANCELLED
    assert contract.declaration.cancel_pending is True


def test_a_signed_contract_cannot_be_cancelled_on_or_after_its_first_work_day() -> None:
    contract = _signed()
    with pytest.raises(TransitionRefused, match="started"):
        contract.cancel("too late", date(2026, 3, 10), NOW)
    assert contract.status == S.SIGNED


def test_a_draft_can_be_cancelled_even_after_its_dates() -> None:
    contract = a_contract()
    event = contract.cancel("member erased", date(2026, 4, 1), NOW)
    assert event.version == 1
    assert contract.status == S.CANCELLED


def test_a_completed_contract_cannot_be_cancelled() -> None:
    contract = _signed()
    contract.record_declaration("SIM-1", NOW)
    contract.complete(date(2026, 3, 12), NOW)
    with pytest.raises(TransitionRefused):
        contract.cancel("late", date(2026, 3, 1), NOW)


def test_a_draft_cannot_be_signed_by_the_client() -> None:
    contract = a_contract()
    with pytest.raises(TransitionRefused):
        contract.sign_by_client("whatever-token-value", "1.2.3.4", NOW, None)


def test_resubmitting_replaces_the_signing_link() -> None:
    contract = a_contract()
    first = issue_signing_link(NOW, 14)
    second = issue_signing_link(NOW, 14)
    contract.submit(first, NOW)
    contract.submit(second, NOW)
    assert contract.signing is not None
    assert contract.signing.token_hash == second.token_hash


def test_declaration_is_late_when_the_first_day_is_within_the_alert_days() -> None:
    contract = _signed()
    assert not contract.is_declaration_late(date(2026, 3, 8), 1)
    assert contract.is_declaration_late(date(2026, 3, 9), 1)
    assert contract.is_declaration_late(date(2026, 3, 12), 1)
    contract.record_declaration("SIM-1", NOW)
    assert not contract.is_declaration_late(date(2026, 3, 9), 1)


def test_a_failed_declaration_is_scheduled_again() -> None:
    contract = _signed()
    contract.declaration_failed("outage", NOW, NOW + timedelta(minutes=1))
    assert contract.status == S.SIGNED
    assert contract.declaration.attempts == 1
    assert contract.declaration.next_attempt_at == NOW + timedelta(minutes=1)


def test_a_contract_signs_once_with_its_token() -> None:
    contract = a_contract()
    link = issue_signing_link(NOW, 14)
    contract.submit(link, NOW)
    contract.sign_by_client(link.token, "1.2.3.4", NOW, None)
    assert contract.signing is not None and contract.signing.used_at == NOW
    contract.status = ContractStatus.SUBMITTED  # even if it were submitted again by mistake
    with pytest.raises(SigningRefused) as refused:
        contract.sign_by_client(link.token, "1.2.3.4", NOW, None)
    assert refused.value.reason == "used"


def test_an_expired_link_does_not_sign_the_contract() -> None:
    contract = a_contract()
    link = issue_signing_link(NOW, 14)
    contract.submit(link, NOW)
    with pytest.raises(SigningRefused):
        contract.sign_by_client(link.token, "1.2.3.4", NOW + timedelta(days=15), None)
    assert contract.status == ContractStatus.SUBMITTED
    assert contract.client_signature is None
