from datetime import UTC, date, datetime
from decimal import Decimal, localcontext
from enum import StrEnum

from bson.decimal128 import Decimal128, create_decimal128_context
from hypothesis import given
from hypothesis import strategies as st
from smart_shared.codec import (
    decimal128,
    from_decimal128,
    jsonable,
    storable,
    stored_amount,
    stored_day,
)


class Status(StrEnum):
    SIGNED = "signed"


def test_a_stored_document_keeps_days_as_iso_strings_decimals_as_strings_and_datetimes_as_dates():
    at = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    doc = storable({"on": date(2026, 3, 2), "amount": Decimal("12.30"), "status": Status.SIGNED,
                    "at": at, "days": [date(2026, 3, 3)]})
    assert doc == {"on": "2026-03-02", "amount": "12.30", "status": "signed", "at": at,
                   "days": ["2026-03-03"]}


def test_stored_days_and_amounts_read_back_exactly_and_a_missing_amount_is_zero():
    assert stored_day("2026-03-02") == date(2026, 3, 2)
    assert stored_amount("12.30") == Decimal("12.30")
    assert stored_amount(decimal128(Decimal("0.10"))) == Decimal("0.10")
    assert stored_amount(None) == Decimal("0.00")
    assert isinstance(decimal128(Decimal("1")), Decimal128)


def test_a_stored_document_made_jsonable_has_only_json_values():
    assert jsonable({"a": [date(2026, 1, 1), 1, None]}) == {"a": ["2026-01-01", 1, None]}


def _bson_decimal128(value: Decimal) -> Decimal128:
    with localcontext(create_decimal128_context()) as ctx:
        return Decimal128(ctx.create_decimal(value))


_EDGES = [Decimal("0.00"), Decimal("-0.00"), Decimal(0), Decimal("-0"), Decimal("1E+6111"),
          Decimal("1E-6176"), Decimal("9" * 34), Decimal("-" + "9" * 34 + "E-34"),
          Decimal("1" + "0" * 34), Decimal("1E+6112"), Decimal("1E-6177"), Decimal("NaN"),
          Decimal("-Infinity"), Decimal("Infinity"), Decimal("123456789012345678901234567890.12")]


@given(st.decimals(allow_nan=True, allow_infinity=True)
       | st.decimals(min_value=-10**12, max_value=10**12, places=2))
def test_an_amount_is_stored_with_the_bits_bson_gives_it_and_read_back_the_same(
        value: Decimal) -> None:
    stored = decimal128(value)
    assert stored.bid == _bson_decimal128(value).bid
    back, expected = from_decimal128(stored), stored.to_decimal()
    assert str(back) == str(expected)  # the same digits, exponent and sign, NaN included


def test_the_edges_of_decimal128_are_stored_and_read_back_as_bson_does() -> None:
    for value in _EDGES:
        stored = decimal128(value)
        assert stored.bid == _bson_decimal128(value).bid, value
        assert str(from_decimal128(stored)) == str(stored.to_decimal()), value
    assert str(from_decimal128(decimal128(Decimal("-0.00")))) == "-0.00"
    assert from_decimal128(decimal128(Decimal("1234.50"))).as_tuple().exponent == -2
