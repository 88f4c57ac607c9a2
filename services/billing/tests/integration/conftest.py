"""A billing service on the genuine Kafka and MongoDB, fed events like the platform feeds it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from billing.app import create_service
from smart_shared.auth import mint_token
from smart_shared.events import Event, decode, encode, header_map
from smart_shared.events.catalogue import (
    BILLING_TOPIC,
    Activity,
    Address,
    Client,
    ContractSigned,
    WorkCompleted,
)
from smart_shared.ids import new_id
from smart_shared.money import Money
from smart_shared.service import Service
from smart_shared.settings import Settings
from smart_shared.testing import serving, unique_name


def isolated_settings() -> Settings:
    return Settings(
        SMART_MONGODB_DATABASE=unique_name("billing"), SMART_DEPLOYMENT=unique_name("t"),
        SMART_TOPIC_NAMESPACE=unique_name("t") + ".", SMART_CLOCK="shared",
        SMART_CLOCK_ID=unique_name("clock"), SMART_LOCAL_TRACES=False,
    )  # type: ignore[call-arg]


@dataclass
class Published:
    """Everything billing published, as it arrives on its topic."""

    events: list[tuple[dict[str, str], Event]] = field(default_factory=list)

    def of(self, kind: type[Event], invoice_id: str | None = None) -> list[Any]:
        return [e for _, e in self.events if isinstance(e, kind)
                and (invoice_id is None or getattr(e, "invoice_id", None) == invoice_id)]

    def headers_of(self, event: Event) -> dict[str, str]:
        return next(h for h, e in self.events if e is event)


@dataclass
class Billing:
    service: Service
    settings: Settings
    url: str
    producer: AIOKafkaProducer
    published: Published

    def token(self, role: str = "staff", branch: str = "BE", member_id: str | None = None) -> str:
        return mint_token(self.settings, role, branch, member_id=member_id)  # type: ignore[arg-type]

    def client(self, role: str = "staff", member_id: str | None = None) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, timeout=30, headers={
            "Authorization": f"Bearer {self.token(role, member_id=member_id)}"})

    async def send(self, event: Event, event_id: str | None = None) -> str:
        event_id = event_id or new_id()
        key, value, headers = encode(event, event_id, None)
        await self.producer.send_and_wait(self.settings.topic(event.topic), value, key=key,
                                          headers=headers)
        return event_id

    @property
    def db(self) -> Any:
        assert self.service.platform is not None
        return self.service.platform.db


async def _follow(settings: Settings, published: Published, ready: asyncio.Event) -> None:
    consumer = AIOKafkaConsumer(settings.topic(BILLING_TOPIC),
                                bootstrap_servers=settings.kafka_bootstrap_servers,
                                auto_offset_reset="earliest", group_id=None)
    await consumer.start()
    ready.set()
    try:
        async for record in consumer:
            _, event = decode(header_map(record.headers), record.value)
            published.events.append((header_map(record.headers), event))
    finally:
        await consumer.stop()


@contextlib.asynccontextmanager
async def running_billing(settings: Settings | None = None) -> AsyncIterator[Billing]:
    settings = settings or isolated_settings()
    service = create_service(settings)
    async with serving(service.app) as url:
        producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers)
        await producer.start()
        published = Published()
        ready = asyncio.Event()
        follower = asyncio.create_task(_follow(settings, published, ready))
        await ready.wait()
        try:
            yield Billing(service, settings, url, producer, published)
        finally:
            follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await follower
            await producer.stop()


@pytest.fixture(scope="module")
async def billing(infrastructure: Any) -> AsyncIterator[Billing]:
    async with running_billing() as running:
        yield running


def a_client(kind: str = "business", country: str = "BE",
             vat_number: str | None = "BE0417497106") -> Client:
    return Client(
        client_key=vat_number or f"consumer:{country}", name="Atelier Lumière SA",
        kind=kind, country=country, email="accounts@lumiere.example",  # type: ignore[arg-type]
        vat_number=vat_number,
        address=Address(street="Rue de la Loi 16", postal_code="1000", city="Bruxelles",
                        country=country),
    )


def contract_signed(contract_id: str, member_id: str = "member-1", branch: str = "BE",
                    amount: str = "1000.00", term: int = 30,
                    client: Client | None = None) -> ContractSigned:
    now = datetime.now(UTC)
    day = date.today() - timedelta(days=1)
    return ContractSigned(
        branch=branch, version=3, occurred_at=now, contract_id=contract_id, member_id=member_id,
        activity=Activity(name="musician", kind="artistic", joint_committee="304"),
        client=client or a_client(), description="Concert at the spring festival",
        work_days=[day], first_work_day=day, last_work_day=day,
        amount_excl_vat=Money(amount=Decimal(amount)), expenses=Money.zero(),
        payment_term_days=term, client_signed_at=now, signed_at=now,
    )


def work_completed(contract_id: str, member_id: str = "member-1",
                   branch: str = "BE") -> WorkCompleted:
    now = datetime.now(UTC)
    return WorkCompleted(branch=branch, version=5, occurred_at=now, contract_id=contract_id,
                         member_id=member_id, last_work_day=date.today() - timedelta(days=1),
                         completed_at=now)


async def invoice_of(billing: Billing, contract_id: str) -> dict[str, Any] | None:
    doc = await billing.db["invoices"].find_one({"contract_id": contract_id})
    return dict(doc) if doc else None
