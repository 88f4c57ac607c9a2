from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum

from bson.decimal128 import Decimal128
from smart_shared.codec import decimal128, jsonable, storable, stored_amount, stored_day


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
