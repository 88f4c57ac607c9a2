"""A service's shutdown always ends: a part that will not stop is named and left behind."""

import asyncio
import contextlib
import logging

import pytest
from smart_shared import service
from smart_shared.outbox import LeasedRelay
from smart_shared.service import _stop_within


async def test_a_part_that_ignores_cancellation_is_given_up_after_the_bound(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(service, "STOP_SECONDS", 0.2)
    released = asyncio.Event()

    async def stubborn() -> None:
        while not released.is_set():
            try:
                await asyncio.sleep(0.05)
            except asyncio.CancelledError:
                continue  # a loop that swallows its cancellation

    loop = asyncio.get_running_loop()
    started = loop.time()
    with caplog.at_level(logging.ERROR, logger="smart.service"):
        stopped = await _stop_within("the stubborn relay", stubborn)
    assert not stopped
    assert loop.time() - started < 2
    assert "the stubborn relay did not stop within 0.2 s" in caplog.text
    released.set()
    await asyncio.sleep(0.1)  # the stubborn loop sees the release and ends


async def test_a_part_that_stops_is_waited_for_and_a_failing_one_is_reported(
        caplog: pytest.LogCaptureFixture) -> None:
    stopped: list[str] = []

    async def quick() -> None:
        await asyncio.sleep(0.01)
        stopped.append("quick")

    async def broken() -> None:
        raise ConnectionError("broker gone")

    with caplog.at_level(logging.ERROR, logger="smart.service"):
        assert await _stop_within("the quick part", quick)
        assert not await _stop_within("the broken part", broken)
    assert stopped == ["quick"]
    assert "the broken part failed to stop: broker gone" in caplog.text


class _SwallowingRelay(LeasedRelay):
    """A relay whose round turns its cancellation into a normal end, as an SMTP client that
    reports a cancelled send as a lost connection does."""

    rounds = 0

    async def relay_once(self) -> int:
        self.rounds += 1
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(0.05)
        return 0


class _Lease:
    name = "swallow"

    async def acquire(self) -> bool:
        return True

    async def release(self) -> None:
        return None


async def test_a_relay_whose_round_swallows_its_cancellation_still_stops() -> None:
    relay = _SwallowingRelay({"leases": None}, "toy", "swallow",  # type: ignore[arg-type]
                             idle_seconds=0.01)
    relay._lease = _Lease()  # type: ignore[assignment]  # one replica: it always holds it
    await relay.start()
    await asyncio.sleep(0.2)
    stopping = asyncio.ensure_future(relay.stop())
    done, _ = await asyncio.wait({stopping}, timeout=2)
    assert done, "the relay did not stop"
    rounds = relay.rounds
    await asyncio.sleep(0.2)
    assert relay.rounds == rounds, "no round after the stop"
