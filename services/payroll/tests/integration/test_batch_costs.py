"""A consumer batch, or a payment run, costs payroll the same few MongoDB commands whatever its
size."""

from __future__ import annotations

from datetime import date
from functools import partial
from typing import Any

import pytest
from payroll.payment_runs import (
    ConfirmPaymentRun,
    OpenPaymentRun,
    confirm_payment_run,
    open_payment_run,
)
from smart_shared.events import Event
from smart_shared.ids import new_id
from smart_testing import consumed_records

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

LAST_DAY = date(2026, 3, 4)


def lifecycles(size: int) -> tuple[list[Event], list[str], list[str]]:
    """For each of ``size`` members: a guaranteed contract, one paid by its client without the
    guarantee, one whose newer refusal outranks a stale grant, and a cancelled one. The events,
    the contracts that pay a salary and those that do not."""
    events: list[Event] = []
    paying: list[str] = []
    waiting: list[str] = []
    for _ in range(size):
        member = new_id()
        guaranteed, declined, outranked, cancelled = new_id(), new_id(), new_id(), new_id()
        invoice = new_id()
        refused = guarantee_declined(outranked, member).model_copy(update={"version": 2})
        events += [
            member_activated(member, "BE71096123456769"),
            *guaranteed_work(guaranteed, member, LAST_DAY),
            contract_signed(declined, member, LAST_DAY),
            guarantee_declined(declined, member),
            work_completed(declined, member, LAST_DAY),
            invoice_issued(invoice, declined, member),
            invoice_paid(invoice, declined, member),
            contract_signed(outranked, member, LAST_DAY),
            refused,
            guarantee_granted(outranked, member),
            work_completed(outranked, member, LAST_DAY),
            contract_signed(cancelled, member, LAST_DAY),
            contract_cancelled(cancelled, member),
            guarantee_granted(cancelled, member),
            work_completed(cancelled, member, LAST_DAY),
        ]
        paying += [guaranteed, declined]
        waiting += [outranked, cancelled]
    return events, paying, waiting


async def salaries_by_contract(payroll: Payroll, contract_ids: list[str]) -> dict[str, int]:
    db: Any = payroll.service.platform.db  # type: ignore[union-attr]
    counts: dict[str, int] = {}
    async for salary in db["salaries"].find({"contract_id": {"$in": contract_ids}}):
        counts[salary["contract_id"]] = counts.get(salary["contract_id"], 0) + 1
    return counts


async def test_a_batch_of_contract_facts_costs_the_same_few_commands_whatever_its_size(
    payroll: Payroll,
) -> None:
    costs: dict[int, dict[str, int]] = {}
    async with payroll.counted_consumer() as counted:
        consumer, counter = counted.consumer, counted.counter
        for size in (2, 10):
            events, paying, waiting = lifecycles(size)
            counter.reset()
            assert await consumer.handle_batch(consumed_records(events))
            costs[size] = dict(counter.by_name)
            assert await salaries_by_contract(payroll, paying + waiting) == {
                contract_id: 1 for contract_id in paying}

            # the same facts again (new event ids, so past the inbox): nothing more is due
            counter.reset()
            assert await consumer.handle_batch(consumed_records(events))
            assert counter.total <= sum(costs[size].values())
            assert await salaries_by_contract(payroll, paying + waiting) == {
                contract_id: 1 for contract_id in paying}
    assert costs[2] == costs[10], costs
    # inbox read, contracts read, their members' open loan instalments read (salaries are due);
    # members, contracts, invoices, salaries, outbox, inbox written; the commit
    assert sum(costs[10].values()) <= 10, costs[10]


async def test_a_payment_run_costs_the_same_few_commands_whatever_the_number_of_salaries(
    payroll: Payroll,
) -> None:
    costs: dict[int, tuple[dict[str, int], dict[str, int]]] = {}
    async with payroll.counted_consumer() as counted:
        consumer, counter = counted.consumer, counted.counter
        for size in (2, 10):
            events: list[Event] = []
            for _ in range(size):
                member = new_id()
                events += [member_activated(member, "FR7630006000011234567890189", branch="FR"),
                           *guaranteed_work(new_id(), member, LAST_DAY, branch="FR")]
            assert await consumer.handle_batch(consumed_records(events))

            counter.reset()
            run = await consumer.database.transaction(
                partial(open_payment_run, command=OpenPaymentRun(
                    "FR", date(2026, 12, 31), "staff", payroll.settings)))
            opened = dict(counter.by_name)
            assert run["count"] == size and run["excluded"] == []

            counter.reset()
            confirmed = await consumer.database.transaction(partial(
                confirm_payment_run, command=ConfirmPaymentRun("FR", run["_id"])))
            assert confirmed["status"] == "confirmed"
            costs[size] = opened, dict(counter.by_name)
            db: Any = payroll.service.platform.db  # type: ignore[union-attr]
            paid = await db["salaries"].count_documents(
                {"payment_run_id": run["_id"], "status": "paid"})
            assert paid == size
    assert costs[2] == costs[10], costs
    opening, confirming = costs[10]
    # salaries and members read, salaries claimed, the run inserted, the commit
    assert sum(opening.values()) <= 5, opening
    # the run confirmed, its salaries read and paid, the members' contacts read, the outbox
    # (and with contacts, the "salary paid" mails) written, the commit
    assert sum(confirming.values()) <= 7, confirming
