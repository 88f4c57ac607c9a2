"""Time to recover, measured from outside: from a restart to a service's first event handled and
to its backlog drained, and how much of it the process took to start (to answer
``/health/live``: Python importing the service, which on a crowded machine dominates).

At each restart (of a service, of Kafka, of mongod) the watch notes, for every service that
consumes, the end of each partition it reads and what its consumer group had committed there.
Work was waiting where the end lies beyond the commit. The service has handled its first event
when its group commits past the noted commit on one of those partitions (a batch is committed only
once handled), and has drained its backlog when it has committed up to every noted end. The
figures are per service and fault; a service restarted again before it recovered counts as
interrupted, not as a figure.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import statistics
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from tests.platform import SERVICES, PlatformProcesses

FIRST_EVENT_BOUND = 10.0
"""Seconds from a restarted process answering to its first event handled, that every restart
meets (the reliability document states it)."""

RESTART_BOUND = 90.0
"""Seconds from a restart to the first event handled, start-up included, that every restart
meets on this machine (two cores shared with other work: start-up alone took 10 to 40 s with a
load average of 10 to 20)."""


def consumed_topics(service: str) -> list[str]:
    """The canonical topics a service's consumer reads (empty: it consumes nothing)."""
    module = importlib.import_module(f"{service}.handlers")
    return list(module.handlers.topics)


CONSUMERS = tuple(s for s in SERVICES if consumed_topics(s))


@dataclass
class Recovery:
    service: str
    fault: str
    restarted_at: float
    waiting: dict[TopicPartition, tuple[int, int]]  # partition -> (committed, end) at restart
    up: float | None = None  # seconds until the process answered (0: it kept running)
    first_event: float | None = None
    drained: float | None = None
    interrupted: bool = False

    @property
    def backlog(self) -> int:
        return sum(end - committed for committed, end in self.waiting.values())

    @property
    def done(self) -> bool:
        return self.interrupted or self.drained is not None

    @property
    def after_start(self) -> float | None:
        """Seconds from the process answering to its first event handled."""
        if self.first_event is None or self.up is None:
            return None
        return max(0.0, self.first_event - self.up)


@dataclass
class RecoveryWatch:
    """Follows every restart of ``platform`` until the restarted service has drained."""

    platform: PlatformProcesses
    interval: float = 0.25
    recoveries: list[Recovery] = field(default_factory=list)
    _task: asyncio.Task[None] | None = None
    _admin: Any = None
    _offsets: Any = None

    async def __aenter__(self) -> RecoveryWatch:
        self._task = asyncio.create_task(self._follow())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._close()

    def group(self, service: str) -> str:
        return f"smart.{self.platform.env['SMART_DEPLOYMENT']}.{service}"

    async def restarted(self, service: str, fault: str, process: bool = True) -> None:
        """``service`` starts again now, after ``fault`` (call it just before or after the
        start: the service cannot commit anything within the few milliseconds between)."""
        if service not in CONSUMERS:
            return
        at = time.monotonic()
        for earlier in self.recoveries:
            if earlier.service == service and not earlier.done:
                earlier.interrupted = True
        for _ in range(20):
            try:
                waiting = await self._waiting(service)
                break
            except Exception:
                await self._close()  # the broker itself may be restarting
                await asyncio.sleep(0.5)
        else:
            return
        recovery = Recovery(service, fault, at, waiting, up=None if process else 0.0)
        if not waiting:
            recovery.drained = 0.0
        self.recoveries.append(recovery)

    async def all_restarted(self, fault: str) -> None:
        """Every consuming service lives through ``fault`` (Kafka or mongod restarted)."""
        for service in CONSUMERS:
            await self.restarted(service, fault, process=False)

    async def settled(self, timeout: float = 240.0) -> None:
        """Wait until every recovery followed so far has drained (or was interrupted)."""
        deadline = time.monotonic() + timeout
        while not all(r.done for r in self.recoveries):
            if time.monotonic() > deadline:
                pending = [f"{r.service} after {r.fault}" for r in self.recoveries if not r.done]
                raise AssertionError(f"backlog never drained: {pending}")
            await asyncio.sleep(self.interval)

    @classmethod
    async def around(cls, platform: PlatformProcesses,
                     run: Callable[[RecoveryWatch], Awaitable[None]]) -> RecoveryWatch:
        """Run ``run`` with every restart timed until drained; print the figures, even when
        ``run`` fails."""
        async with cls(platform) as watch:
            try:
                await run(watch)
                await watch.settled()
            finally:
                print(f"\n{watch.report()}")
        return watch

    # ------------------------------------------------------------------ reading Kafka

    async def _clients(self) -> tuple[Any, Any]:
        if self._admin is None:
            bootstrap = self.platform.env["KAFKA_BOOTSTRAP_SERVERS"]
            self._admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
            self._offsets = AIOKafkaConsumer(bootstrap_servers=bootstrap)
            await self._admin.start()
            await self._offsets.start()
        return self._admin, self._offsets

    async def _close(self) -> None:
        admin, offsets, self._admin, self._offsets = self._admin, self._offsets, None, None
        with contextlib.suppress(Exception):
            if offsets is not None:
                await offsets.stop()
        with contextlib.suppress(Exception):
            if admin is not None:
                await admin.close()

    async def _committed(self, service: str) -> dict[TopicPartition, int]:
        admin, _ = await self._clients()
        found = await admin.list_consumer_group_offsets(self.group(service))
        return {tp: meta.offset for tp, meta in found.items() if meta.offset >= 0}

    async def _waiting(self, service: str) -> dict[TopicPartition, tuple[int, int]]:
        admin, offsets = await self._clients()
        namespace = self.platform.env["SMART_TOPIC_NAMESPACE"]
        names = [f"{namespace}{topic}" for topic in consumed_topics(service)]
        partitions = [TopicPartition(topic["topic"], p["partition"])
                      for topic in await admin.describe_topics(names)
                      for p in topic["partitions"]]
        ends = await offsets.end_offsets(partitions)
        committed = await self._committed(service)
        return {tp: (committed.get(tp, 0), ends[tp]) for tp in partitions
                if ends[tp] > committed.get(tp, 0)}

    async def _follow(self) -> None:
        async with httpx.AsyncClient(timeout=1) as http:
            while True:
                await asyncio.sleep(self.interval)
                for recovery in [r for r in self.recoveries if not r.done]:
                    await self._look(recovery, http)

    async def _look(self, recovery: Recovery, http: httpx.AsyncClient) -> None:
        if recovery.up is None:
            with contextlib.suppress(httpx.HTTPError):
                url = self.platform.urls[recovery.service]
                if (await http.get(f"{url}/health/live")).status_code == 200:
                    recovery.up = time.monotonic() - recovery.restarted_at
        try:
            committed = await self._committed(recovery.service)
        except Exception:
            await self._close()
            return
        now = time.monotonic() - recovery.restarted_at
        if recovery.first_event is None and any(
                committed.get(tp, 0) > before for tp, (before, _) in recovery.waiting.items()):
            recovery.first_event = now
        if all(committed.get(tp, 0) >= end for tp, (_, end) in recovery.waiting.items()):
            recovery.first_event = recovery.first_event or now
            recovery.drained = now
            recovery.up = now if recovery.up is None else recovery.up

    # ------------------------------------------------------------------ the report

    def measured(self) -> list[Recovery]:
        return [r for r in self.recoveries if not r.interrupted and r.waiting]

    def report(self) -> str:
        """Per service and fault: restarts with work waiting, first event and drain times."""
        rows: dict[tuple[str, str], list[Recovery]] = defaultdict(list)
        for recovery in self.measured():
            rows[(recovery.service, recovery.fault)].append(recovery)
        lines = ["time to recover (s) from the restart: process answering, first event handled, "
                 "backlog drained; and first event once the process answered (p50 / max)",
                 f"{'service':<11} {'fault':<14} {'n':>3} {'waiting':>7} {'answering':>11} "
                 f"{'first event':>11} {'drained':>11} {'after start':>11}"]
        for (service, fault), found in sorted(rows.items()):
            columns = [[r.up for r in found], [r.first_event for r in found],
                       [r.drained for r in found], [r.after_start for r in found]]
            figures = " ".join(f"{_spread(values):>11}" for values in columns)
            lines.append(f"{service:<11} {fault:<14} {len(found):>3} "
                         f"{sum(r.backlog for r in found):>7} {figures}")
        interrupted = sum(r.interrupted for r in self.recoveries)
        idle = sum(1 for r in self.recoveries if not r.waiting)
        lines.append(f"({idle} restarts found no work waiting; {interrupted} were killed again "
                     "before they had drained)")
        return "\n".join(lines)

    def slower_than(self, after_start: float, after_restart: float) -> list[str]:
        """Recoveries whose first event came later than the bounds (or never)."""
        return [f"{r.service} after {r.fault}: first event {r.first_event}s after the restart, "
                f"{r.after_start}s after the process answered"
                for r in self.measured()
                if r.first_event is None or r.first_event > after_restart
                or r.after_start is None or r.after_start > after_start]


def _spread(values: list[float | None]) -> str:
    known = [v for v in values if v is not None]
    if not known:
        return "-"
    return f"{statistics.median(known):.1f}/{max(known):.1f}"
