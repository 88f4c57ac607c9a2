"""Recovery after a crash: a restarted replica takes over at once, and a stall is seen.

A replica with a stable name (``SMART_REPLICA``) that is SIGKILLed and started again takes back its
partitions (static membership), its leases and the documents its dead transaction held, so it
handles what waited within seconds of answering; a consumer that fetches nothing although events
wait is reported not ready, counted, and subscribed again.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from datetime import timedelta

import httpx
import pytest
from smart_shared.clock import SystemClock
from smart_shared.mongo import Database, Lease, UnitOfWork, connect
from smart_shared.replica import Incarnation, end_predecessor_transactions
from smart_shared.settings import Settings
from smart_testing import EventWire, create_topics, eventually, free_port, serving
from test_crashes import applied_once, kill9, start
from toy_service import build, erasure

pytestmark = pytest.mark.integration

FIRST_EVENT_BOUND = 10.0
"""Seconds from a restarted process answering to its first waiting event handled (the figure
docs/reliability.md states)."""


async def _answering(url: str) -> bool:
    async with httpx.AsyncClient(timeout=1) as http:
        try:
            return (await http.get(f"{url}/health/live")).status_code == 200
        except httpx.HTTPError:
            return False


async def test_a_killed_replica_started_again_handles_the_waiting_events_within_the_bound(
    toy_settings: Settings,
) -> None:
    # the toy writes once per event: smaller batches, so the first one commits soon
    settings = toy_settings.model_copy(update={"replica": "1", "consumer_batch_size": 100})
    await create_topics(settings.kafka_bootstrap_servers, settings.topic(erasure("x").topic))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    async with EventWire(settings) as wire:
        service = start(settings, port=port)
        try:
            await wire.send(*(erasure(f"m-first-{n}") for n in range(50)))
            await eventually(lambda: _applied(settings, 50), timeout=120)
            figures = []
            for round_ in range(2):
                kill9(service)
                await wire.send(*(erasure(f"m-{round_}-{n}") for n in range(500)))
                restarted = time.monotonic()
                service = start(settings, port=port)
                await eventually(lambda: _answering(url), timeout=120, interval=0.1)
                answered = time.monotonic()
                waiting = 50 + 500 * round_
                await eventually(lambda w=waiting: _applied(settings, w + 1), timeout=120,
                                 interval=0.1)
                handled = time.monotonic()
                figures.append((answered - restarted, handled - answered))
                await eventually(lambda w=waiting: _applied(settings, w + 500), timeout=120)
        finally:
            kill9(service)
    print("\nrestart → answering, answering → first waiting event handled (s):",
          [(round(a, 1), round(b, 1)) for a, b in figures])
    assert all(after <= FIRST_EVENT_BOUND for _, after in figures), figures
    assert await applied_once(settings) == (1050, 0)


async def _applied(settings: Settings, at_least: int) -> bool:
    once, more = await applied_once(settings)
    assert more == 0, f"{more} effects applied more than once"
    return once >= at_least


async def test_a_lease_held_by_a_dead_run_of_the_same_replica_is_handed_over_at_once(
    toy_settings: Settings,
) -> None:
    client = connect(toy_settings.mongodb_uri)
    try:
        db = client[toy_settings.database_name]
        dead = Lease(db, "outbox-relay", timedelta(seconds=15), replica="payroll-0")
        assert await dead.acquire()  # and then the process is killed: never released
        other_replica = Lease(db, "outbox-relay", timedelta(seconds=15), replica="payroll-1")
        unnamed = Lease(db, "outbox-relay", timedelta(seconds=15))
        restarted = Lease(db, "outbox-relay", timedelta(seconds=15), replica="payroll-0")
        assert not await other_replica.acquire(), "a live-looking holder keeps its lease"
        assert not await unnamed.acquire()
        assert await restarted.acquire(), "the same replica knows its predecessor is dead"
        holder = await db["leases"].find_one({"_id": "outbox-relay"})
        assert holder is not None and holder["owner"] == restarted.owner
    finally:
        await client.close()


HOLD_A_TRANSACTION = """
import sys, time, pymongo
client = pymongo.MongoClient(sys.argv[1], appname=sys.argv[2])
session = client.start_session()
session.start_transaction()
client[sys.argv[3]].effects.update_one({"_id": "m-held"}, {"$inc": {"applied": 1}}, upsert=True,
                                       session=session)
print("holding", flush=True)
time.sleep(600)
"""


async def test_a_restarted_replica_ends_the_transaction_its_killed_predecessor_left_open(
    toy_settings: Settings,
) -> None:
    client = connect(toy_settings.mongodb_uri)
    database = Database(client, toy_settings.database_name, SystemClock())
    await database.db.effects.insert_one({"_id": "m-held", "applied": 0})
    predecessor = Incarnation("toy", "1")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_A_TRANSACTION, toy_settings.mongodb_uri,
         predecessor.app_name, toy_settings.database_name],
        stdout=subprocess.PIPE, start_new_session=True)
    try:
        assert holder.stdout is not None
        await asyncio.to_thread(holder.stdout.readline)
    finally:
        kill9(holder)  # mid-transaction: the server keeps it open (60 s and more)

    assert await end_predecessor_transactions(client, Incarnation("toy", "2")) == 0, \
        "another replica's sessions are not this one's to end"
    assert await end_predecessor_transactions(client, Incarnation("toy_elsewhere", "1")) == 0, \
        "nor those of the same replica of another deployment sharing the mongod"
    assert await end_predecessor_transactions(client, Incarnation("toy", "1")) == 1

    async def apply(uow: UnitOfWork) -> None:
        await uow.db.effects.update_one({"_id": "m-held"}, {"$inc": {"applied": 1}},
                                        session=uow.session)

    began = time.monotonic()
    await asyncio.wait_for(database.transaction(apply), timeout=10)
    assert time.monotonic() - began < 5
    assert (await database.db.effects.find_one({"_id": "m-held"}))["applied"] == 1
    await client.close()


async def test_readiness_says_not_ready_while_the_consumer_fetches_nothing_and_it_recovers(
    toy_settings: Settings,
) -> None:
    settings = toy_settings.model_copy(update={"stall_seconds": 2.0})
    await create_topics(settings.kafka_bootstrap_servers, settings.topic(erasure("x").topic))
    service = build(settings)
    async with serving(service.app) as url, httpx.AsyncClient(base_url=url) as http, \
            EventWire(settings) as wire:
        await eventually(lambda: _status(http, 200), timeout=30)
        assert service.platform is not None and service.platform.watch is not None
        # a consumer that stopped fetching (as if its fetcher were wedged)
        kafka = service.platform.watch.kafka_consumer
        kafka.pause(*kafka.assignment())
        await wire.send(*(erasure(f"m-stuck-{n}") for n in range(20)))

        stalled = await eventually(lambda: _status(http, 503), timeout=30, interval=0.1)
        assert stalled["checks"]["consumer"].startswith("stalled: 20 events behind")
        assert stalled["checks"]["lag"] == 20
        # the watch subscribes again: the new consumer reads on and readiness comes back
        ready = await eventually(lambda: _status(http, 200), timeout=60)
        assert ready["checks"]["consumer"] == "consuming"
        await eventually(lambda: _applied(settings, 20), timeout=60)
        metrics = (await http.get("/metrics")).text
        assert 'smart_consumer_stalls_total{reason="behind",service="toy"}' in metrics


async def test_readiness_says_not_ready_while_a_replica_owns_no_partition(
    toy_settings: Settings,
) -> None:
    # one partition for two replicas of one group: one of them has nothing to consume
    await create_topics(toy_settings.kafka_bootstrap_servers,
                        toy_settings.topic(erasure("x").topic), partitions=1)
    first, second = build(toy_settings), build(toy_settings.model_copy())
    async with serving(first.app) as one, serving(second.app) as two, \
            httpx.AsyncClient() as http:

        async def one_of_each() -> list[dict[str, object]] | None:
            answers = [await http.get(f"{url}/health/ready") for url in (one, two)]
            codes = sorted(a.status_code for a in answers)
            return [a.json() for a in answers] if codes == [200, 503] else None

        answers = await eventually(one_of_each, timeout=60)
        idle = next(a for a in answers if a.get("status") == 503)
        assert idle["checks"]["consumer"] == "no partition"  # type: ignore[index]
        assert idle["checks"]["partitions"] == 0  # type: ignore[index]


async def _status(http: httpx.AsyncClient, code: int) -> dict[str, object] | None:
    response = await http.get("/health/ready")
    return dict(response.json()) if response.status_code == code else None
