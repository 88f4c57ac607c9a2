from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from smart_testing import Infrastructure, Mailpit

from tests.platform import MAILERS, PlatformProcesses, private_platform


@pytest.fixture(scope="module")
def platform(infrastructure: Infrastructure, mailpit: Mailpit,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlatformProcesses]:
    """Six service processes on a private deployment of the genuine Kafka and mongod, mailing
    to the tests' Mailpit through the mailers, as deployed."""
    home: Path = tmp_path_factory.mktemp("platform")
    running = private_platform(home, infrastructure.kafka_bootstrap_servers,
                               infrastructure.mongodb_uri, mailers=MAILERS, **mailpit.settings())
    yield running
    running.stop_all()
    asyncio.run(running.forget())
