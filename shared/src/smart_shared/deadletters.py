"""Dead letters: a message that cannot be handled goes to ``<topic>.dlq`` with the reason and its
original headers, so the consumer moves on and staff can replay it after a fix.

What was replayed is kept in Kafka itself, by the replay consumer group of the deployment
(``DeadLetterQueue``): per partition, the committed offset is the first dead letter not replayed,
and the offsets replayed one by one beyond it (``smart dlq replay --event-id``) ride in the
commit's metadata. So ``smart dlq list`` shows exactly what is still pending.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any

from smart_shared.events import header_map
from smart_shared.metrics import EVENTS_FAILED

if TYPE_CHECKING:
    from smart_shared.settings import Settings

log = logging.getLogger("smart.deadletters")

DLQ_SUFFIX = ".dlq"
DLQ_HEADERS = (
    "dlq_error",
    "dlq_original_topic",
    "dlq_original_partition",
    "dlq_original_offset",
    "dlq_consumer",
    "dlq_failed_at",
)

Send = Callable[[bytes | None, str, bytes | None, dict[str, str]], Awaitable[Any]]


def dlq_topic(topic: str) -> str:
    return topic if topic.endswith(DLQ_SUFFIX) else topic + DLQ_SUFFIX


def original_headers(headers: dict[str, str]) -> dict[str, str]:
    """The headers a dead letter had before it died (what a replay sends again)."""
    return {k: v for k, v in headers.items() if k not in DLQ_HEADERS}


class DeadLetters:
    def __init__(self, send: Send) -> None:
        self._send = send

    async def send(self, record: Any, reason: str, consumer: str) -> None:
        """Publish ``record`` to its dead-letter topic and wait for the broker's acknowledgement."""
        headers = {
            name: value.decode("utf-8", errors="replace")
            for name, value in (record.headers or [])
            if value is not None
        }
        headers.update({
            "dlq_error": reason[:4000],
            "dlq_original_topic": record.topic,
            "dlq_original_partition": str(record.partition),
            "dlq_original_offset": str(record.offset),
            "dlq_consumer": consumer,
            "dlq_failed_at": datetime.now(UTC).isoformat(),
        })
        await self._send(record.value, dlq_topic(record.topic), record.key, headers)
        EVENTS_FAILED.labels(consumer, record.topic).inc()
        log.warning(
            "dead-lettered %s[%s]@%s: %s", record.topic, record.partition, record.offset, reason
        )


class UnknownTopic(LookupError):
    """The dead-letter topic does not exist on the cluster."""


MAX_METADATA = 4000
"""Bytes of commit metadata the broker keeps by default (``offset.metadata.max.bytes`` 4096)."""


def replay_group(settings: Settings) -> str:
    """The consumer group that remembers which dead letters of the deployment were replayed."""
    return f"smart.{settings.deployment}.dlq-replay"


class DeadLetterQueue:
    """The pending dead letters of one topic, and the marking of those replayed.

        async with DeadLetterQueue(settings, "smart.billing.invoice.v1") as queue:
            for record in await queue.pending(): ...
            await queue.mark_replayed(records)
    """

    def __init__(self, settings: Settings, topic: str) -> None:
        self.settings = settings
        self.topic = dlq_topic(topic)
        self._consumer: Any = None
        self._admin: Any = None
        self._replayed: dict[Any, set[int]] = {}
        self._committed: dict[Any, int] = {}
        self._records: dict[Any, list[Any]] = {}

    async def __aenter__(self) -> DeadLetterQueue:
        from aiokafka import AIOKafkaConsumer, TopicPartition
        from aiokafka.admin import AIOKafkaAdminClient

        settings = self.settings
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=settings.kafka_bootstrap_servers, group_id=replay_group(settings),
            enable_auto_commit=False, auto_offset_reset="earliest",
            **settings.kafka_security())
        self._admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers,
                                          **settings.kafka_security())
        try:
            await self._admin.start()
            # the list of all topics: asking for one topic by name would create it on a broker
            # that auto-creates topics
            if self.topic not in await self._admin.list_topics():
                raise UnknownTopic(self.topic)
            (described,) = await self._admin.describe_topics([self.topic])
            partitions = [TopicPartition(self.topic, p["partition"])
                          for p in sorted(described["partitions"], key=lambda p: p["partition"])]
            await self._consumer.start()
            self._consumer.assign(partitions)
            committed = await self._admin.list_consumer_group_offsets(
                replay_group(settings), partitions=partitions)
            first = await self._consumer.beginning_offsets(partitions)
            for tp in partitions:
                mark = committed.get(tp)
                offset = mark.offset if mark is not None and mark.offset >= 0 else first[tp]
                self._committed[tp] = max(offset, first[tp])
                self._replayed[tp] = _offsets(mark.metadata if mark is not None else "")
                self._consumer.seek(tp, self._committed[tp])
        except BaseException:
            await self.close()
            raise
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        trace: TracebackType | None) -> None:
        await self.close()

    async def close(self) -> None:
        if self._admin is not None:
            await self._admin.close()
        if self._consumer is not None:
            await self._consumer.stop()

    async def pending(self) -> list[Any]:
        """The dead letters not replayed yet, in partition and offset order."""
        consumer = self._consumer
        partitions = list(self._committed)
        end = await consumer.end_offsets(partitions)
        self._records = {tp: [] for tp in partitions}
        while [tp for tp in partitions if await consumer.position(tp) < end[tp]]:
            batch = await consumer.getmany(*partitions, timeout_ms=1000)
            for tp, records in batch.items():
                self._records[tp].extend(r for r in records if r.offset < end[tp])
        return [record for tp in partitions for record in self._records[tp]
                if record.offset not in self._replayed[tp]]

    async def mark_replayed(self, records: Iterable[Any]) -> None:
        """Remember ``records`` (read by ``pending``) as replayed, for every later reader."""
        from aiokafka import TopicPartition

        offsets: dict[Any, tuple[int, str]] = {}
        for record in records:
            self._replayed[TopicPartition(record.topic, record.partition)].add(record.offset)
        for tp, replayed in self._replayed.items():
            committed = self._committed[tp]
            for record in self._records.get(tp, []):
                if record.offset < committed:
                    continue
                if record.offset not in replayed:
                    break
                committed = record.offset + 1
            beyond = sorted(offset for offset in replayed if offset >= committed)
            metadata = ",".join(map(str, beyond))
            if len(metadata) > MAX_METADATA:
                raise ValueError(f"too many dead letters of {tp.topic}[{tp.partition}] replayed "
                                 "one by one; replay them all at once")
            self._committed[tp], self._replayed[tp] = committed, set(beyond)
            offsets[tp] = (committed, metadata)
        await self._consumer.commit(offsets)



async def replay(queue: DeadLetterQueue, records: list[Any], topic: str, send: Send) -> None:
    """Send each dead letter of ``queue`` back to the topic it died on (``topic`` when it does
    not say), with its original headers, then mark them replayed."""
    for record in records:
        headers = header_map(record.headers or [])
        await send(record.value, headers.get("dlq_original_topic", topic), record.key,
                   original_headers(headers))
    # sent before marked: a crash in between sends them again, and the inboxes drop the copies
    await queue.mark_replayed(records)

def _offsets(metadata: str) -> set[int]:
    return {int(part) for part in (metadata or "").split(",") if part.strip().isdigit()}
