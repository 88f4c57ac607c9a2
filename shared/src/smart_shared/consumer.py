"""The idempotent batch consumer (the inbox side of exactly-once effects).

A batch of Kafka records is handled in one MongoDB transaction: the handlers' state changes, the
events they publish (outbox) and the ids of the events handled (inbox) commit together, and the
offsets are committed only after that. A redelivered event finds its id in the inbox and changes
nothing. A handler that fails makes the batch fall back to one transaction per event, so the
poison event is isolated, retried a few times and dead-lettered while the others go through.
Records keep their partition order throughout, so order per key holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from opentelemetry import trace
from opentelemetry.trace import Link, SpanKind

from smart_shared.deadletters import DeadLetters
from smart_shared.events import (
    BY_CE_TYPE,
    Envelope,
    Event,
    MalformedEvent,
    UnknownEventType,
    decode,
    header_map,
)
from smart_shared.metrics import (
    CONSUMER_LAG,
    CONSUMER_STALLS,
    EVENTS_PROCESSED,
    EVENTS_SKIPPED,
    PARTITIONS_OWNED,
)
from smart_shared.mongo import INBOX, Database, UnitOfWork, backoff, is_transient
from smart_shared.telemetry import message_span

log = logging.getLogger("smart.consumer")

# a use case takes its unit of work first, as every use case does: (uow, event)
Handler = Callable[[UnitOfWork, Any], Awaitable[None]]
H = TypeVar("H", bound=Handler)

# a batch's handlers share the event loop with the service's HTTP requests and relays: it lets
# them run after this long at a time, so that a batch of hundreds of events does not hold an
# answer back for the whole batch (the events are still handled in order, in one transaction)
HAND_OVER_SECONDS = 0.005
Preparer = Callable[[UnitOfWork, list[Event]], Awaitable[None]]


class EventHandlers:
    """The events a service consumes and the use case each one runs.

    >>> handlers = EventHandlers()
    >>> handlers.on(WorkCompleted)(issue_invoice)  # async def issue_invoice(uow, event)
    """

    def __init__(self) -> None:
        self._by_type: dict[str, Handler] = {}
        self._topics: set[str] = set()
        self._preparers: list[Preparer] = []

    def on(self, *event_types: type[Event]) -> Callable[[H], H]:
        """Register the use case (decorated, or given) for these event types; it is called
        ``(uow, event)`` with one of them."""

        def register(handler: H) -> H:
            for event_type in event_types:
                self._by_type[event_type.ce_type()] = handler
                self._topics.add(event_type.topic)
            return handler

        return register

    def before_batch(self, preparer: Preparer) -> Preparer:
        """Run ``preparer`` once per transaction, before the handlers, with the events about to
        be handled (redeliveries already dropped), so it can read what they all need at once.

        >>> @handlers.before_batch
        ... async def read_contracts(uow: UnitOfWork, events: list[Event]) -> None: ...
        """
        self._preparers.append(preparer)
        return preparer

    async def prepare(self, events: list[Event], uow: UnitOfWork) -> None:
        for preparer in self._preparers:
            await preparer(uow, events)

    @property
    def topics(self) -> list[str]:
        return sorted(self._topics)

    def handler_for(self, ce_type: str) -> Handler | None:
        return self._by_type.get(ce_type)


class InfrastructureDown(Exception):
    """MongoDB stayed unreachable: the batch is rewound and retried later, never dead-lettered."""


@dataclass
class Incoming:
    record: Any  # aiokafka ConsumerRecord
    envelope: Envelope
    event: Event
    handler: Handler


class BatchConsumer:
    def __init__(
        self,
        service: str,
        database: Database,
        handlers: EventHandlers,
        dead_letters: DeadLetters,
        branches: Iterable[str],
        max_retries: int = 3,
        transient_attempts: int = 8,
    ) -> None:
        self.service = service
        self.database = database
        self.handlers = handlers
        self.dead_letters = dead_letters
        self.branches = set(branches)
        self.max_retries = max_retries
        self.transient_attempts = transient_attempts
        self.last_batch_done = time.monotonic()
        """When the last batch ended, committed or rewound (monotonic seconds)."""
        self.batch_started: float | None = None
        """When the batch being handled now started (``None``: none is)."""
        self.batch_task: asyncio.Task[Any] | None = None
        """The task handling that batch."""
        self.commits = OffsetCommits(service)
        """The offsets of the batches handled, on their way to Kafka."""

    async def handle_batch(self, records: Sequence[Any]) -> bool:
        """Handle records in order. True: commit the offsets. False: rewind and redeliver."""
        self.batch_started = time.monotonic()
        self.batch_task = asyncio.current_task()
        try:
            incoming, poison = self._read(records)
            try:
                await self._handle(incoming, poison)
            except InfrastructureDown as error:
                log.warning("batch of %d rewound: %s", len(records), error)
                return False
            for record, reason in poison:
                await self.dead_letters.send(record, reason, self.service)
            return True
        finally:
            self.batch_started = None
            self.batch_task = None
            self.last_batch_done = time.monotonic()

    def _read(self, records: Sequence[Any]) -> tuple[list[Incoming], list[tuple[Any, str]]]:
        incoming: list[Incoming] = []
        poison: list[tuple[Any, str]] = []
        for record in records:
            headers = header_map(record.headers or [])
            ce_type = headers.get("ce_type")
            if ce_type in BY_CE_TYPE and self.handlers.handler_for(ce_type) is None:
                continue  # a type of the topic this service has no use for: not even parsed
            try:
                envelope, event = decode(headers, record.value)
            except UnknownEventType:
                EVENTS_SKIPPED.labels(self.service, "unknown_type").inc()
                continue
            except MalformedEvent as error:
                poison.append((record, str(error)))
                continue
            if event.branch not in self.branches:
                EVENTS_SKIPPED.labels(self.service, "other_branch").inc()
                continue
            handler = self.handlers.handler_for(envelope.type)
            if handler is None:
                continue  # a type of the topic this service has no use for
            incoming.append(Incoming(record, envelope, event, handler))
        return incoming, poison

    async def _handle(self, incoming: list[Incoming], poison: list[tuple[Any, str]]) -> None:
        if not incoming:
            return
        for attempt in range(self.transient_attempts):
            try:
                await self._in_one_transaction(incoming)
                return
            except Exception as error:
                if not is_transient(error):
                    log.info("batch failed (%s); isolating the failing event", error)
                    await self._one_by_one(incoming, poison)
                    return
                await backoff(attempt)
        raise InfrastructureDown("MongoDB unreachable")

    async def _one_by_one(self, incoming: list[Incoming], poison: list[tuple[Any, str]]) -> None:
        for item in incoming:
            failures = transient = 0
            while True:
                try:
                    await self._in_one_transaction([item])
                    break
                except Exception as error:
                    if is_transient(error):
                        transient += 1
                        if transient >= self.transient_attempts:
                            raise InfrastructureDown("MongoDB unreachable") from error
                        await backoff(transient)
                        continue
                    failures += 1
                    if failures > self.max_retries:
                        log.error(
                            "dead-lettering %s %s after %d attempts: %r",
                            item.envelope.type, item.envelope.id, failures, error,
                        )
                        poison.append((item.record, f"{type(error).__name__}: {error}"))
                        break
                    await backoff(failures)

    async def _in_one_transaction(self, items: list[Incoming]) -> None:
        handled: list[str] = []

        async def work(uow: UnitOfWork) -> None:
            handled.clear()
            ids = [item.envelope.id for item in items]
            cursor = uow.db[INBOX].find({"_id": {"$in": ids}}, {"_id": 1}, session=uow.session)
            seen = {doc["_id"] async for doc in cursor}
            fresh: dict[str, Incoming] = {}
            for item in items:
                if item.envelope.id not in seen:
                    fresh.setdefault(item.envelope.id, item)
            if fresh:
                await self.handlers.prepare([item.event for item in fresh.values()], uow)
            batch_link = [Link(trace.get_current_span().get_span_context())]
            handed_over = time.monotonic()
            for item in items:
                if item.envelope.id in seen:
                    continue
                if time.monotonic() - handed_over > HAND_OVER_SECONDS:
                    await asyncio.sleep(0)
                    handed_over = time.monotonic()
                seen.add(item.envelope.id)
                with message_span(
                    "smart.consumer",
                    f"{item.envelope.type} process",
                    item.envelope.traceparent,
                    SpanKind.CONSUMER,
                    {
                        "messaging.system": "kafka",
                        "messaging.message.id": item.envelope.id,
                        "messaging.destination.name": item.record.topic,
                        "smart.aggregate_id": item.envelope.subject,
                    },
                    batch_link,
                ):
                    await item.handler(uow, item.event)
                uow.record_handled(item.envelope.id, item.envelope.type)
                handled.append(item.envelope.type)

        await self.database.transaction(work)
        skipped = len(items) - len(handled)
        if skipped:
            EVENTS_SKIPPED.labels(self.service, "duplicate").inc(skipped)
        for ce_type in handled:
            EVENTS_PROCESSED.labels(self.service, ce_type).inc()


def awaiting(task: asyncio.Task[Any]) -> str:
    """Where a suspended task waits: its chain of awaits, outermost first (``file:line fn``).

    ``Task.get_stack`` shows only the outermost coroutine; this follows each coroutine's
    ``cr_await`` down to the innermost one, which is what an SRE wants to see."""
    steps: list[str] = []
    awaited: Any = task.get_coro()
    while awaited is not None and len(steps) < 40:
        frame = getattr(awaited, "cr_frame", None) or getattr(awaited, "gi_frame", None)
        if frame is not None:
            code = frame.f_code
            steps.append(f"{code.co_filename.rsplit('/', 2)[-1]}:{frame.f_lineno} {code.co_name}")
        awaited = getattr(awaited, "cr_await", None) or getattr(awaited, "gi_yieldfrom", None)
    return " -> ".join(steps) or "(nowhere known)"


KafkaConsumer = Any  # aiokafka's AIOKafkaConsumer (untyped)


class OffsetCommits:
    """Commits a consumer's offsets behind its batches, without holding the next batch back.

    A batch's offsets (the one after its last record, per partition) are taken when its
    transaction has committed, so an offset never passes an event whose effects are not in the
    database; the commit itself goes to Kafka while the next batch is fetched and handled. One
    commit is in flight at a time, and the offsets of the batches that finish meanwhile go out
    together in the next one. A commit that fails (the broker away, the partition handed to
    another replica) is tried again with the newer offsets; until then a restart redelivers
    those events and the inbox drops them.
    """

    RETRY_SECONDS = 0.5

    def __init__(self, service: str) -> None:
        self.service = service
        self._pending: dict[Any, int] = {}
        self._consumer: KafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def pending(self) -> dict[Any, int]:
        """The offsets waiting to be committed, by ``TopicPartition``."""
        return dict(self._pending)

    def after(self, consumer: KafkaConsumer, records: Iterable[Any]) -> None:
        """Commit the offsets past ``records`` (a batch whose transaction committed)."""
        from aiokafka import TopicPartition

        pending = self._pending
        for record in records:
            partition = TopicPartition(record.topic, record.partition)
            if record.offset >= pending.get(partition, -1):
                pending[partition] = record.offset + 1
        self._consumer = consumer
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._commit(), name=f"{self.service}-commits")

    async def flush(self) -> None:
        """Wait for the offsets taken so far to be committed (or given up on)."""
        if self._task is not None:
            await self._task

    async def _commit(self) -> None:
        failures = 0
        while self._pending and self._consumer is not None:
            consumer = self._consumer
            offsets, self._pending = self._pending, {}
            owned = consumer.assignment()
            # a partition handed to another replica is its to commit now
            offsets = {partition: offset for partition, offset in offsets.items()
                       if partition in owned}
            if not offsets:
                continue
            try:
                await consumer.commit(offsets)
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as error:
                failures += 1
                for partition, offset in offsets.items():
                    if offset > self._pending.get(partition, -1):
                        self._pending[partition] = offset
                log.warning("%s: committing offsets failed (%s); trying again",
                            self.service, error)
                await asyncio.sleep(min(self.RETRY_SECONDS * failures, 5.0))


class ConsumerWatch:
    """Watches a service's Kafka consumer: partitions owned, lag, progress; notices a stall.

    Every ``interval`` seconds it reads the partitions the consumer owns and how far behind their
    end it is (``smart_consumer_partitions``, ``smart_consumer_lag``). The consumer is *stalled*
    when it has owned no partition for ``stall_seconds``, or has been behind for that long with
    no batch finished. A stall is logged and counted; when no batch is in progress (nothing is
    being fetched although events wait) the Kafka subscription is started again, since waiting
    would not end it.
    """

    def __init__(
        self,
        consumer: BatchConsumer,
        kafka: Callable[[], KafkaConsumer | None],
        resubscribe: Callable[[], Awaitable[None]],
        stall_seconds: float = 30.0,
        interval: float = 1.0,
    ) -> None:
        self.consumer = consumer
        self._kafka = kafka
        self._resubscribe = resubscribe
        self.stall_seconds = stall_seconds
        self._interval = interval
        self.partitions = 0
        self.lag: int | None = None
        now = time.monotonic()
        self._unassigned_since: float | None = now
        self._behind_since: float | None = None
        self._stalled: str | None = None
        self._subscription_down = False
        self._told_where = False
        self._unknown_since: float | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def status(self) -> str:
        """``consuming``, ``no partition`` (none owned yet, or lost), or ``stalled: <why>``."""
        if self._stalled:
            return f"stalled: {self._stalled}"
        return "consuming" if self.partitions else "no partition"

    @property
    def kafka_consumer(self) -> KafkaConsumer | None:
        """The aiokafka consumer watched now (a new one after each subscription)."""
        return self._kafka()

    @property
    def healthy(self) -> bool:
        return self.partitions > 0 and not self._stalled

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name=f"{self.consumer.service}-watch")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.check()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the watch must outlive whatever it watches
                log.warning("consumer watch failed: %s", error)

    async def check(self) -> None:
        """Look once: partitions, lag, and whether the consumer is stalled."""
        service = self.consumer.service
        if self._subscription_down:
            await self._subscribe_again()  # the last attempt failed (the broker was away)
        kafka = self.kafka_consumer
        owned = list(kafka.assignment()) if kafka is not None else []
        self.partitions = len(owned)
        PARTITIONS_OWNED.labels(service).set(len(owned))
        now = time.monotonic()
        lag = await self._measure_lag(kafka, owned) if owned else None
        # owned partitions whose lag cannot be read (no position known, the end offsets not
        # answered) may hide a consumer that no longer fetches: counted as unknown, not as 0
        if owned and lag is None:
            self._unknown_since = self._unknown_since or now
        else:
            self._unknown_since = None
            self.lag = lag
        if owned:
            self._unassigned_since = None
        elif self._unassigned_since is None:
            self._unassigned_since = now
        if lag:
            self._behind_since = self._behind_since or now
        else:
            self._behind_since = None
        waiting = now - max(self._behind_since or now, self.consumer.last_batch_done)
        if self._unassigned_since is not None and now - self._unassigned_since > self.stall_seconds:
            self._stall("no partition", f"no partition for {now - self._unassigned_since:.0f}s")
        elif self._behind_since is not None and waiting > self.stall_seconds:
            self._stall("behind", f"{lag} events behind, nothing finished for {waiting:.0f}s")
            if await self._unstick(f"fetches nothing although {lag} events wait", now):
                self._behind_since = None
        elif (self._unknown_since is not None and now - self._unknown_since > self.stall_seconds
              and now - self.consumer.last_batch_done > self.stall_seconds):
            self._stall("lag unknown", f"lag unreadable for {now - self._unknown_since:.0f}s, "
                        "nothing finished")
            if await self._unstick("cannot tell how far behind it is", now):
                self._unknown_since = None
        elif self._stalled:
            log.warning("%s consumer recovered from its stall (%s)", service, self._stalled)
            self._stalled = None
            self._told_where = False

    async def _unstick(self, why: str, now: float) -> bool:
        """A stalled consumer with no batch running fetches nothing, and waiting would not end
        that: subscribe again (True). With a batch running, say once where it waits."""
        consumer = self.consumer
        if consumer.batch_started is None:
            log.error("%s consumer %s: subscribing again", consumer.service, why)
            consumer.last_batch_done = time.monotonic()
            await self._subscribe_again()
            return True
        if consumer.batch_task is not None and not self._told_where:
            self._told_where = True
            log.error("%s consumer's batch has run for %.0fs; it waits in %s", consumer.service,
                      now - consumer.batch_started, awaiting(consumer.batch_task))
        return False

    async def _subscribe_again(self) -> None:
        try:
            await self._resubscribe()
            self._subscription_down = False
            log.warning("%s consumer subscribed again", self.consumer.service)
        except Exception as error:
            self._subscription_down = True
            log.warning("%s consumer could not subscribe again (%r); it tries on",
                        self.consumer.service, error)

    def _stall(self, reason: str, detail: str) -> None:
        if self._stalled is None:
            log.error("%s consumer stalled: %s", self.consumer.service, detail)
            CONSUMER_STALLS.labels(self.consumer.service, reason).inc()
        self._stalled = detail

    async def _measure_lag(self, kafka: KafkaConsumer, owned: list[Any]) -> int | None:
        """Events waiting on the owned partitions; None when it cannot be read."""
        try:
            ends = await asyncio.wait_for(kafka.end_offsets(owned), timeout=5)
        except Exception:
            return None  # the broker did not answer
        positions = await asyncio.gather(
            *(asyncio.wait_for(kafka.position(partition), timeout=1) for partition in owned),
            return_exceptions=True)
        lag = 0
        known = False
        for partition, position in zip(owned, positions, strict=True):
            if not isinstance(position, int):
                continue  # not known yet (offsets being fetched after an assignment)
            known = True
            behind = max(0, ends.get(partition, position) - position)
            CONSUMER_LAG.labels(self.consumer.service, partition.topic,
                                str(partition.partition)).set(behind)
            lag += behind
        return lag if known else None
