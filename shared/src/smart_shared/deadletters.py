"""Dead letters: a message that cannot be handled goes to ``<topic>.dlq`` with the reason and its
original headers, so the consumer moves on and staff can replay it after a fix."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from smart_shared.metrics import EVENTS_FAILED

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
