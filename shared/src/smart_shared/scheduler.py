"""Time-driven transitions (declaration deadlines, due dates, dunning, pay dates).

A job runs every few seconds and reads the platform Clock. With several replicas, a lease lets one
run each job at a time; the job's own transitions are conditional updates in a transaction
(``{"status": "declared"}`` → ``"completed"``), so a transition happens once even if two ran.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from opentelemetry import trace
from pymongo.asynchronous.database import AsyncDatabase

from smart_shared.clock import Clock
from smart_shared.metrics import LEASE_HELD
from smart_shared.mongo import Document, Lease

log = logging.getLogger("smart.scheduler")
tracer = trace.get_tracer("smart.scheduler")

Job = Callable[[], Awaitable[int]]
"""A job does what is due by the clock and returns how many transitions it made."""


@dataclass(frozen=True)
class ScheduledJob:
    name: str
    run: Job


class Scheduler:
    def __init__(
        self, db: AsyncDatabase[Document], clock: Clock, jobs: list[ScheduledJob],
        interval_seconds: float = 1.0, replica: str = "", service: str = "",
    ) -> None:
        self._db = db
        self._clock = clock
        self._jobs = jobs
        self._interval = interval_seconds
        self._leases = {
            job.name: Lease(db, f"job:{job.name}", timedelta(seconds=30), replica=replica)
            for job in jobs
        }
        self._service = service
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    async def start(self) -> None:
        if self._jobs:
            self._task = asyncio.create_task(self._loop(), name="scheduler")

    async def stop(self) -> None:
        if self._task:
            # a job that swallows its cancellation still ends the loop after its tick
            self._stopping = True
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            for lease in self._leases.values():
                with contextlib.suppress(Exception):
                    await lease.release()

    async def tick(self) -> int:
        """Run every job once (if this replica holds its lease); returns the transitions made."""
        await self._clock.refresh()
        done = 0
        for job in self._jobs:
            lease = self._leases[job.name]
            held = await lease.acquire()
            LEASE_HELD.labels(self._service, lease.name).set(1 if held else 0)
            if not held:
                continue
            try:
                done += await job.run()
            except Exception:
                log.exception("scheduled job %s failed; it runs again next tick", job.name)
        return done

    async def _loop(self) -> None:
        while not self._stopping:
            try:
                made = await self.tick()
            except Exception:
                log.exception("scheduler tick failed")
                made = 0
            if not made:
                await asyncio.sleep(self._interval)
