"""The collection service on the genuine Kafka and MongoDB, fed billing's events."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from collection.app import create_service
from collection.handlers import handlers
from smart_shared.auth import Role, mint_token
from smart_shared.clock import SharedClock
from smart_shared.events import Event
from smart_shared.events.catalogue import (
    COLLECTION_TOPIC,
    Address,
    Client,
    ClientKind,
    DebtOverdue,
    InvoicePaid,
    Language,
    PaymentReceived,
)
from smart_shared.ids import new_id
from smart_shared.money import Money
from smart_shared.mongo import connect
from smart_shared.service import Service
from smart_shared.settings import Settings
from smart_testing import (
    CountedConsumer,
    EventWire,
    Mailpit,
    counted_consumer,
    eventually,
    isolated_settings,
    serving,
)


@dataclass
class Invoice:
    """An invoice of billing's, as far as these tests need it."""

    invoice_id: str
    contract_id: str
    member_id: str
    due_date: date
    total: Decimal
    version: int = 1


@dataclass
class Collection:
    url: str
    service: Service
    settings: Settings
    wire: EventWire

    @property
    def db(self) -> Any:
        assert self.service.platform is not None
        return self.service.platform.db

    @property
    def clock(self) -> SharedClock:
        assert self.service.platform is not None
        clock = self.service.platform.clock
        assert isinstance(clock, SharedClock)
        return clock

    def today(self) -> date:
        return self.clock.today()

    def headers(self, role: Role = "staff", branch: str = "BE",
                member_id: str | None = None) -> dict[str, str]:
        return {"Authorization": "Bearer " + mint_token(self.settings, role, branch, member_id)}

    def http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, timeout=10)

    async def send(self, event: Event, event_id: str | None = None) -> str:
        """Publish ``event`` as its producing service would."""
        return (await self.wire.send(event, event_id=event_id))[0]

    def overdue(self, kind: ClientKind = "business", language: Language = "fr",
                total: str = "1000.00", days_late: int = 1,
                email: str = "compta@example.be") -> tuple[Invoice, DebtOverdue]:
        invoice = Invoice(new_id(), new_id(), new_id(),
                          self.today() - timedelta(days=days_late), Decimal(total), version=2)
        client = Client(client_key=f"BE0{new_id()[-9:]}", name="Atelier Lumière", kind=kind,
                        country="BE", email=email,
                        address=Address(street="Rue Haute 1", postal_code="1000",
                                        city="Bruxelles", country="BE"),
                        language=language)
        return invoice, DebtOverdue(
            branch="BE", version=invoice.version, occurred_at=self.clock.now(),
            invoice_id=invoice.invoice_id, contract_id=invoice.contract_id,
            member_id=invoice.member_id, number=f"BE-2026-{new_id()[-6:]}", client=client,
            issue_date=invoice.due_date - timedelta(days=30), due_date=invoice.due_date,
            total=Money(amount=invoice.total), outstanding=Money(amount=invoice.total),
        )

    def payment(self, invoice: Invoice, amount: str, balance: str, credit: str = "0.00",
                version: int | None = None) -> PaymentReceived:
        invoice.version = version or invoice.version + 1
        return PaymentReceived(
            branch="BE", version=invoice.version, occurred_at=self.clock.now(),
            invoice_id=invoice.invoice_id, contract_id=invoice.contract_id,
            member_id=invoice.member_id, payment_id=new_id(), amount=Money(amount=amount),
            received_on=self.today(), balance_due=Money(amount=balance),
            credit=Money(amount=credit),
        )

    def paid(self, invoice: Invoice) -> InvoicePaid:
        invoice.version += 1
        return InvoicePaid(
            branch="BE", version=invoice.version, occurred_at=self.clock.now(),
            invoice_id=invoice.invoice_id, contract_id=invoice.contract_id,
            member_id=invoice.member_id, amount_excl_vat=Money(amount=invoice.total / 2),
            total=Money(amount=invoice.total), paid_on=self.today(),
        )

    def counted_consumer(self) -> AbstractAsyncContextManager[CountedConsumer]:
        """The service's batch consumer on a client that counts the MongoDB commands it sends."""
        assert self.service.platform is not None
        return counted_consumer(self.settings.mongodb_uri, "collection",
                                self.service.platform.database, handlers, ["BE"])

    async def advance_to(self, day: date) -> None:
        """Move the platform clock to ``day`` (never back) and run the due jobs at once."""
        if day > self.today():
            await self.clock.advance(day - self.today())
        assert self.service.platform is not None and self.service.platform.scheduler is not None
        await self.service.platform.scheduler.tick()

    async def case_of(self, invoice_id: str) -> dict[str, Any] | None:
        return await self.db["cases"].find_one({"invoice_id": invoice_id})  # type: ignore[no-any-return]

    async def opened(self, invoice_id: str) -> dict[str, Any]:
        async def found() -> dict[str, Any] | None:
            return await self.case_of(invoice_id)
        return await eventually(found)  # type: ignore[no-any-return]

    def events_of(self, invoice_id: str, kind: type[Event] | None = None) -> list[Event]:
        return [e for e in self.wire.events(kind) if e.aggregate_id == invoice_id]

    async def wait_for(self, invoice_id: str, kind: type[Event], count: int = 1) -> list[Any]:
        """Wait until collection published ``count`` events of ``kind`` about the invoice."""
        return await self.wire.wait_for(kind, count,
                                        where=lambda e: e.aggregate_id == invoice_id)

    def trace_ids_of(self, invoice_id: str, kind: type[Event]) -> set[str]:
        """The trace ids in the ``traceparent`` headers of the invoice's events of ``kind``."""
        return {h.get("traceparent", "").split("-")[1] if h.get("traceparent") else ""
                for h, e in self.wire.published if e.aggregate_id == invoice_id
                and isinstance(e, kind)}


@pytest.fixture(scope="module")
async def collection(infrastructure: Any, mailpit: Mailpit) -> AsyncIterator[Collection]:
    """The collection service with its own database, topics and platform clock, mailing its
    letters to a private Mailpit."""
    settings = isolated_settings("collection", SMART_BRANCHES="BE", **mailpit.settings())
    service = create_service(settings)
    try:
        async with serving(service.app) as url, EventWire(settings, COLLECTION_TOPIC) as wire:
            yield Collection(url, service, settings, wire)
    finally:
        client = connect(settings.mongodb_uri)
        await SharedClock(client, settings.clock_id).reset()
        await client.drop_database(settings.database_name)
        await client.close()
