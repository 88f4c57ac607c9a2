"""What payroll may withhold from a salary for a loan instalment the fund lent (the fund prices
the loan, payroll applies the cap): one rule, for both."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

from smart_shared.money import CENT

ZERO = Decimal("0.00")


def withholdable(due: Decimal, net: Decimal, share: Decimal) -> Decimal:
    """What payroll may withhold from a salary for a due instalment: never more than the due
    amount nor the allowed share of the net (rounded down, so never above it), never negative."""
    if net <= 0 or due <= 0:
        return ZERO
    return min(due, (net * share).quantize(CENT, rounding=ROUND_DOWN))
