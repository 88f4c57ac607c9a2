from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from members.domain import NotNow, RuleBroken, ShareRules, paid_shares, pay, subscription
from smart_shared.money import Money
from smart_shared.rulepacks import rule_pack

AT = datetime(2026, 3, 2, 10, tzinfo=UTC)
RULES = rule_pack("BE", date(2026, 3, 2)).section("members", ShareRules)


def eur(amount: str) -> Money:
    return Money(amount=amount)


def test_the_belgian_share_costs_thirty_euros_and_one_paid_share_activates():
    pack = rule_pack("BE", date(2026, 3, 2))
    assert pack.common.share_price.value == Decimal("30.00")
    assert RULES.shares_to_activate.value == 1


def test_the_french_pack_has_a_members_section_too():
    rules = rule_pack("FR", date(2026, 3, 2)).section("members", ShareRules)
    assert rules.max_shares_per_subscription.value >= 1


@given(count=st.integers(min_value=1, max_value=100),
       cents=st.integers(min_value=1, max_value=1_000_000))
def test_a_subscription_costs_exactly_count_times_the_price(count: int, cents: int):
    price = Money(amount=Decimal(cents) / 100)
    share = subscription("s1", count, price, RULES, AT)
    assert share.total.amount == price.amount * count
    assert share.total.amount == share.total.amount.quantize(Decimal("0.01"))
    assert not share.is_paid


@pytest.mark.parametrize("count", [0, -1, 101])
def test_a_subscription_outside_the_limits_is_refused_on_count(count: int):
    with pytest.raises(RuleBroken) as refused:
        subscription("s1", count, eur("30.00"), RULES, AT)
    assert refused.value.errors[0][0] == "count"


def test_a_share_is_paid_only_with_its_exact_total_and_only_once():
    share = subscription("s1", 2, eur("30.00"), RULES, AT)
    with pytest.raises(RuleBroken, match=r"60\.00"):
        pay(share, eur("30.00"), date(2026, 3, 2), date(2026, 3, 2), "staff")
    paid = pay(share, eur("60.00"), date(2026, 3, 2), date(2026, 3, 2), "staff")
    assert paid.is_paid and paid.paid_amount == eur("60.00")
    with pytest.raises(NotNow):
        pay(paid, eur("60.00"), date(2026, 3, 2), date(2026, 3, 2), "staff")


def test_a_payment_cannot_be_dated_in_the_future():
    share = subscription("s1", 1, eur("30.00"), RULES, AT)
    with pytest.raises(RuleBroken) as refused:
        pay(share, eur("30.00"), date(2026, 3, 3), date(2026, 3, 2), "staff")
    assert refused.value.errors[0][0] == "paid_on"


def test_a_payment_cannot_be_dated_before_the_shares_were_subscribed():
    share = subscription("s1", 1, eur("30.00"), RULES, AT)
    with pytest.raises(RuleBroken) as refused:
        pay(share, eur("30.00"), date(2026, 3, 1), date(2026, 3, 5), "staff")
    assert refused.value.errors == [
        ("paid_on", "must not be before the shares were subscribed, on 2026-03-02")]


def test_a_share_subscribed_late_in_the_evening_is_subscribed_on_that_brussels_day():
    evening = subscription("s1", 1, eur("30.00"), RULES, datetime(2026, 3, 1, 23, 30, tzinfo=UTC))
    assert pay(evening, eur("30.00"), date(2026, 3, 2), date(2026, 3, 2), "staff").is_paid
    with pytest.raises(RuleBroken):
        pay(evening, eur("30.00"), date(2026, 3, 1), date(2026, 3, 2), "staff")


def test_paid_shares_count_only_paid_subscriptions():
    unpaid = subscription("s1", 3, eur("30.00"), RULES, AT)
    paid = pay(subscription("s2", 2, eur("30.00"), RULES, AT), eur("60.00"),
               date(2026, 3, 2), date(2026, 3, 2), "staff")
    assert paid_shares([unpaid, paid]) == 2
