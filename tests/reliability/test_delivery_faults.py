"""Delivery faults at platform level: events delivered again, from the start, in another order.

Two ways the broker side can hand a service the same events twice, on the whole platform:

- a consumer group's offsets rewound to the beginning (every consumer service stopped, its
  committed offsets reset with aiokafka, restarted): every event of every topic is delivered
  again, and the topics interleave differently than the first time;
- an outbox replayed (every sent row of billing, contracts and fund marked pending again): the
  relay publishes the same events a second time.

Either way the services' databases end exactly as they were, the fund's ledger still balances and
no money event exists twice.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import OffsetAndMetadata
from smart_shared.mongo import connect

from tests.platform import PlatformProcesses
from tests.reliability.saga import (
    Saga,
    Tally,
    database_names,
    differences,
    eventually,
    published,
    quiesce,
    settled,
    staff,
    unintended_dead_letters,
)

pytestmark = pytest.mark.integration

CONSUMERS = ("contracts", "billing", "payroll", "fund", "collection")
MONEY_EVENTS = ("InvoiceIssued", "InvoicePaid", "PaymentReceived", "SalaryDue", "SalaryPaid",
                "GuaranteeGranted", "AdvancePaid", "AdvanceRecovered", "LossAbsorbed",
                "DebtWrittenOff", "CreditNoteIssued")


async def some_history(saga: Saga, contracts: int = 6) -> None:
    """A few contracts through completion, half their invoices paid, salaries due."""
    for _ in range(3):
        await saga.register()
    first_day = await saga.today() + timedelta(days=1)
    for _ in range(contracts):
        await saga.contract(first_day)
    await saga.platform.advance_clock(timedelta(days=4))

    async def invoiced() -> dict[str, Any] | None:
        invoices = await saga.invoices()
        return invoices if len(invoices) == contracts else None

    invoices = await eventually(invoiced, timeout=120, what="invoices issued")
    today = await saga.today()
    for invoice in list(invoices.values())[: contracts // 2]:
        await saga.pay(invoice, today)
    await saga.platform.advance_clock(timedelta(days=14))
    await quiesce(saga.platform)


async def rewind(platform: PlatformProcesses, service: str) -> int:
    """Reset the committed offsets of a (stopped) service's group to the beginning."""
    bootstrap = platform.env["KAFKA_BOOTSTRAP_SERVERS"]
    group = f"smart.{platform.env['SMART_DEPLOYMENT']}.{service}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        committed = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    partitions = list(committed)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group,
                                enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(partitions)
        starts = await consumer.beginning_offsets(partitions)
        offsets = {tp: OffsetAndMetadata(starts[tp], "") for tp in partitions}
        for _ in range(60):  # the killed member leaves the group when its session times out
            try:
                await consumer.commit(offsets)
                break
            except Exception:
                await asyncio.sleep(1)
        else:
            raise AssertionError(f"could not rewind {group}")
        return sum(committed[tp].offset - starts[tp] for tp in partitions)
    finally:
        await consumer.stop()


async def money_events(platform: PlatformProcesses) -> dict[str, int]:
    events = await published(platform)
    return {kind: len(events.distinct(kind)) for kind in MONEY_EVENTS}


async def test_offsets_rewound_to_the_beginning_change_nothing(
    platform: PlatformProcesses, http: httpx.AsyncClient, tally: Tally,
) -> None:
    saga = Saga(platform, http)
    await some_history(saga)
    before = await settled(platform)
    money_before = await money_events(platform)

    await tally.bank_all(http, platform)
    for service in CONSUMERS:
        platform.kill(service)
    redelivered = 0
    for service in CONSUMERS:
        redelivered += await rewind(platform, service)
        tally.faults[f"offsets rewound: {service}"] += 1
    for service in CONSUMERS:
        platform.start(service)
    await asyncio.to_thread(platform.wait_ready)
    await quiesce(platform)

    changed = differences(before, await settled(platform))
    assert not changed, "\n".join(changed[:10])
    assert await money_events(platform) == money_before
    check = (await http.get(saga.url("fund", "/v1/fund/check"), headers=staff(platform))).json()
    assert check["ok"], check
    assert await unintended_dead_letters(platform) == []
    await tally.bank_all(http, platform)
    print(f"\nrewound: {redelivered} records delivered again")
    tally.faults["records redelivered by rewinding"] += redelivered


async def test_a_replayed_outbox_publishes_duplicates_that_change_nothing(
    platform: PlatformProcesses, http: httpx.AsyncClient, tally: Tally,
) -> None:
    saga = Saga(platform, http)
    await some_history(saga, contracts=4)
    before = await settled(platform)
    money_before = await money_events(platform)
    copies_before = (await published(platform)).redelivered_copies

    client = connect(platform.env["MONGODB_URI"])
    replayed = 0
    try:
        names = database_names(platform)
        for service in ("contracts", "billing", "fund", "payroll"):
            result = await client[names[service]]["outbox"].update_many(
                {"sent_at": {"$exists": True}}, {"$set": {"pending": True}})
            replayed += result.modified_count
    finally:
        await client.close()
    assert replayed > 0
    tally.faults["outbox rows replayed"] += replayed
    await quiesce(platform)

    events = await published(platform)
    assert events.redelivered_copies >= copies_before + replayed
    changed = differences(before, await settled(platform))
    assert not changed, "\n".join(changed[:10])
    assert await money_events(platform) == money_before
    check = (await http.get(saga.url("fund", "/v1/fund/check"), headers=staff(platform))).json()
    assert check["ok"], check
    assert await unintended_dead_letters(platform) == []
    print(f"\noutbox replay: {replayed} events published a second time")
