"""Payment terms from the branch rule pack, and the members projection."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from contracts.domain import ContractRules, PaymentTermRefused, member_after, payment_term
from smart_shared.events import (
    Activity,
    MemberActivated,
    MemberErased,
    MemberUpdated,
    PayoutDetails,
)
from smart_shared.rulepacks import rule_pack

BE = rule_pack("BE", date(2026, 6, 1)).section("contracts", ContractRules)
FR = rule_pack("FR", date(2026, 6, 1)).section("contracts", ContractRules)
AT = datetime(2026, 3, 1, tzinfo=UTC)
PAYOUT = PayoutDetails(iban="BE68539007547034", holder_name="A")
MUSICIAN = Activity(name="Musician", kind="artistic", joint_committee="304")


def test_the_branch_default_term_applies_when_none_is_asked() -> None:
    assert payment_term(BE, "business", None) == 30
    assert payment_term(FR, "consumer", None) == 30


def test_a_business_may_agree_up_to_sixty_days() -> None:
    assert payment_term(BE, "business", 60) == 60
    with pytest.raises(PaymentTermRefused):
        payment_term(BE, "business", 61)


def test_a_consumer_always_gets_the_branch_default() -> None:
    with pytest.raises(PaymentTermRefused):
        payment_term(BE, "consumer", 45)


def test_every_rule_has_a_source() -> None:
    for rules in (BE, FR):
        for name in ContractRules.model_fields.keys() - {"insurance"}:
            assert len(getattr(rules, name).source) > 10


def activated(version: int) -> MemberActivated:
    return MemberActivated(branch="BE", version=version, occurred_at=AT, member_id="m",
                           activities=[MUSICIAN], payout=PAYOUT)


def updated(version: int, status: str) -> MemberUpdated:
    return MemberUpdated(branch="BE", version=version, occurred_at=AT, member_id="m",
                         status=status, activities=[MUSICIAN], payout=PAYOUT,  # type: ignore[arg-type]
                         changed=["status"])


def test_an_activated_member_may_contract() -> None:
    member = member_after(None, activated(2))
    assert member is not None and member.may_contract
    assert member.activity("  musician ") == MUSICIAN


def test_a_stale_update_changes_nothing() -> None:
    member = member_after(None, updated(3, "suspended"))
    assert member is not None
    assert member_after(member, activated(2)) is None
    assert member_after(member, updated(3, "active")) is None


def test_an_erased_member_stays_erased() -> None:
    erased = member_after(member_after(None, activated(2)),
                          MemberErased(branch="BE", version=3, occurred_at=AT, member_id="m"))
    assert erased is not None and erased.status == "erased" and erased.activities == []
    assert member_after(erased, updated(9, "active")) is None
