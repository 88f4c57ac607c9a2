"""The benchmark's view of the platform: every event of the six topics, read with aiokafka.

Kafka record timestamps (producer CreateTime, i.e. when a service's outbox relay sent the event)
are the clock for every latency and rate, so the figures do not depend on when the benchmark
happened to read a record.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer
from smart_shared.events import TOPICS

SERVICE_OF_TOPIC = {topic: topic.split(".")[1] for topic in TOPICS}


def short_type(ce_type: str) -> str:
    """``coop.smart.billing.InvoicePaid.v1`` → ``InvoicePaid``."""
    parts = ce_type.split(".")
    return parts[-2] if len(parts) >= 2 else ce_type


@dataclass
class TopicStats:
    count: int = 0
    first_ms: int | None = None
    last_ms: int | None = None

    def add(self, ts: int) -> None:
        self.count += 1
        self.first_ms = ts if self.first_ms is None else min(self.first_ms, ts)
        self.last_ms = ts if self.last_ms is None else max(self.last_ms, ts)


@dataclass
class EventLog:
    """What the benchmark saw, indexed the way the figures need it."""

    namespace: str
    counts: Counter[str] = field(default_factory=Counter)
    topics: dict[str, TopicStats] = field(default_factory=lambda: defaultdict(TopicStats))
    # first record timestamp per (event type, contract id)
    at: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))
    # every timestamp per event type (for first/last of a stage)
    stamps: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    # first record timestamp per (member event type, member id)
    member_at: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))
    salary_ids: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    event_ids: Counter[str] = field(default_factory=Counter)
    bodies: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    on_event: list[Callable[[str, dict[str, Any]], None]] = field(default_factory=list)

    KEEP_BODIES = frozenset({"InvoiceIssued", "SalaryDue", "GuaranteeDeclined"})

    def add(self, topic: str, timestamp: int, headers: dict[str, str], value: bytes) -> None:
        kind = short_type(headers.get("ce_type", ""))
        canonical = topic[len(self.namespace):] if topic.startswith(self.namespace) else topic
        self.topics[canonical].add(timestamp)
        self.event_ids[headers.get("ce_id", "")] += 1
        if self.event_ids[headers.get("ce_id", "")] > 1:
            self.counts["duplicate deliveries"] += 1
            return
        self.counts[kind] += 1
        self.stamps[kind].append(timestamp)
        try:
            body = json.loads(value)
        except ValueError:
            return
        contract_id = body.get("contract_id")
        if contract_id:
            self.at[kind].setdefault(contract_id, timestamp)
        elif kind.startswith("Member") and body.get("member_id"):
            self.member_at[kind].setdefault(body["member_id"], timestamp)
        if kind == "SalaryDue" and contract_id:
            self.salary_ids[contract_id].add(body.get("salary_id", ""))
        if kind in self.KEEP_BODIES:
            self.bodies[kind].append(body)
        for callback in self.on_event:
            callback(kind, body)


class EventCollector:
    """Reads the six (namespaced) topics in a background task into an ``EventLog``."""

    def __init__(self, bootstrap: str, namespace: str, from_beginning: bool = True) -> None:
        self.log = EventLog(namespace)
        self._bootstrap = bootstrap
        self._namespace = namespace
        self._from_beginning = from_beginning
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        topics = [f"{self._namespace}{t}" for t in TOPICS]
        self._consumer = AIOKafkaConsumer(
            *topics, bootstrap_servers=self._bootstrap, group_id=None,
            enable_auto_commit=False, max_partition_fetch_bytes=4 * 1024 * 1024,
            auto_offset_reset="earliest" if self._from_beginning else "latest",
        )
        await self._consumer.start()
        # without a group the consumer takes every partition of the topics itself
        for _ in range(100):
            if {tp.topic for tp in self._consumer.assignment()} >= set(topics):
                break
            await asyncio.sleep(0.1)
        if not self._from_beginning:
            for tp in self._consumer.assignment():
                await self._consumer.position(tp)  # pin "latest" now, before the load starts
        self._task = asyncio.create_task(self._run(), name="bench-event-collector")

    async def _run(self) -> None:
        assert self._consumer is not None
        while True:
            batches = await self._consumer.getmany(timeout_ms=200, max_records=5000)
            for tp, records in batches.items():
                for record in records:
                    headers = {k: v.decode(errors="replace") for k, v in record.headers or ()}
                    self.log.add(tp.topic, record.timestamp, headers, record.value or b"")

    async def wait_for(self, condition: Callable[[EventLog], bool], timeout: float,
                       what: str) -> float:
        """Wait until ``condition(log)``; returns the seconds waited, raises on timeout."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        while not condition(self.log):
            if self._task is not None and self._task.done():
                self._task.result()
            if loop.time() - start > timeout:
                raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}; "
                                   f"seen so far: {dict(self.log.counts)}")
            await asyncio.sleep(0.1)
        return loop.time() - start

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if self._consumer is not None:
            await self._consumer.stop()
