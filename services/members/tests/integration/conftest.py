from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from members.app import create_service
from smart_shared.auth import Role, mint_token
from smart_shared.events import Event, MemberRegistered, decode, header_map
from smart_shared.service import Service
from smart_shared.settings import Settings
from smart_shared.testing import serving, unique_name

sys.path.insert(0, str(Path(__file__).parent))


@dataclass
class Published:
    """Everything the service put on its topic, decoded, with the raw CloudEvents headers."""

    records: list[tuple[dict[str, str], Event]] = field(default_factory=list)

    def of(self, member_id: str) -> list[Event]:
        return [event for _, event in self.records if event.aggregate_id == member_id]

    def headers_of(self, member_id: str, event_type: type[Event]) -> list[dict[str, str]]:
        return [headers for headers, event in self.records
                if event.aggregate_id == member_id and isinstance(event, event_type)]


@dataclass
class Running:
    url: str
    service: Service
    settings: Settings
    published: Published

    def token(self, role: Role, branch: str = "BE", member_id: str | None = None) -> dict[str, str]:
        return {"Authorization": "Bearer " + mint_token(self.settings, role, branch, member_id)}

    def http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, timeout=10)

    @property
    def db(self) -> Any:
        assert self.service.platform is not None
        return self.service.platform.db


async def _collect(settings: Settings, published: Published) -> None:
    consumer = AIOKafkaConsumer(settings.topic(MemberRegistered.topic),
                                bootstrap_servers=settings.kafka_bootstrap_servers,
                                auto_offset_reset="earliest", enable_auto_commit=False)
    await consumer.start()
    try:
        async for record in consumer:
            headers = header_map(record.headers)
            _, event = decode(headers, record.value)
            published.records.append((headers, event))
    finally:
        await consumer.stop()


@pytest.fixture(scope="module")
async def members(infrastructure: Any) -> AsyncIterator[Running]:
    """The members service on real Kafka and MongoDB, with a reader of its topic."""
    settings = Settings(  # type: ignore[call-arg]
        SMART_SERVICE="members", SMART_MONGODB_DATABASE=unique_name("members"),
        SMART_DEPLOYMENT=unique_name("t"), SMART_TOPIC_NAMESPACE=unique_name("t") + ".",
        SMART_CLOCK="shared", SMART_CLOCK_ID=unique_name("clock"), SMART_BRANCHES="BE,FR",
    )
    service = create_service(settings)
    published = Published()
    async with serving(service.app) as url:
        reader = asyncio.create_task(_collect(settings, published))
        try:
            yield Running(url, service, settings, published)
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
            assert service.platform is not None
            await service.platform.database.client.drop_database(settings.database_name)
