"""A private platform for the reliability suites: six service processes on their own databases,
topics, consumer groups and clock, on the genuine Kafka and mongod."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from smart_testing import Infrastructure

from tests.platform import PlatformProcesses, private_platform
from tests.reliability.saga import Saga, Tally


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "infrastructure_crash: kills a private Kafka broker and mongod (run alone with "
        "-m infrastructure_crash)",
    )


@pytest.fixture(scope="session")
def platform(infrastructure: Infrastructure, tmp_path_factory: pytest.TempPathFactory,
             ) -> Iterator[PlatformProcesses]:
    """One private platform shared by the reliability suites (each checks its own entities)."""
    home: Path = tmp_path_factory.mktemp("reliability")
    running = private_platform(home, infrastructure.kafka_bootstrap_servers,
                               infrastructure.mongodb_uri)
    yield running
    asyncio.run(bank_counters(running))
    running.stop_all()
    asyncio.run(running.forget())


async def bank_counters(platform: PlatformProcesses) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        await TALLY.bank_all(client, platform)


TALLY = Tally()


@pytest.fixture(scope="session")
def tally() -> Tally:
    """Faults injected and events counted across the suites (printed at the end)."""
    return TALLY


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not (TALLY.faults or TALLY.processed):
        return
    write = terminalreporter.write_line
    terminalreporter.section("reliability counts")
    for what, count in sorted(TALLY.faults.items()):
        write(f"{count:>8}  {what}")
    write(f"{int(TALLY.processed):>8}  events processed (smart_events_processed_total, summed "
          "over every process, killed ones included)")
    write(f"{int(TALLY.duplicates):>8}  duplicates suppressed by the inbox "
          "(smart_events_skipped_total{reason=\"duplicate\"})")


@pytest_asyncio.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as client:
        yield client


@pytest_asyncio.fixture
async def saga(platform: PlatformProcesses, http: httpx.AsyncClient) -> Saga:
    return Saga(platform, http)
