"""Salaries decided from other services' events, in any order, exactly once."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest
from payroll.domain import compute_salary, salary_rules
from smart_shared.ids import new_id
from smart_shared.money import Money
from smart_testing import eventually

from .harness import (
    Payroll,
    contract_cancelled,
    contract_signed,
    guarantee_declined,
    guarantee_granted,
    guaranteed_work,
    invoice_issued,
    invoice_paid,
    member_activated,
    work_completed,
)

pytestmark = pytest.mark.integration

QUIET = 2.0  # seconds without a SalaryDue before concluding none comes


def ids() -> tuple[str, str]:
    return new_id(), new_id()


async def nothing_due_after_a_quiet_while(payroll: Payroll, contract_id: str) -> None:
    await asyncio.sleep(QUIET)
    assert payroll.salaries_due(contract_id) == []


async def stored_salaries(payroll: Payroll, contract_id: str) -> int:
    salaries = payroll.service.platform.db["salaries"]  # type: ignore[union-attr]
    return await salaries.count_documents({"contract_id": contract_id})  # type: ignore[no-any-return]


async def test_guaranteed_work_is_due_on_the_seventh_working_day_exactly_once(
    payroll: Payroll,
) -> None:
    contract_id, member_id = ids()
    christmas_week = date(2026, 12, 18)
    await payroll.send(
        member_activated(member_id, "BE71096123456769"),
        *guaranteed_work(contract_id, member_id, christmas_week),
    )

    [due] = await payroll.salary_due(contract_id)

    assert due.guaranteed is True
    assert due.pay_date == date(2026, 12, 30)  # Christmas Day skipped
    assert due.version == 1
    assert due.breakdown.net == Money.of("490.90")
    assert due.breakdown == compute_salary(
        salary_rules("BE", christmas_week), Money.of("1000.00"), Money.zero(), "artistic"
    )
    await payroll.send(  # the same facts again, as redelivered by another producer
        guarantee_granted(contract_id, member_id),
        work_completed(contract_id, member_id, christmas_week),
    )
    await asyncio.sleep(QUIET)
    assert len(payroll.salaries_due(contract_id)) == 1
    assert await stored_salaries(payroll, contract_id) == 1


async def test_a_guarantee_granted_after_the_work_completed_still_makes_the_salary_due(
    payroll: Payroll,
) -> None:
    contract_id, member_id = ids()
    before_easter = date(2026, 4, 3)
    await payroll.send(
        contract_signed(contract_id, member_id, before_easter),
        work_completed(contract_id, member_id, before_easter),
    )
    await nothing_due_after_a_quiet_while(payroll, contract_id)

    await payroll.send(guarantee_granted(contract_id, member_id))

    [due] = await payroll.salary_due(contract_id)
    assert due.guaranteed is True
    assert due.pay_date == date(2026, 4, 15)  # Easter Monday skipped


async def test_without_guarantee_the_salary_waits_for_the_invoice_to_be_paid(
    payroll: Payroll,
) -> None:
    contract_id, member_id = ids()
    invoice_id = new_id()
    last_day = date(2026, 3, 2)
    await payroll.send(
        contract_signed(contract_id, member_id, last_day, amount="2000.00", expenses="150.00"),
        guarantee_declined(contract_id, member_id),
        work_completed(contract_id, member_id, last_day),
        invoice_issued(invoice_id, contract_id, member_id),
    )
    await nothing_due_after_a_quiet_while(payroll, contract_id)

    await payroll.send(invoice_paid(invoice_id, contract_id, member_id))

    [due] = await payroll.salary_due(contract_id)
    assert due.guaranteed is False
    assert due.pay_date == payroll.service.platform.clock.today()  # type: ignore[union-attr]
    assert due.breakdown.expenses == Money.of("150.00")
    assert due.breakdown.paid == due.breakdown.net + Money.of("150.00")


async def test_an_invoice_paid_before_the_guarantee_decision_is_remembered(
    payroll: Payroll,
) -> None:
    contract_id, member_id = ids()
    invoice_id = new_id()
    last_day = date(2026, 3, 2)
    await payroll.send(
        contract_signed(contract_id, member_id, last_day),
        work_completed(contract_id, member_id, last_day),
        invoice_paid(invoice_id, contract_id, member_id),
    )
    await nothing_due_after_a_quiet_while(payroll, contract_id)

    await payroll.send(guarantee_declined(contract_id, member_id))

    [due] = await payroll.salary_due(contract_id)
    assert due.guaranteed is False


async def test_a_cancelled_contract_pays_nothing(payroll: Payroll) -> None:
    contract_id, member_id = ids()
    last_day = date(2026, 3, 20)
    await payroll.send(
        contract_signed(contract_id, member_id, last_day),
        guarantee_granted(contract_id, member_id),
        contract_cancelled(contract_id, member_id),
        work_completed(contract_id, member_id, last_day),
    )
    await nothing_due_after_a_quiet_while(payroll, contract_id)
    assert await stored_salaries(payroll, contract_id) == 0


async def test_an_amount_too_small_for_its_expenses_is_flagged_not_paid_negative(
    payroll: Payroll,
) -> None:
    contract_id, member_id = ids()
    last_day = date(2026, 3, 2)
    await payroll.send(
        contract_signed(contract_id, member_id, last_day, amount="100.00", expenses="99.00"),
        guarantee_granted(contract_id, member_id),
        work_completed(contract_id, member_id, last_day),
    )

    async def flagged() -> object:
        doc = await payroll.service.platform.db["contracts"].find_one(  # type: ignore[union-attr]
            {"_id": contract_id})
        return doc and doc.get("unpayable")

    reason = await eventually(flagged)
    assert "expenses" in str(reason)
    assert payroll.salaries_due(contract_id) == []


async def test_salary_due_continues_the_trace_of_the_completed_work(payroll: Payroll) -> None:
    contract_id, member_id = ids()
    last_day = date(2026, 3, 2)
    await payroll.send(
        contract_signed(contract_id, member_id, last_day),
        work_completed(contract_id, member_id, last_day),
        guarantee_granted(contract_id, member_id),
    )
    await payroll.salary_due(contract_id)

    contract = await payroll.service.platform.db["contracts"].find_one(  # type: ignore[union-attr]
        {"_id": contract_id})
    row = await payroll.service.platform.db["outbox"].find_one(  # type: ignore[union-attr]
        {"ce_type": "coop.smart.payroll.SalaryDue.v1", "aggregate_id": contract["salary_id"]})
    assert contract["traceparent"]
    assert row["traceparent"].split("-")[1] == contract["traceparent"].split("-")[1]
