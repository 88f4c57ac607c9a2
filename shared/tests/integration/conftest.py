from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from smart_shared.settings import Settings
from smart_testing import Infrastructure, forget_deployment, unique_name

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture
def toy_settings(infrastructure: Infrastructure) -> Iterator[Settings]:
    """Settings of a private deployment: own database, consumer group and topic namespace
    (dropped and deleted afterwards)."""
    settings = Settings(  # type: ignore[call-arg]
        SMART_SERVICE="toy",
        SMART_MONGODB_DATABASE=unique_name("toy"),
        SMART_DEPLOYMENT=unique_name("d"),
        SMART_TOPIC_NAMESPACE=unique_name("t") + ".",
        SMART_CLOCK="system",
        SMART_BRANCHES="BE",
        SMART_LOCAL_TRACES="false",
        SMART_CONSUMER_MAX_RETRIES="1",
        KAFKA_BOOTSTRAP_SERVERS=infrastructure.kafka_bootstrap_servers,
        MONGODB_URI=infrastructure.mongodb_uri,
    )
    yield settings
    asyncio.run(forget_deployment(settings.mongodb_uri, settings.kafka_bootstrap_servers,
                                  [settings.database_name], settings.topic_namespace))
