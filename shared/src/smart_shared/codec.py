"""The stored form of values in MongoDB documents, written once for every service.

Amounts are decimal strings like on the wire (or Decimal128 where the database must add them up),
days ISO strings (``YYYY-MM-DD``, which sort as dates), enums their value; datetimes stay BSON
dates.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, localcontext
from enum import Enum
from typing import Any

from bson.decimal128 import Decimal128, create_decimal128_context

ZERO = Decimal("0.00")
_DECIMAL128 = create_decimal128_context()


def storable(value: Any) -> Any:
    """A value made BSON-ready: days as ISO strings, decimals as strings, enums as their value;
    dicts and lists walked through, datetimes and everything else kept."""
    if isinstance(value, dict):
        return {key: storable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [storable(item) for item in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    return value


def iso(day: date) -> str:
    """The stored form of a day."""
    return day.isoformat()


def stored_day(value: str) -> date:
    """A stored ISO day read back."""
    return date.fromisoformat(value)


def stored_amount(value: Any) -> Decimal:
    """A stored amount (decimal string, Decimal128 or missing) read back; missing is zero."""
    if value is None:
        return ZERO
    if isinstance(value, Decimal128):
        return value.to_decimal()
    return Decimal(str(value))


def decimal128(value: Decimal) -> Decimal128:
    """An amount the database must add up (``$inc``, ``$sum``), exact to 34 digits."""
    with localcontext(_DECIMAL128) as ctx:
        return Decimal128(ctx.create_decimal(value))


def jsonable(value: Any) -> Any:
    """A stored document made safe for a JSON answer (ObjectIds, dates and decimals as strings)."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    if isinstance(value, str | int | bool | float) or value is None:
        return value
    return str(value)
