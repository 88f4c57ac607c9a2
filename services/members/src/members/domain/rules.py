"""The members section of a branch's rule pack, and the share price from its common section."""

from __future__ import annotations

from datetime import date

from smart_shared.money import PositiveMoney
from smart_shared.rulepacks import UnknownRulePack, rule_pack

from members.domain.errors import NotNow
from members.domain.shares import ShareRules


def share_rules(branch: str, on: date) -> tuple[ShareRules, PositiveMoney]:
    """The share rules and the price of one share in force for ``branch`` on ``on``."""
    try:
        pack = rule_pack(branch, on)
    except UnknownRulePack as error:
        raise NotNow("No rule pack", str(error)) from None
    price = PositiveMoney(amount=pack.common.share_price.value, currency=pack.currency)
    return pack.section("members", ShareRules), price
