"""Loan instalments the fund announced, withheld from the member's next salaries: never above the
loan's share of the net; what one salary could not take waits for the next; none of an instalment
the fund is collecting by direct debit, until the bank returns it."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_DOWN, Decimal

import pytest
from smart_shared.events import (
    DirectDebitRequested,
    DirectDebitReturned,
    InstalmentDue,
    InstalmentWithheld,
    LoanRepaid,
)
from smart_shared.ids import new_id
from smart_shared.money import Money
from smart_shared.withholding import withholdable
from smart_testing import eventually

from .harness import NOW, Payroll, guaranteed_work, member_activated

pytestmark = pytest.mark.integration


def instalment_due(member_id: str, loan_id: str, number: int, amount: str) -> InstalmentDue:
    return InstalmentDue(
        branch="BE", version=number + 3, occurred_at=NOW, loan_id=loan_id, member_id=member_id,
        number=number, due_date=date(2026, number, 5), amount=Money(amount=amount),
        max_withholding_share=Decimal("0.20"))


async def known_to_payroll(payroll: Payroll, member_id: str) -> None:
    """Wait until payroll keeps the member's instalment (it comes on another topic than the
    contract's facts, so in no set order with them)."""
    instalments = payroll.service.platform.db["loan_instalments"]  # type: ignore[union-attr]

    async def kept() -> object:
        return await instalments.find_one({"member_id": member_id})

    await eventually(kept)


def withheld_for(payroll: Payroll, salary_id: str) -> list[InstalmentWithheld]:
    return [e for e in payroll.wire.events(InstalmentWithheld) if e.salary_id == salary_id]


async def test_a_due_instalment_is_withheld_from_the_next_salaries_within_the_share_of_the_net(
        payroll: Payroll) -> None:
    member_id, loan_id = new_id(), new_id()
    due = instalment_due(member_id, loan_id, 1, "150.00")
    await payroll.send(member_activated(member_id, "BE71096123456769"), due, due)  # repeated
    await known_to_payroll(payroll, member_id)

    first = new_id()
    await payroll.send(*guaranteed_work(first, member_id, date(2026, 12, 4)))
    [salary] = await payroll.salary_due(first)
    net = salary.breakdown.net.amount
    share = withholdable(Decimal("150.00"), net, Decimal("0.20"))
    assert share == (net / 5).quantize(Decimal("0.01"), ROUND_DOWN) < Decimal("150.00")
    assert salary.breakdown.loan_withheld.amount == share
    assert salary.breakdown.paid.amount == net - share  # never negative, expenses untouched
    [withheld] = await payroll.wire.wait_for(
        InstalmentWithheld, where=lambda e: e.salary_id == salary.salary_id)
    assert (withheld.loan_id, withheld.number, withheld.amount.amount) == (loan_id, 1, share)
    assert withheld.version == 2

    second = new_id()
    await payroll.send(*guaranteed_work(second, member_id, date(2026, 12, 11)))
    [next_salary] = await payroll.salary_due(second)
    [rest] = await payroll.wire.wait_for(
        InstalmentWithheld, where=lambda e: e.salary_id == next_salary.salary_id)
    assert rest.amount.amount == Decimal("150.00") - share  # what stayed due, no more
    assert next_salary.breakdown.loan_withheld.amount == rest.amount.amount

    third = new_id()
    await payroll.send(*guaranteed_work(third, member_id, date(2026, 12, 14)))
    [free_salary] = await payroll.salary_due(third)
    assert free_salary.breakdown.loan_withheld is None
    assert free_salary.breakdown.paid.amount == free_salary.breakdown.net.amount
    assert withheld_for(payroll, free_salary.salary_id) == []


async def test_the_payslip_shows_the_instalment_withheld(payroll: Payroll) -> None:
    member_id = new_id()
    await payroll.send(member_activated(member_id, "BE71096123456769"),
                       instalment_due(member_id, new_id(), 1, "20.00"))
    await known_to_payroll(payroll, member_id)
    contract_id = new_id()
    await payroll.send(*guaranteed_work(contract_id, member_id, date(2026, 12, 7)))
    [salary] = await payroll.salary_due(contract_id)
    assert salary.breakdown.loan_withheld.amount == Decimal("20.00")
    async with payroll.client("member", member_id=member_id) as http:
        shown = await http.get(f"/v1/salaries/{salary.salary_id}")
        assert shown.status_code == 200, shown.text
        assert shown.json()["breakdown"]["loan_withheld"]["amount"] == "20.00"
        payslip = await http.get(f"/v1/salaries/{salary.salary_id}/payslip.pdf")
        assert payslip.status_code == 200, payslip.text


async def test_nothing_more_is_withheld_once_the_loan_ended(payroll: Payroll) -> None:
    member_id, loan_id = new_id(), new_id()
    await payroll.send(member_activated(member_id, "BE71096123456769"),
                       instalment_due(member_id, loan_id, 1, "40.00"))
    await known_to_payroll(payroll, member_id)
    await payroll.send(LoanRepaid(branch="BE", version=9, occurred_at=NOW, loan_id=loan_id,
                                  member_id=member_id, repaid_on=date(2026, 12, 1)))
    instalments = payroll.service.platform.db["loan_instalments"]  # type: ignore[union-attr]

    async def settled() -> object:
        return await instalments.find_one({"loan_id": loan_id, "settled": True})

    await eventually(settled)
    contract_id = new_id()
    await payroll.send(*guaranteed_work(contract_id, member_id, date(2026, 12, 8)))
    [salary] = await payroll.salary_due(contract_id)
    assert salary.breakdown.loan_withheld is None


async def test_an_instalment_being_debited_is_not_withheld_until_the_bank_returns_it(
        payroll: Payroll) -> None:
    member_id, loan_id, file_id = new_id(), new_id(), new_id()
    await payroll.send(member_activated(member_id, "BE71096123456769"),
                       instalment_due(member_id, loan_id, 1, "30.00"))
    await known_to_payroll(payroll, member_id)
    instalments = payroll.service.platform.db["loan_instalments"]  # type: ignore[union-attr]
    await payroll.send(DirectDebitRequested(
        branch="BE", version=5, occurred_at=NOW, loan_id=loan_id, member_id=member_id, number=1,
        amount=Money(amount="30.00"), collection_id=file_id, end_to_end_id="e2e",
        mandate_id="LOAN1", collection_date=date(2026, 12, 3)))

    async def set_aside() -> object:
        return await instalments.find_one({"loan_id": loan_id, "direct_debit": True})

    await eventually(set_aside)
    during = new_id()
    await payroll.send(*guaranteed_work(during, member_id, date(2026, 12, 9)))
    [salary] = await payroll.salary_due(during)
    assert salary.breakdown.loan_withheld is None  # the bank is collecting it

    await payroll.send(DirectDebitReturned(
        branch="BE", version=6, occurred_at=NOW, loan_id=loan_id, member_id=member_id, number=1,
        amount=Money(amount="30.00"), collection_id=file_id, code="AM04",
        returned_on=date(2026, 12, 4)))

    async def withheld_again() -> object:
        return await instalments.find_one({"loan_id": loan_id, "direct_debit": False})

    await eventually(withheld_again)
    after = new_id()
    await payroll.send(*guaranteed_work(after, member_id, date(2026, 12, 10)))
    [next_salary] = await payroll.salary_due(after)
    assert next_salary.breakdown.loan_withheld.amount == Decimal("30.00")
