"""Processes killed with SIGKILL mid-flow lose nothing and double nothing."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from smart_shared.clock import SystemClock
from smart_shared.mongo import Database, UnitOfWork, connect
from smart_shared.scheduler import ScheduledJob, Scheduler
from smart_shared.settings import Settings
from smart_testing import create_topics, eventually, free_port, serving
from toy_service import build, erasure, settings_env

pytestmark = pytest.mark.integration

TOY = Path(__file__).parent / "toy_service.py"
EVENTS = 3000


async def stage_erasures(settings: Settings, count: int) -> None:
    client = connect(settings.mongodb_uri)
    database = Database(client, settings.database_name, SystemClock())
    for start in range(0, count, 500):
        async def stage(uow: UnitOfWork, start: int = start) -> None:
            for n in range(start, min(count, start + 500)):
                uow.publish(erasure(f"m-{n:05d}"))
        await database.transaction(stage)
    await client.close()


async def count(settings: Settings, collection: str, query: dict[str, Any]) -> int:
    client = connect(settings.mongodb_uri)
    try:
        return await client[settings.database_name][collection].count_documents(query)
    finally:
        await client.close()


async def applied_once(settings: Settings) -> tuple[int, int]:
    client = connect(settings.mongodb_uri)
    try:
        effects = client[settings.database_name].effects
        return (await effects.count_documents({"applied": 1}),
                await effects.count_documents({"applied": {"$gt": 1}}))
    finally:
        await client.close()


def start(settings: Settings, *args: str, port: int | None = None) -> subprocess.Popen[bytes]:
    env = settings_env(settings, SMART_SERVICE_PORT=str(port or free_port()))
    return subprocess.Popen([sys.executable, str(TOY), *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def kill9(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


async def test_the_relay_killed_mid_batch_delivers_every_event_exactly_once_in_effects(
    toy_settings: Settings,
) -> None:
    await create_topics(toy_settings.kafka_bootstrap_servers,
                        toy_settings.topic(erasure("x").topic))
    consumer = build(toy_settings, consume=True)
    kills = 0
    async with serving(consumer.app):
        # the in-process service relays too; stop its relay so only the killed process relays
        assert consumer.platform is not None
        await consumer.platform.relay.stop()
        await stage_erasures(toy_settings, EVENTS)
        pending = EVENTS
        while pending and kills < 3:
            relay = start(toy_settings, "relay")
            await eventually(lambda p=pending: _pending_below(toy_settings, p), timeout=60,
                             interval=0.02)
            kill9(relay)
            kills += 1
            pending = await count(toy_settings, "outbox", {"pending": True})
        relay = start(toy_settings, "relay")
        try:
            await eventually(lambda: _pending_below(toy_settings, 1), timeout=120)
            result = await eventually(lambda: _all_applied(toy_settings), timeout=120)
        finally:
            kill9(relay)
    assert kills >= 1
    assert result == (EVENTS, 0)


async def _pending_below(settings: Settings, limit: int) -> bool:
    return await count(settings, "outbox", {"pending": True}) < limit


async def _all_applied(settings: Settings) -> tuple[int, int] | None:
    once, more = await applied_once(settings)
    assert more == 0, f"{more} effects applied more than once"
    return (once, more) if once == EVENTS else None


async def test_a_consumer_killed_mid_batch_applies_every_event_exactly_once(
    toy_settings: Settings,
) -> None:
    await create_topics(toy_settings.kafka_bootstrap_servers,
                        toy_settings.topic(erasure("x").topic))
    await stage_erasures(toy_settings, EVENTS)
    kills = 0
    service = start(toy_settings)
    try:
        for _ in range(3):
            await eventually(lambda k=kills: _some_applied(toy_settings, (k + 1) * 300),
                             timeout=120, interval=0.05)
            kill9(service)
            kills += 1
            service = start(toy_settings)
        assert await eventually(lambda: _all_applied(toy_settings), timeout=180) == (EVENTS, 0)
    finally:
        kill9(service)
    assert await count(toy_settings, "outbox", {"pending": True}) == 0


async def _some_applied(settings: Settings, at_least: int) -> bool:
    once, more = await applied_once(settings)
    assert more == 0
    return once >= min(at_least, EVENTS)


async def test_a_scheduled_transition_happens_once_with_two_replicas(
    toy_settings: Settings,
) -> None:
    client = connect(toy_settings.mongodb_uri)
    database = Database(client, toy_settings.database_name, SystemClock())
    await database.db.contracts.insert_many(
        [{"_id": f"c-{n}", "status": "declared"} for n in range(200)])
    completed: list[str] = []

    async def complete_work() -> int:
        due = await database.db.contracts.find({"status": "declared"}).to_list(None)
        made = 0
        for contract in due:
            async def complete(uow: UnitOfWork, cid: str = contract["_id"]) -> bool:
                result = await uow.db.contracts.update_one(
                    {"_id": cid, "status": "declared"}, {"$set": {"status": "completed"}},
                    session=uow.session)
                return result.modified_count == 1
            if await database.transaction(complete):
                completed.append(contract["_id"])
                made += 1
        return made

    replicas = [Scheduler(database.db, SystemClock(), [ScheduledJob("complete", complete_work)])
                for _ in range(2)]
    # each replica is given the lease in turn, as after a failover; both try at the same time
    await asyncio.gather(*(r.tick() for r in replicas), *(complete_work() for _ in range(2)))
    assert sorted(completed) == sorted(f"c-{n}" for n in range(200))
    assert await database.db.contracts.count_documents({"status": "completed"}) == 200
    await client.close()
