"""An instalment's repayment: interest first, never above what is due; missed instalments."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from fund.domain.loan import Due, allocate, missed, repayment_transfers


def test_a_repayment_pays_the_interest_first_then_the_capital() -> None:
    due = Due(1, date(2026, 1, 5), Decimal("98.00"), Decimal("4.00"))
    assert allocate(due, Decimal("3.00")) == (Decimal("0.00"), Decimal("3.00"))
    assert allocate(due, Decimal("10.00")) == (Decimal("6.00"), Decimal("4.00"))
    partly = Due(1, date(2026, 1, 5), Decimal("98.00"), Decimal("4.00"), paid=Decimal("3.00"))
    assert allocate(partly, Decimal("10.00")) == (Decimal("9.00"), Decimal("1.00"))


def test_a_repayment_never_books_more_than_the_instalment_still_due() -> None:
    due = Due(1, date(2026, 1, 5), Decimal("98.00"), Decimal("4.00"), paid=Decimal("100.00"))
    assert allocate(due, Decimal("50.00")) == (Decimal("2.00"), Decimal("0.00"))
    assert repayment_transfers("BE", "loan", 1, "salary", Decimal("0.00"), Decimal("0.00")) == []


def test_an_instalment_is_missed_once_the_next_one_falls_due_unpaid() -> None:
    plan = [Due(n, date(2026, n, 5), Decimal("100.00"), Decimal("1.00")) for n in (1, 2, 3)]
    assert missed(plan, date(2026, 2, 4)) == 0
    assert missed(plan, date(2026, 2, 5)) == 1
    assert missed(plan, date(2026, 4, 5)) == 3  # the last one, a month after its due date
    plan[0] = Due(1, date(2026, 1, 5), Decimal("100.00"), Decimal("1.00"), paid=Decimal("101.00"))
    assert missed(plan, date(2026, 4, 5)) == 2


def test_an_instalment_the_fund_is_collecting_by_direct_debit_is_not_missed() -> None:
    plan = [Due(n, date(2026, n, 5), Decimal("100.00"), Decimal("1.00")) for n in (1, 2, 3)]
    plan[0] = Due(1, date(2026, 1, 5), Decimal("100.00"), Decimal("1.00"), collecting=True)
    assert missed(plan, date(2026, 4, 5)) == 2
