from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from members.app import create_service
from smart_shared.auth import Role, mint_token
from smart_shared.events import Event, MemberRegistered
from smart_shared.service import Service
from smart_shared.settings import Settings
from smart_testing import EventWire, isolated_settings, serving

sys.path.insert(0, str(Path(__file__).parent))


@dataclass
class Running:
    url: str
    service: Service
    settings: Settings
    wire: EventWire

    def token(self, role: Role, branch: str = "BE", member_id: str | None = None) -> dict[str, str]:
        return {"Authorization": "Bearer " + mint_token(self.settings, role, branch, member_id)}

    def http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, timeout=10)

    @property
    def db(self) -> Any:
        assert self.service.platform is not None
        return self.service.platform.db

    def headers_of(self, member_id: str, event_type: type[Event]) -> list[dict[str, str]]:
        """The raw CloudEvents headers of the member's events of ``event_type``."""
        return [headers for headers, event in self.wire.published
                if event.aggregate_id == member_id and isinstance(event, event_type)]

    async def wait_for(self, member_id: str, event_type: type[Event] = Event,
                       count: int = 1) -> list[Any]:
        """Wait until ``count`` events of ``event_type`` about the member are on the topic."""
        return await self.wire.wait_for(event_type, count,
                                        where=lambda e: e.aggregate_id == member_id)


@pytest.fixture(scope="module")
async def members(infrastructure: Any) -> AsyncIterator[Running]:
    """The members service on real Kafka and MongoDB, with a reader of its topic."""
    async with running(isolated_settings("members", SMART_BRANCHES="BE,FR")) as service:
        yield service


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[Running]:
    """The members service with ``settings``, served, with a reader of its topic; its database
    is dropped afterwards."""
    service = create_service(settings)
    async with serving(service.app) as url, EventWire(settings, MemberRegistered.topic) as wire:
        try:
            yield Running(url, service, settings, wire)
        finally:
            assert service.platform is not None
            await service.platform.database.client.drop_database(settings.database_name)
