"""Belgian consumer damages (Book XIX): a capped lump sum depending on the balance."""

from __future__ import annotations

from decimal import Decimal

from smart_shared.money import round2

from collection.domain.rules import BookXixDamages


def book_xix_damages(balance: Decimal, tiers: BookXixDamages) -> Decimal:
    """The most that may be claimed as damages from a consumer owing ``balance``.

    ≤ €150: €20; up to €500: €30 + 10 % of the part above €150; above: €65 + 5 % of the part
    above €500; never more than €2,000 (amounts from the rule pack).
    """
    if balance <= 0:
        return Decimal("0.00")
    if balance <= tiers.flat_up_to.value:
        amount = tiers.flat_amount.value
    elif balance <= tiers.middle_up_to.value:
        above = balance - tiers.flat_up_to.value
        amount = tiers.middle_base.value + above * tiers.middle_rate.value
    else:
        above = balance - tiers.middle_up_to.value
        amount = tiers.upper_base.value + above * tiers.upper_rate.value
    return round2(min(amount, tiers.ceiling.value))
