"""The guarantee decision at each rule's boundary (BE-2026 pack numbers)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from fund.domain import GuaranteeRequest, decide_guarantee, salary_cost
from fund.domain.rules import guarantee_policy

BE = guarantee_policy("BE", date(2026, 3, 1))
FR = guarantee_policy("FR", date(2026, 3, 1))
SIGNED = datetime(2026, 3, 1, 10, tzinfo=UTC)


def amount_costing(cost: Decimal) -> Decimal:
    """An amount excl. VAT whose salary cost is exactly ``cost`` under the BE fee."""
    guess = int(cost / (1 - BE.fee_rate) * 100)
    for cents in range(guess - 5, guess + 5):
        amount = Decimal(cents) / 100
        if salary_cost(amount, BE.fee_rate) == cost:
            return amount
    raise AssertionError(f"no amount costs {cost}")


def request(**changes: object) -> GuaranteeRequest:
    values: dict[str, object] = dict(
        amount_excl_vat=Decimal("1000.00"), client_country="BE",
        client_signed_at=SIGNED - timedelta(hours=1), signed_at=SIGNED,
        client_exposure=Decimal("0.00"), member_exposure=Decimal("0.00"),
        free_balance=Decimal("100000.00"),
    )
    values.update(changes)
    return GuaranteeRequest(**values)  # type: ignore[arg-type]


def test_the_salary_cost_is_the_amount_less_the_fee() -> None:
    assert salary_cost(Decimal("1000.00"), BE.fee_rate) == Decimal("935.00")
    assert salary_cost(Decimal("1000.00"), FR.fee_rate) == Decimal("915.00")
    assert salary_cost(Decimal("0.10"), BE.fee_rate) == Decimal("0.09")  # fee 0.0065 → 0.01


def test_a_signed_eu_client_within_the_caps_is_granted_the_salary_cost() -> None:
    decision = decide_guarantee(request(), BE)
    assert decision.granted and decision.amount == Decimal("935.00") and decision.reason is None


def test_without_the_clients_signature_it_is_declined() -> None:
    decision = decide_guarantee(request(client_signed_at=None), BE)
    assert not decision.granted and decision.reason == "client_not_signed"
    later = decide_guarantee(request(client_signed_at=SIGNED + timedelta(seconds=1)), BE)
    assert later.reason == "client_not_signed"


@pytest.mark.parametrize("country", ["CH", "GB", "US", "NO"])
def test_a_client_outside_the_eu_is_declined(country: str) -> None:
    assert decide_guarantee(request(client_country=country), BE).reason == "client_outside_eu"


@pytest.mark.parametrize("country", ["BE", "FR", "DE", "GR", "se"])
def test_a_client_inside_the_eu_passes(country: str) -> None:
    assert decide_guarantee(request(client_country=country), BE).granted


def test_the_client_cap_is_reached_exactly_but_not_one_cent_over() -> None:
    at_cap = decide_guarantee(request(client_exposure=BE.client_cap - Decimal("935.00")), BE)
    assert at_cap.granted
    over = decide_guarantee(request(client_exposure=BE.client_cap - Decimal("934.99")), BE)
    assert not over.granted and over.reason == "client_cap_exceeded"
    assert "25000.01" in over.detail


def test_the_member_cap_is_reached_exactly_but_not_one_cent_over() -> None:
    at_cap = decide_guarantee(request(member_exposure=BE.member_cap - Decimal("935.00")), BE)
    assert at_cap.granted
    over = decide_guarantee(request(member_exposure=BE.member_cap - Decimal("934.99")), BE)
    assert not over.granted and over.reason == "member_cap_exceeded"


def test_one_contract_alone_at_the_member_cap_is_granted_and_one_cent_more_is_not() -> None:
    amount = amount_costing(BE.member_cap)
    assert decide_guarantee(request(amount_excl_vat=amount), BE).granted
    bigger = amount_costing(BE.member_cap + Decimal("0.01"))
    assert decide_guarantee(request(amount_excl_vat=bigger), BE).reason == "member_cap_exceeded"


def test_the_free_balance_must_cover_the_salary_cost_to_the_cent() -> None:
    assert decide_guarantee(request(free_balance=Decimal("935.00")), BE).granted
    short = decide_guarantee(request(free_balance=Decimal("934.99")), BE)
    assert not short.granted and short.reason == "fund_insufficient"


def test_france_has_its_own_caps() -> None:
    assert FR.client_cap == Decimal("20000.00") and FR.member_cap == Decimal("12000.00")
    one_cent_over = FR.member_cap - Decimal("915.00") + Decimal("0.01")
    over = decide_guarantee(request(member_exposure=one_cent_over), FR)
    assert over.reason == "member_cap_exceeded"


def test_the_first_failing_rule_is_the_reason() -> None:
    decision = decide_guarantee(
        request(client_country="US", client_exposure=BE.client_cap, free_balance=Decimal("0")), BE
    )
    assert decision.reason == "client_outside_eu"
