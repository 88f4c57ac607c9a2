"""The platform Clock: every time-driven rule reads it, never ``datetime.now()``.

``SystemClock`` is real time. ``SharedClock`` is real time plus an offset stored in MongoDB
(database ``smart_platform``, document ``clock``) so that all six processes agree on the time and a
demo, a test or a benchmark can move the whole platform months ahead in seconds. ``FixedClock`` is
for unit tests.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

PLATFORM_TZ = ZoneInfo("Europe/Brussels")
CLOCK_DATABASE = "smart_platform"
CLOCK_DOCUMENT = "clock"


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""
        ...

    def today(self) -> date:
        """The current calendar day in the branches' time zone."""
        ...

    async def refresh(self) -> None:
        """Catch up with the shared time (no-op for local clocks)."""
        ...


class _LocalDay:
    def now(self) -> datetime:  # pragma: no cover - protocol default
        raise NotImplementedError

    def today(self) -> date:
        return self.now().astimezone(PLATFORM_TZ).date()

    async def refresh(self) -> None:
        return None


class SystemClock(_LocalDay):
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock(_LocalDay):
    """A clock that only moves when told to."""

    def __init__(self, at: datetime) -> None:
        self._at = at if at.tzinfo else at.replace(tzinfo=UTC)

    def now(self) -> datetime:
        return self._at

    def advance(self, delta: timedelta) -> None:
        self._at += delta

    def set(self, at: datetime) -> None:
        self._at = at


class SharedClock(_LocalDay):
    """Real time shifted by an offset that every process reads from MongoDB."""

    def __init__(self, client: Any, clock_id: str = CLOCK_DOCUMENT,
                 poll_seconds: float = 0.5) -> None:
        self._collection = client[CLOCK_DATABASE][CLOCK_DOCUMENT]
        self._id = clock_id
        self._offset = timedelta(0)
        self._poll_seconds = poll_seconds
        self._task: asyncio.Task[None] | None = None

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    async def refresh(self) -> None:
        doc = await self._collection.find_one({"_id": self._id})
        self._offset = timedelta(seconds=float(doc["offset_seconds"])) if doc else timedelta(0)

    async def advance(self, delta: timedelta) -> datetime:
        """Move the platform's time forward for every process at once."""
        await self._collection.update_one(
            {"_id": self._id},
            {"$inc": {"offset_seconds": delta.total_seconds()}},
            upsert=True,
        )
        await self.refresh()
        return self.now()

    async def reset(self) -> None:
        await self._collection.delete_one({"_id": self._id})
        await self.refresh()

    async def start(self) -> None:
        await self.refresh()
        self._task = asyncio.create_task(self._poll(), name="shared-clock")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self._poll_seconds)
            with contextlib.suppress(Exception):
                await self.refresh()
