"""One platform stage on its own, measured the way the raw baseline is.

The baseline is a single stage with the machine to itself: its input is published first, then
it consumes. Inside the saga every stage shares the two cores with five other services, Kafka,
MongoDB and the load generator, so a saga stage rate says little about a stage's own cost. Here
the private platform's services are stopped, ``events`` ``ContractSigned`` of new contracts are
published to its contracts topic, and the fund is started alone: it decides every guarantee
(the heaviest handler of the saga: exposures, the free balance, the reservation transfer, the
guarantee, the event) with all its layers (FastStream, pydantic, the inbox, one transaction per
batch, the outbox relay, tracing). The clock runs, as the baseline's does, from the moment the
fund takes the first signature (the earliest of their rows in its inbox) to the last decision
(``GuaranteeGranted`` or ``GuaranteeDeclined``) on Kafka, by that record's timestamp: the first
batch's work is counted, and a run small enough to be decided in one batch still has a duration.
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from smart_shared.events import encode
from smart_shared.events.catalogue import CONTRACTS_TOPIC, FUND_TOPIC
from smart_shared.ids import new_id
from smart_shared.mongo import INBOX, connect

from tests.performance.hops import signed
from tests.platform import PlatformProcesses

STAGE = "ContractSigned→GuaranteeGranted (fund alone)"
DECISIONS = ("GuaranteeGranted", "GuaranteeDeclined")


async def run_stage(plat: PlatformProcesses, bootstrap: str, events: int,
                    timeout: float) -> dict[str, Any]:
    """Stop the platform, publish ``events`` signatures, start the fund alone and time it."""
    namespace = plat.env["SMART_TOPIC_NAMESPACE"]
    await asyncio.to_thread(plat.stop_all)
    contracts = {new_id() for _ in range(events)}
    event_ids = [new_id() for _ in contracts]
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True,
                                acks="all", linger_ms=5)
    await producer.start()
    try:
        now = datetime.now(UTC)
        sends = []
        for contract, event_id in zip(contracts, event_ids, strict=True):
            key, value, headers = encode(signed(contract, new_id(), now), event_id)
            sends.append(await producer.send(namespace + CONTRACTS_TOPIC, value, key=key,
                                             headers=headers))
        await asyncio.gather(*sends)
    finally:
        await producer.stop()
    decided: dict[str, int] = {}
    reader = asyncio.create_task(_read_decisions(bootstrap, namespace + FUND_TOPIC, contracts,
                                                 decided))
    try:
        plat.start("fund")
        await asyncio.to_thread(plat.wait_ready, ("fund",))
        deadline = time.monotonic() + timeout
        while len(decided) < events and time.monotonic() < deadline:
            await asyncio.sleep(0.25)
    finally:
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)
        await asyncio.to_thread(plat.stop_all)
    first_taken = await _first_taken(plat, event_ids)
    if not decided or first_taken is None:
        return {"stage": STAGE, "events": events, "decided": len(decided), "events_per_s": None}
    seconds = (max(decided.values()) - first_taken) / 1000
    return {
        "stage": STAGE,
        "events": events,
        "decided": len(decided),
        "seconds": round(seconds, 3),
        "events_per_s": round(len(decided) / seconds, 1) if seconds > 0 else None,
    }


async def _first_taken(plat: PlatformProcesses, event_ids: list[str]) -> int | None:
    """When the fund took the first of ``event_ids``, in milliseconds since the epoch."""
    client = connect(plat.env["MONGODB_URI"])
    try:
        inbox = client[plat.database("fund")][INBOX]
        first = await inbox.find_one({"_id": {"$in": event_ids}}, {"at": 1}, sort=[("at", 1)])
    finally:
        await client.close()
    return int(first["at"].timestamp() * 1000) if first else None


async def _read_decisions(bootstrap: str, topic: str, contracts: set[str],
                          decided: dict[str, int]) -> None:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap,
                                auto_offset_reset="earliest")
    await consumer.start()
    try:
        async for record in consumer:
            headers = {name: value.decode() for name, value in record.headers or []}
            if headers.get("ce_type", "").split(".")[-2] not in DECISIONS:
                continue
            contract = json.loads(record.value).get("contract_id")
            if contract in contracts:
                decided.setdefault(contract, record.timestamp)
    finally:
        await consumer.stop()
