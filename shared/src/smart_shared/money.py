"""Money: exact decimal amounts with a currency, rounded half-up to the cent.

On the wire money is ``{"amount": "1234.56", "currency": "EUR"}``. Floats are refused everywhere:
a float cannot say 0.10 exactly, so accepting one would hide a rounding error in someone's salary.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, PlainSerializer, field_validator

CENT = Decimal("0.01")
MAX_DIGITS = 18
"""Integer digits an amount may have: far above any real amount, far below Decimal's limits."""
# ASCII digits only: Python's \d and Decimal() also read Arabic-Indic and fullwidth digits
_PLAIN_DECIMAL = re.compile(r"^[+-]?[0-9]{1,40}(\.[0-9]{1,40})?$")


def round2(value: Decimal) -> Decimal:
    """Round half-up to the cent (1.005 → 1.01), the rounding every rule pack uses."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def to_decimal(value: Any) -> Decimal:
    """A decimal from a string, int or Decimal; floats, booleans and non-finite values refused."""
    if isinstance(value, bool | float):
        raise ValueError('must be a decimal string such as "12.50", not a float')
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        if not _PLAIN_DECIMAL.match(value.strip()):
            raise ValueError(f"{value[:40]!r} is not a plain decimal number such as \"12.50\" "
                             "(ASCII digits, no exponent)")
        result = Decimal(value.strip())
    else:
        raise ValueError("must be a decimal string")
    if not result.is_finite():
        raise ValueError("must be a finite number")
    if result.adjusted() >= MAX_DIGITS:
        raise ValueError(f"must have at most {MAX_DIGITS} digits before the decimal point")
    return result


def _exact_decimal(value: Any) -> Decimal:
    if isinstance(value, int) and not isinstance(value, bool):
        raise ValueError('must be a decimal string such as "12.50"')
    return to_decimal(value)


ExactDecimal = Annotated[
    Decimal,
    BeforeValidator(_exact_decimal),
    PlainSerializer(lambda d: str(d), return_type=str, when_used="json"),
]
"""A Decimal field that refuses floats and is written as a string in JSON (rates, quantities)."""


class Money(BaseModel):
    """An amount of money in a currency, exact to the cent.

    More than two decimals are refused rather than rounded: a caller who sends 10.005 has a bug,
    and silently rounding it would hide that bug. Use ``Money.of`` to round a computed amount.
    """

    model_config = ConfigDict(frozen=True)

    amount: ExactDecimal
    currency: str = "EUR"

    @field_validator("amount")
    @classmethod
    def _two_decimals_at_most(cls, value: Decimal) -> Decimal:
        if value != value.quantize(CENT):
            raise ValueError("has more than two decimals")
        return value.quantize(CENT)

    @field_validator("currency")
    @classmethod
    def _iso_currency(cls, value: str) -> str:
        if len(value) != 3 or not value.isalpha() or not value.isupper():
            raise ValueError("must be an ISO 4217 code such as EUR")
        return value

    @classmethod
    def of(cls, amount: Decimal | int | str, currency: str = "EUR") -> Money:
        """Money from any exact amount, rounded half-up to the cent."""
        return cls(amount=round2(to_decimal(amount)), currency=currency)

    @classmethod
    def zero(cls, currency: str = "EUR") -> Money:
        return cls(amount=Decimal("0.00"), currency=currency)

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(amount=self.amount + other.amount, currency=self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(amount=self.amount - other.amount, currency=self.currency)

    def __neg__(self) -> Money:
        return Money(amount=-self.amount, currency=self.currency)

    def times(self, factor: Decimal) -> Money:
        """Multiply by an exact factor (a rate), rounding the result half-up to the cent."""
        return Money.of(self.amount * to_decimal(factor), self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount >= other.amount

    @property
    def is_zero(self) -> bool:
        return self.amount == 0

    @property
    def is_positive(self) -> bool:
        return self.amount > 0

    def to_document(self) -> dict[str, str]:
        """The stored form: decimal string, like the wire (MongoDB's Decimal128 is also fine)."""
        return {"amount": str(self.amount), "currency": self.currency}

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


class PositiveMoney(Money):
    """Money strictly above zero (invoiced amounts, payments)."""

    @field_validator("amount")
    @classmethod
    def _positive(cls, value: Decimal) -> Decimal:
        if value <= 0:
            raise ValueError("must be greater than zero")
        return value


class NonNegativeMoney(Money):
    """Money at or above zero (expenses, balances)."""

    @field_validator("amount")
    @classmethod
    def _not_negative(cls, value: Decimal) -> Decimal:
        if value < 0:
            raise ValueError("must not be negative")
        return value
