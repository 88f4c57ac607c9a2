"""Cooperative shares: a member subscribes N shares at the branch price and pays for them."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict
from smart_shared.clock import PLATFORM_TZ
from smart_shared.money import Money
from smart_shared.rulepacks import SourcedInt

from members.domain.errors import NotNow, RuleBroken


class ShareRules(BaseModel):
    """The ``members`` section of a branch rule pack (the price itself is in ``common``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    shares_to_activate: SourcedInt
    max_shares_per_subscription: SourcedInt


class Share(BaseModel):
    """One subscription of ``count`` shares, unpaid until staff record the payment."""

    model_config = ConfigDict(frozen=True)

    share_id: str
    count: int
    unit_price: Money
    total: Money
    subscribed_at: datetime
    paid_on: date | None = None
    paid_amount: Money | None = None
    recorded_by: str | None = None

    @property
    def is_paid(self) -> bool:
        return self.paid_on is not None


def subscription(share_id: str, count: int, unit_price: Money, rules: ShareRules,
                 at: datetime) -> Share:
    """A new subscription of ``count`` shares at ``unit_price`` each."""
    limit = rules.max_shares_per_subscription.value
    if not 1 <= count <= limit:
        raise RuleBroken.on("count", f"must be between 1 and {limit}")
    return Share(share_id=share_id, count=count, unit_price=unit_price,
                 total=Money(amount=unit_price.amount * count, currency=unit_price.currency),
                 subscribed_at=at)


def pay(share: Share, amount: Money, paid_on: date, today: date, recorded_by: str) -> Share:
    """The subscription, paid in full (partial payments are not taken for shares), on a day
    between its subscription and ``today``."""
    if share.is_paid:
        raise NotNow("Share already paid", f"Share {share.share_id} was paid on {share.paid_on}")
    if paid_on > today:
        raise RuleBroken.on("paid_on", "a payment cannot be recorded before it happens")
    subscribed_on = share.subscribed_at.astimezone(PLATFORM_TZ).date()
    if paid_on < subscribed_on:
        raise RuleBroken.on("paid_on", "must not be before the shares were subscribed, on "
                            f"{subscribed_on.isoformat()}")
    if amount.currency != share.total.currency or amount.amount != share.total.amount:
        raise RuleBroken.on("amount", f"must be the subscription total, {share.total}")
    return share.model_copy(update={"paid_on": paid_on, "paid_amount": amount,
                                    "recorded_by": recorded_by})


def paid_shares(shares: list[Share]) -> int:
    """How many shares the member has paid for."""
    return sum(share.count for share in shares if share.is_paid)
