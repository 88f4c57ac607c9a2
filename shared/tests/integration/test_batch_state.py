"""The batch state against the genuine mongod: a transaction reads its own staged changes, reads
each document once, and writes each collection once, in the transaction."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal

import pytest
from bson.decimal128 import Decimal128
from prometheus_client import REGISTRY
from pymongo import UpdateOne
from smart_shared.clock import SystemClock
from smart_shared.mongo import BatchState, Database, StagedWriteFailed, UnitOfWork, connect
from smart_testing import CommandCounter, Infrastructure, unique_name

pytestmark = pytest.mark.integration


@dataclass
class Store:
    database: Database
    counter: CommandCounter


@pytest.fixture
async def store(infrastructure: Infrastructure) -> AsyncIterator[Store]:
    counter = CommandCounter()
    client = connect(infrastructure.mongodb_uri, event_listeners=[counter])
    name = unique_name("batchstate")
    database = Database(client, name, SystemClock())
    await database.db["accounts"].insert_many([
        {"_id": "BE:free", "balance": Decimal128("100.00")},
        {"_id": "BE:reserved", "balance": Decimal128("0.00")},
    ])
    await database.db.create_collection("guarantees")
    try:
        yield Store(database, counter)
    finally:
        await client.drop_database(name)
        await client.close()


async def test_a_transaction_reads_what_it_staged_and_writes_each_collection_once(
    store: Store,
) -> None:
    seen: dict[str, object] = {}

    async def work(uow: UnitOfWork) -> None:
        state = uow.staged(BatchState)
        await state.load(uow, {"accounts": ["BE:free", "BE:reserved"],
                               "guarantees": ["c1", "c2"]})
        seen["load"] = dict(store.counter.by_name)
        store.counter.reset()
        for contract in ("c1", "c2"):
            for account, delta in (("BE:free", "-30.00"), ("BE:reserved", "30.00")):
                state.update("accounts", account, increments={"balance": Decimal128(delta)},
                             floors={"balance": Decimal128("0")})
            state.update("guarantees", contract, fields={"status": "granted"})
        seen["free"] = (await state.get(uow, "accounts", "BE:free"))["balance"]  # type: ignore[index]
        seen["granted"] = await state.find(uow, "guarantees", {"_id": {"$in": ["c1", "c2"]}})
        seen["reads"] = store.counter.total
        await state.write(uow)
        seen["writes"] = dict(store.counter.by_name)

    store.counter.reset()
    await store.database.transaction(work)
    assert seen["load"] == {"aggregate": 1}  # two collections, one round trip
    assert seen["free"] == Decimal("40.00")
    assert seen["granted"] == [{"_id": "c1", "status": "granted"},
                               {"_id": "c2", "status": "granted"}]
    assert seen["reads"] == 0
    assert seen["writes"] == {"update": 2}  # accounts, guarantees: one command each
    db = store.database.db
    assert (await db["accounts"].find_one({"_id": "BE:free"}))["balance"] == Decimal128("40.00")  # type: ignore[index]
    assert await db["guarantees"].count_documents({"status": "granted"}) == 2


async def test_a_query_only_the_database_can_answer_sees_the_staged_changes(
    store: Store,
) -> None:
    async def work(uow: UnitOfWork) -> list[str]:
        state = uow.staged(BatchState)
        await state.load(uow, {"guarantees": ["c1"]})
        state.update("guarantees", "c1", fields={"branch": "BE", "status": "granted"})
        state.insert("guarantees", {"_id": "c2", "branch": "BE", "status": "declined"})
        found = await state.find(uow, "guarantees", {"branch": "BE"})
        return sorted(doc["status"] for doc in found)

    assert await store.database.transaction(work) == ["declined", "granted"]


async def test_a_document_changed_by_the_server_alone_is_read_back_after_its_write(
    store: Store,
) -> None:
    async def work(uow: UnitOfWork) -> object:
        state = uow.staged(BatchState)
        state.stage("guarantees", "c9", UpdateOne(
            {"_id": "c9"}, [{"$set": {"version": {"$add": [{"$ifNull": ["$version", 0]}, 1]}}}],
            upsert=True))
        return await state.get(uow, "guarantees", "c9")

    assert await store.database.transaction(work) == {"_id": "c9", "version": 1}


async def test_a_floor_the_stored_document_no_longer_meets_fails_the_transaction(
    store: Store,
) -> None:
    async def work(uow: UnitOfWork) -> None:
        state = uow.staged(BatchState)
        # as if read before another writer took the money: the view says 100.00, the database 5
        state.remember("accounts", "BE:free", {"_id": "BE:free", "balance": Decimal128("100.00")})
        await uow.db["accounts"].update_one({"_id": "BE:free"},
                                            {"$set": {"balance": Decimal128("5.00")}},
                                            session=uow.session)
        state.update("accounts", "BE:free", increments={"balance": Decimal128("-50.00")},
                     floors={"balance": Decimal128("0")})
        state.update("accounts", "BE:reserved", increments={"balance": Decimal128("50.00")},
                     floors={"balance": Decimal128("0")})

    with pytest.raises(StagedWriteFailed, match="BE:free"):
        await store.database.transaction(work)
    db = store.database.db
    assert (await db["accounts"].find_one({"_id": "BE:free"}))["balance"] == Decimal128("100.00")  # type: ignore[index]
    assert (await db["accounts"].find_one({"_id": "BE:reserved"}))["balance"] == Decimal128("0.00")  # type: ignore[index]


async def test_expected_documents_are_read_only_when_one_is_wanted_and_then_all_at_once(
    store: Store,
) -> None:
    await store.database.db["contacts"].insert_many(
        [{"_id": f"m{n}", "email": f"m{n}@example.be"} for n in range(5)])
    seen: dict[str, object] = {}

    async def work(uow: UnitOfWork) -> None:
        state = uow.staged(BatchState)
        store.counter.reset()
        state.expect("contacts", [f"m{n}" for n in range(5)] + ["nobody"])
        seen["before"] = store.counter.total
        seen["m3"] = await state.get(uow, "contacts", "m3")
        seen["first"] = store.counter.total
        seen["others"] = [await state.get(uow, "contacts", m) for m in ("m0", "m4", "nobody")]
        seen["after"] = store.counter.total

    await store.database.transaction(work)
    assert seen["before"] == 0  # nothing is read for what may never be needed
    assert seen["m3"] == {"_id": "m3", "email": "m3@example.be"}
    assert seen["first"] == 1  # the first one wanted brings the others with it
    assert seen["others"] == [{"_id": "m0", "email": "m0@example.be"},
                              {"_id": "m4", "email": "m4@example.be"}, None]
    assert seen["after"] == 1


async def test_a_transaction_that_races_another_is_retried_and_counted(store: Store) -> None:
    database = store.database
    labels = {"service": database.db.name}

    def sample(name: str) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    retries_before = sample("smart_transaction_retries_total")
    count_before = sample("smart_transaction_seconds_count")
    first_wrote = asyncio.Event()
    release = asyncio.Event()

    async def first(uow: UnitOfWork) -> None:
        await uow.db["accounts"].update_one({"_id": "BE:free"}, {"$inc": {"balance": 1}},
                                            session=uow.session)
        first_wrote.set()
        await release.wait()

    async def second(uow: UnitOfWork) -> None:
        if not release.is_set():
            asyncio.get_running_loop().call_later(0.2, release.set)
        await uow.db["accounts"].update_one({"_id": "BE:free"}, {"$inc": {"balance": 10}},
                                            session=uow.session)

    holding = asyncio.create_task(database.transaction(first))
    await first_wrote.wait()
    await database.transaction(second)  # conflicts with the first until it commits
    await holding

    assert (await database.db["accounts"].find_one({"_id": "BE:free"}))["balance"] == \
        Decimal128("111.00")
    assert sample("smart_transaction_retries_total") > retries_before
    assert sample("smart_transaction_seconds_count") == count_before + 2
