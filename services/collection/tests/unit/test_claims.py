"""What each step claims from business and consumer debtors."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from collection.domain import BalanceChange, CaseState, TakenStep, claim_at, collection_rules

BE = collection_rules("BE", date(2026, 1, 1))
DUE = date(2026, 3, 2)


def day(offset: int) -> date:
    return DUE + timedelta(days=offset)


def business(*steps: tuple[str, int]) -> CaseState:
    return CaseState("BE", "business", DUE, tuple(TakenStep(lvl, day(d)) for lvl, d in steps))  # type: ignore[arg-type]


def consumer(*steps: tuple[str, int]) -> CaseState:
    return CaseState("BE", "consumer", DUE, tuple(TakenStep(lvl, day(d)) for lvl, d in steps))  # type: ignore[arg-type]


def test_reminders_before_the_formal_notice_claim_only_the_principal() -> None:
    claim = claim_at(business(), "reminder_1", day(7), Decimal("1000.00"), [], BE.business)
    assert (claim.outstanding, claim.interest, claim.compensation) == (
        Decimal("1000.00"), Decimal("0.00"), Decimal("0.00"))


def test_the_formal_notice_adds_40_euros_and_interest_since_the_due_date() -> None:
    state = business(("reminder_1", 7), ("reminder_2", 21))
    claim = claim_at(state, "formal_notice", day(35), Decimal("1000.00"), [], BE.business)
    assert claim.interest == Decimal("10.07")  # 35 days at 10.5 %
    assert claim.compensation == Decimal("40.00")
    assert claim.total == Decimal("1050.07")


def test_a_partial_payment_lowers_principal_and_interest_claimed() -> None:
    state = business(("reminder_1", 7), ("reminder_2", 21))
    paid = [BalanceChange(day(19), Decimal("600.00"))]
    claim = claim_at(state, "formal_notice", day(35), Decimal("1000.00"), paid, BE.business)
    # 18 days on 1,000 then 17 days on 600 at 10.5 %: 28,200 * 0.105 / 365 = 8.1123
    assert (claim.outstanding, claim.interest, claim.total) == (
        Decimal("600.00"), Decimal("8.11"), Decimal("648.11"))


def test_the_first_consumer_reminder_is_free() -> None:
    claim = claim_at(consumer(), "reminder_1", day(7), Decimal("1000.00"), [], BE.consumer)
    assert claim.total == Decimal("1000.00")


def test_the_consumer_reminder_after_the_wait_claims_book_xix_damages() -> None:
    state = consumer(("reminder_1", 7))
    claim = claim_at(state, "reminder_2", day(22), Decimal("1000.00"), [], BE.consumer)
    assert (claim.interest, claim.compensation) == (Decimal("0.00"), Decimal("90.00"))


def test_consumer_interest_runs_at_the_legal_rate_from_the_first_reminder_with_costs() -> None:
    state = consumer(("reminder_1", 7), ("reminder_2", 22))
    claim = claim_at(state, "formal_notice", day(35), Decimal("1000.00"), [], BE.consumer)
    # 13 days * 1,000 * 4.5 % / 365 = 1.6027
    assert (claim.interest, claim.compensation) == (Decimal("1.60"), Decimal("90.00"))


def test_consumer_damages_follow_the_balance_after_a_partial_payment() -> None:
    state = consumer(("reminder_1", 7))
    paid = [BalanceChange(day(20), Decimal("150.00"))]
    claim = claim_at(state, "reminder_2", day(22), Decimal("1000.00"), paid, BE.consumer)
    assert (claim.outstanding, claim.compensation) == (Decimal("150.00"), Decimal("20.00"))


def test_french_consumers_pay_no_recovery_costs_but_legal_interest() -> None:
    fr = collection_rules("FR", DUE).consumer
    state = CaseState("FR", "consumer", DUE, (TakenStep("reminder_1", day(10)),
                                             TakenStep("reminder_2", day(25)),
                                             TakenStep("formal_notice", day(40))))
    claim = claim_at(state, "legal_handover", day(75), Decimal("1000.00"), [], fr)
    assert claim.compensation == Decimal("0.00")
    assert claim.interest == (Decimal("1000") * Decimal("0.0667") * 35 / 365).quantize(
        Decimal("0.01"))
