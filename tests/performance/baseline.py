"""The raw baseline: one event-driven stage with aiokafka and PyMongo only, none of the platform's
layers (no FastStream, no pydantic decoding, no tracing, no outbox relay process of its own).

Per event it does the writes a platform stage does: an inbox row, an upsert of the aggregate's
state and an outbox row; per batch of at most 500 records one MongoDB transaction (majority
write concern, snapshot read concern, like the platform), then the offsets are committed and the
outbox rows of the batch are published to an output topic (idempotent producer, ``acks=all``).
It runs on its own temporary topics and database, which are removed afterwards.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from bson import ObjectId
from pymongo import AsyncMongoClient, ReadPreference, UpdateOne
from pymongo.read_concern import ReadConcern
from pymongo.write_concern import WriteConcern

BATCH = 500


async def _create_topics(bootstrap: str, *names: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(n, num_partitions=3, replication_factor=1)
                                   for n in names])
    finally:
        await admin.close()


async def _delete_topics(bootstrap: str, *names: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.delete_topics(list(names))
    except Exception:
        pass
    finally:
        await admin.close()


async def run_baseline(bootstrap: str, mongo_uri: str, events: int, prefix: str
                       ) -> dict[str, Any]:
    """Push ``events`` through one raw stage; returns its events/s and timings."""
    run = uuid.uuid4().hex[:10]
    source, sink = f"{prefix}bench-baseline-{run}.in", f"{prefix}bench-baseline-{run}.out"
    database = f"{prefix.replace('.', '_').replace('-', '_')}bench_baseline_{run}"
    await _create_topics(bootstrap, source, sink)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True,
                                acks="all", linger_ms=5)
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        mongo_uri, tz_aware=True, w="majority", retryWrites=True)
    db = client[database]
    consumer: AIOKafkaConsumer | None = None
    try:
        await producer.start()
        await db["outbox"].create_index([("pending", 1), ("_id", 1)])
        # the input: `events` contract-like events over as many aggregates, keyed by aggregate
        aggregates = max(1, events)
        sends = []
        for n in range(events):
            aggregate = f"agg-{n % aggregates}"
            body = json.dumps({"contract_id": aggregate, "branch": "BE", "version": 1,
                               "amount": {"amount": f"{100 + n % 900}.00", "currency": "EUR"},
                               "occurred_at": datetime.now(UTC).isoformat()}).encode()
            headers = [("ce_id", uuid.uuid4().hex.encode()),
                       ("ce_type", b"coop.smart.bench.Input.v1")]
            sends.append(await producer.send(source, body, key=aggregate.encode(),
                                             headers=headers))
        await asyncio.gather(*sends)

        consumer = AIOKafkaConsumer(
            source, bootstrap_servers=bootstrap, group_id=f"bench-baseline-{run}",
            enable_auto_commit=False, auto_offset_reset="earliest", max_poll_records=BATCH,
        )
        await consumer.start()
        handled = transactions = 0
        started: float | None = None
        while handled < events:
            batches = await consumer.getmany(timeout_ms=50, max_records=BATCH)
            records = [r for rs in batches.values() for r in rs]
            if not records:
                continue
            if started is None:
                started = time.perf_counter()
            outbox = await _one_transaction(client, db, records)
            transactions += 1
            await consumer.commit()
            deliveries = [await producer.send(sink, row["value"], key=row["key"])
                          for row in outbox]
            await asyncio.gather(*deliveries)
            await db["outbox"].update_many({"_id": {"$in": [row["_id"] for row in outbox]}},
                                           {"$unset": {"pending": ""}})
            handled += len(records)
        elapsed = time.perf_counter() - (started or time.perf_counter())
        return {
            "events": handled,
            "transactions": transactions,
            "seconds": round(elapsed, 3),
            "events_per_s": round(handled / elapsed, 1) if elapsed > 0 else None,
        }
    finally:
        if consumer is not None:
            await consumer.stop()
        await producer.stop()
        await client.drop_database(database)
        await client.close()
        await _delete_topics(bootstrap, source, sink)


async def _one_transaction(client: AsyncMongoClient[dict[str, Any]], db: Any,
                           records: list[Any]) -> list[dict[str, Any]]:
    outbox: list[dict[str, Any]] = []

    async def work(session: Any) -> None:
        outbox.clear()
        ids = [dict(r.headers)["ce_id"].decode() for r in records]
        seen = {doc["_id"] async for doc in db["inbox"].find({"_id": {"$in": ids}}, {"_id": 1},
                                                               session=session)}
        inbox, upserts = [], []
        now = datetime.now(UTC)
        for record, event_id in zip(records, ids, strict=True):
            if event_id in seen:
                continue
            seen.add(event_id)
            body = json.loads(record.value)
            inbox.append({"_id": event_id, "at": now})
            upserts.append(UpdateOne(
                {"_id": body["contract_id"]},
                {"$set": {"amount": body["amount"], "branch": body["branch"], "at": now},
                 "$inc": {"version": 1}}, upsert=True))
            outbox.append({"_id": ObjectId(), "topic": "out", "key": record.key,
                           "value": json.dumps({"contract_id": body["contract_id"],
                                                "decided": True}).encode(),
                           "pending": True, "created_at": now})
        if upserts:
            await db["state"].bulk_write(upserts, ordered=True, session=session)
            await db["outbox"].insert_many(outbox, ordered=True, session=session)
            await db["inbox"].insert_many(inbox, ordered=True, session=session)

    async with client.start_session() as session:
        await session.with_transaction(
            work, read_concern=ReadConcern("snapshot"), write_concern=WriteConcern("majority"),
            read_preference=ReadPreference.PRIMARY)
    return outbox
