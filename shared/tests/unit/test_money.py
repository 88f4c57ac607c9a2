from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError
from smart_shared.money import Money, NonNegativeMoney, PositiveMoney, round2

cents = st.decimals(min_value=Decimal("-1000000"), max_value=Decimal("1000000"), places=2)


def test_rounding_is_half_up_to_the_cent() -> None:
    assert round2(Decimal("1.005")) == Decimal("1.01")
    assert round2(Decimal("1.004")) == Decimal("1.00")
    assert round2(Decimal("-1.005")) == Decimal("-1.01")
    assert round2(Decimal("71.3653")) == Decimal("71.37")


def test_money_is_written_as_a_decimal_string() -> None:
    assert Money(amount="12.5").model_dump(mode="json") == {"amount": "12.50", "currency": "EUR"}


@pytest.mark.parametrize("amount", [12.5, 0.1, True, 3])
def test_floats_booleans_and_bare_numbers_are_refused(amount: object) -> None:
    with pytest.raises(ValidationError, match="decimal string"):
        Money(amount=amount)  # type: ignore[arg-type]


def test_floats_are_refused_in_json_too() -> None:
    with pytest.raises(ValidationError):
        Money.model_validate_json('{"amount": 12.5, "currency": "EUR"}')


@pytest.mark.parametrize("amount", ["10.005", "NaN", "Infinity", "abc", ""])
def test_over_precise_or_non_numeric_amounts_are_refused(amount: str) -> None:
    with pytest.raises(ValidationError):
        Money(amount=amount)


def test_currency_must_be_an_iso_code() -> None:
    with pytest.raises(ValidationError):
        Money(amount="1.00", currency="euro")


def test_currencies_do_not_mix() -> None:
    with pytest.raises(ValueError, match="cannot combine"):
        _ = Money(amount="1.00") + Money(amount="1.00", currency="USD")


def test_positive_and_non_negative_money() -> None:
    with pytest.raises(ValidationError):
        PositiveMoney(amount="0.00")
    with pytest.raises(ValidationError):
        NonNegativeMoney(amount="-0.01")
    assert NonNegativeMoney(amount="0").amount == Decimal("0.00")


@given(cents, cents)
def test_addition_and_subtraction_are_exact(a: Decimal, b: Decimal) -> None:
    x, y = Money.of(a), Money.of(b)
    assert (x + y).amount == a + b
    assert ((x + y) - y).amount == a


@given(cents, st.decimals(min_value=Decimal("0"), max_value=Decimal("1"), places=4))
def test_times_rounds_half_up_once(amount: Decimal, rate: Decimal) -> None:
    assert Money.of(amount).times(rate).amount == round2(amount * rate)


@given(cents)
def test_json_round_trip_keeps_the_exact_amount(amount: Decimal) -> None:
    money = Money.of(amount)
    assert Money.model_validate_json(money.model_dump_json()) == money
