"""A batch in one transaction: what it reads before its handlers, and what it costs in commands."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from smart_shared.clock import SystemClock
from smart_shared.consumer import EventHandlers
from smart_shared.events import Event, MemberErased
from smart_shared.ids import new_id
from smart_shared.mongo import INBOX, Database, KnownDocuments, UnitOfWork, connect
from smart_testing import Infrastructure, counted_consumer, unique_name
from toy_service import erasure

pytestmark = pytest.mark.integration


@dataclass
class Toy:
    database: Database
    uri: str


@pytest.fixture
async def toy(infrastructure: Infrastructure) -> AsyncIterator[Toy]:
    client = connect(infrastructure.mongodb_uri)
    name = unique_name("batches")
    try:
        yield Toy(Database(client, name, SystemClock()), infrastructure.mongodb_uri)
    finally:
        await client.drop_database(name)
        await client.close()


async def test_the_batch_is_read_once_before_its_handlers_without_the_redelivered_events(
    toy: Toy,
) -> None:
    handlers = EventHandlers()
    prepared: list[list[str]] = []
    known: dict[str, int] = {}

    @handlers.before_batch
    async def read_counts(uow: UnitOfWork, events: list[Event]) -> None:
        ids = [event.aggregate_id for event in events]
        prepared.append(ids)
        known.clear()
        async for doc in uow.db.counts.find({"_id": {"$in": ids}}, session=uow.session):
            known[doc["_id"]] = doc["n"]

    @handlers.on(MemberErased)
    async def count(uow: UnitOfWork, event: MemberErased) -> None:
        await uow.db.counts.update_one({"_id": event.member_id},
                                       {"$set": {"n": known.get(event.member_id, 0) + 1}},
                                       upsert=True, session=uow.session)

    members = [f"m{n}" for n in range(5)]
    await toy.database.db.counts.insert_one({"_id": "m0", "n": 41})
    already = new_id()
    await toy.database.db[INBOX].insert_one({"_id": already, "ce_type": "x"})
    batch = [erasure(member) for member in members] + [erasure("m9")]

    async with counted_consumer(toy.uri, "toy", toy.database, handlers, ["BE"]) as consumer:
        await consumer.handle(batch, ids=[new_id() for _ in members] + [already])

    assert prepared == [members]  # once, in order, without the event already handled
    counts = {doc["_id"]: doc["n"] async for doc in toy.database.db.counts.find()}
    assert counts == {"m0": 42, "m1": 1, "m2": 1, "m3": 1, "m4": 1}


async def test_a_batch_costs_the_same_few_commands_whatever_its_size(toy: Toy) -> None:
    handlers = EventHandlers()

    @handlers.on(MemberErased)
    async def nothing_to_write(uow: UnitOfWork, event: MemberErased) -> None:
        uow.publish(erasure(event.member_id))

    async with counted_consumer(toy.uri, "toy", toy.database, handlers, ["BE"]) as consumer:
        costs = [await consumer.handle([erasure(f"m{n}") for n in range(size)])
                 for size in (1, 50)]
    # inbox read, outbox rows, inbox rows, commit: per batch, not per event
    assert costs[0] == costs[1] == {"find": 1, "insert": 2, "commitTransaction": 1}


async def test_known_documents_are_read_once_and_missing_ones_remembered(toy: Toy) -> None:
    await toy.database.db.cases.insert_many([{"_id": "c1", "invoice_id": "i1", "n": 1},
                                             {"_id": "c2", "invoice_id": "i2", "n": 2}])
    reads: list[list[str]] = []

    async def work(uow: UnitOfWork) -> None:
        cases = KnownDocuments("cases", key="invoice_id")
        reads.append(await cases.read(uow, ["i1", "i2", "i3", "i1"]))
        reads.append(await cases.read(uow, ["i2", "i3"]))  # all known: no query
        case = await cases.get(uow, "i1")
        assert case is not None and case["n"] == 1
        assert await cases.get(uow, "i3") is None and "i3" in cases
        cases.remember("i3", {"_id": "c3", "invoice_id": "i3", "n": 3})
        assert cases.current("i3") == {"_id": "c3", "invoice_id": "i3", "n": 3}
        assert cases.current("i9") is None and "i9" not in cases

    await toy.database.transaction(work)
    assert reads == [["i1", "i2", "i3"], []]


async def test_a_long_batch_lets_the_services_requests_in_between_its_events(toy: Toy) -> None:
    handlers = EventHandlers()
    handled: list[float] = []

    @handlers.on(MemberErased)
    async def busy(uow: UnitOfWork, event: MemberErased) -> None:
        began = time.monotonic()
        while time.monotonic() - began < 0.002:  # 2 ms of work that never awaits
            pass
        handled.append(time.monotonic())

    answered: list[float] = []

    async def requests_meanwhile() -> None:
        while True:
            answered.append(time.monotonic())
            await asyncio.sleep(0)

    async with counted_consumer(toy.uri, "toy", toy.database, handlers, ["BE"]) as consumer:
        other = asyncio.create_task(requests_meanwhile())
        try:
            await consumer.handle([erasure(f"m{n}") for n in range(100)])
        finally:
            other.cancel()

    assert len(handled) == 100
    during = [at for at in answered if handled[0] <= at <= handled[-1]]
    # 200 ms of handling: another task ran every few events, not once at the end
    assert len(during) >= 20
    gaps = [later - earlier for earlier, later in itertools.pairwise(during)]
    assert max(gaps) < 0.05
