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

# IEEE 754-2008 decimal128 in the binary integer decimal encoding, as BSON stores it: the sign in
# bit 127, a 14-bit exponent biased by 6176 in bits 113-126, the significand (at most 34 digits)
# in bits 0-112. The other form (bits 125-126 set) holds NaN, the infinities and significands
# beyond 113 bits, none of which is an amount: those go through bson's own conversion.
_BIAS = 6176
_MAX_EXPONENT = 6111
_SIGN = 1 << 63
_OTHER_FORM = 0b11 << 61
_LOW_64 = (1 << 64) - 1
_SIGNIFICAND = (1 << 113) - 1
_LARGEST = 10**34 - 1


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
        return from_decimal128(value)
    return Decimal(str(value))


def decimal128(value: Decimal) -> Decimal128:
    """An amount the database must add up (``$inc``, ``$sum``), exact to 34 digits.

    The same bits as ``bson``'s conversion, four times faster: a finite value of at most 34
    digits is encoded directly; any other is rounded by bson's decimal128 context as before."""
    sign, digits, exponent = value.as_tuple()
    if type(exponent) is int and len(digits) <= 34 and -_BIAS <= exponent <= _MAX_EXPONENT:
        significand = abs(int(value.scaleb(-exponent, _DECIMAL128)))
        high = (significand >> 64) | ((exponent + _BIAS) << 49) | (_SIGN if sign else 0)
        return Decimal128((high, significand & _LOW_64))  # type: ignore[arg-type]  # (high, low) bits
    with localcontext(_DECIMAL128) as ctx:
        return Decimal128(ctx.create_decimal(value))


def from_decimal128(value: Decimal128) -> Decimal:
    """A stored Decimal128 as the exact ``Decimal`` it holds (``Decimal128.to_decimal``, four
    times faster for a finite value)."""
    bits = int.from_bytes(value.bid, "little")
    high = bits >> 64
    significand = bits & _SIGNIFICAND
    if high & _OTHER_FORM == _OTHER_FORM or significand > _LARGEST:
        return value.to_decimal()
    exponent = ((high >> 49) & 0x3FFF) - _BIAS
    return Decimal(f"{'-' if high & _SIGN else ''}{significand}E{exponent}")


def jsonable(value: Any) -> Any:
    """A stored document made safe for a JSON answer (ObjectIds, dates and decimals as strings)."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    if isinstance(value, str | int | bool | float) or value is None:
        return value
    return str(value)
