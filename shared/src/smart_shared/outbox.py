"""The outbox relay: publishes committed events to Kafka, in order, and marks them sent.

At-least-once by construction: a relay killed between the send and the mark sends the rows again
on restart, and consumers drop the duplicates by event id (the inbox). One relay per service
database is active at a time (a lease), so order per aggregate holds with several replicas.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaProducer
from opentelemetry import propagate
from opentelemetry.trace import SpanKind
from pymongo.asynchronous.database import AsyncDatabase

from smart_shared.metrics import LEASE_HELD, OUTBOX_BACKLOG, OUTBOX_PUBLISHED
from smart_shared.mongo import OUTBOX, Document, Lease, is_transient
from smart_shared.settings import Settings
from smart_shared.telemetry import message_span

TRACE_HEADERS = ("traceparent", "tracestate")

log = logging.getLogger("smart.outbox")

Headers = list[tuple[str, bytes]]
Publish = Callable[[bytes, str, bytes, Headers], Awaitable["asyncio.Future[Any]"]]
"""Send one message (value, topic, key, Kafka headers) and return the delivery future."""


# how every producer of a service sends (the relay's, and the dead letters' through FastStream):
# idempotent, acknowledged by every in-sync replica, a few milliseconds of batching
PRODUCER_OPTIONS: dict[str, Any] = {"enable_idempotence": True, "acks": "all", "linger_ms": 5}


class KafkaSender:
    """The relay's own idempotent producer (``acks=all``): a row goes out as it was stored, its
    bytes and headers unchanged, to the deployment's name of its topic. The relay writes the
    trace context itself, in its one send span per row."""

    def __init__(self, settings: Settings) -> None:
        self._topic = settings.topic
        self._producer = AIOKafkaProducer(
            bootstrap_servers=settings.kafka_bootstrap_servers, **PRODUCER_OPTIONS,
            client_id=f"smart-{settings.service}-relay", **settings.kafka_security())

    async def start(self) -> None:
        await self._producer.start()

    async def stop(self) -> None:
        await self._producer.stop()

    async def __call__(self, value: bytes, topic: str, key: bytes,
                       headers: Headers) -> asyncio.Future[Any]:
        delivery: asyncio.Future[Any] = await self._producer.send(
            self._topic(topic), value, key=key, headers=headers)
        return delivery


def retry_at(attempts: int, now: datetime, first_seconds: float,
             longest: timedelta = timedelta(hours=1)) -> datetime:
    """When to try again after ``attempts`` failures: ``first_seconds`` doubled each time, at
    most ``longest``, with jitter so that many rows that failed together (an outage of the
    server they go to) are not all tried again at the same moment."""
    wait = min(longest.total_seconds(), first_seconds * 2 ** (max(attempts, 1) - 1))
    return now + timedelta(seconds=wait * random.uniform(0.5, 1.0))


class LeasedRelay:
    """A loop that one replica of a service runs at a time (a lease): it sends a batch, waits a
    little when there is nothing more, and backs off when the batch fails. ``relay_once`` says
    what one batch is (the event relay here, the mail relay in ``smart_shared.mail``)."""

    def __init__(
        self,
        db: AsyncDatabase[Document],
        service: str,
        lease_name: str,
        batch_size: int = 500,
        idle_seconds: float = 0.05,
        replica: str = "",
        stall_seconds: float = 30.0,
    ) -> None:
        self._db = db
        self._service = service
        self._batch_size = batch_size
        self._idle = idle_seconds
        self._lease = Lease(db, lease_name, ttl=timedelta(seconds=15), replica=replica)
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._stall = stall_seconds
        # a round either relayed or found another live holder of the lease
        self._last_round = time.monotonic()
        self._standby = False
        self._stopping = False

    @property
    def status(self) -> str:
        """``relaying`` (holds the lease), ``standby`` (another replica does) or ``stalled``
        (no round finished for the stall bound: the database or the broker is failing)."""
        if time.monotonic() - self._last_round > self._stall:
            return "stalled"
        return "standby" if self._standby else "relaying"

    def wake(self) -> None:
        """Tell the relay new rows were committed (saves the idle wait)."""
        self._wake.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"{self._service}-{self._lease.name}")

    async def stop(self) -> None:
        if self._task:
            # a round that swallows its cancellation (an SMTP client turns it into a lost
            # connection) still sees the flag and ends after the round
            self._stopping = True
            self._wake.set()
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            await self._lease.release()
            LEASE_HELD.labels(self._service, self._lease.name).set(0)

    async def relay_once(self) -> int:
        """Send one batch; returns how many were sent."""
        raise NotImplementedError

    async def _run(self) -> None:
        failures = 0
        while not self._stopping:
            try:
                held = await self._lease.acquire()
                LEASE_HELD.labels(self._service, self._lease.name).set(1 if held else 0)
                if not held:
                    self._standby, self._last_round = True, time.monotonic()
                    await asyncio.sleep(2)
                    continue
                # cleared before reading: a commit while this batch is sent wakes the next
                # round at once instead of waiting out the idle time
                self._wake.clear()
                sent = await self.relay_once()
                failures = 0
                self._standby, self._last_round = False, time.monotonic()
                if sent < self._batch_size and not self._wake.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), self._idle)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                failures += 1
                level = logging.WARNING if is_transient(error) or failures < 5 else logging.ERROR
                log.log(level, "%s failed (attempt %d): %s", self._lease.name, failures, error)
                await asyncio.sleep(min(5.0, 0.1 * 2**failures))


class OutboxRelay(LeasedRelay):
    def __init__(
        self,
        db: AsyncDatabase[Document],
        publish: Publish,
        service: str,
        batch_size: int = 500,
        idle_seconds: float = 0.05,
        replica: str = "",
        stall_seconds: float = 30.0,
    ) -> None:
        super().__init__(db, service, "outbox-relay", batch_size, idle_seconds, replica,
                         stall_seconds)
        self._publish = publish

    async def relay_once(self) -> int:
        """Publish one batch of pending rows in commit order; returns how many were sent."""
        rows = await (
            self._db[OUTBOX]
            .find({"pending": True})
            .sort("_id", 1)
            .limit(self._batch_size)
            .to_list(self._batch_size)
        )
        if not rows:
            OUTBOX_BACKLOG.labels(self._service).set(0)
            return 0
        deliveries = []
        for row in rows:
            # the send span is a child of the request or event that caused the row, and the
            # parent of the spans that process the message
            with message_span(
                "smart.outbox", f"{row['ce_type']} send", row.get("traceparent"),
                SpanKind.PRODUCER, {"messaging.message.id": row["event_id"],
                                    "smart.aggregate_id": row["aggregate_id"]},
            ):
                context: dict[str, str] = {}
                propagate.inject(context)
                headers = [(name, bytes(value)) for name, value in row["headers"]
                           if name not in TRACE_HEADERS]
                headers += [(name, value.encode()) for name, value in context.items()]
                deliveries.append(
                    await self._publish(row["value"], row["topic"], row["key"], headers)
                )
        await asyncio.gather(*deliveries)
        await self._db[OUTBOX].update_many(
            {"_id": {"$in": [row["_id"] for row in rows]}},
            {"$unset": {"pending": ""}, "$set": {"sent_at": datetime.now(UTC)}},
        )
        OUTBOX_PUBLISHED.labels(self._service).inc(len(rows))
        OUTBOX_BACKLOG.labels(self._service).set(
            0 if len(rows) < self._batch_size else len(rows)
        )
        return len(rows)
