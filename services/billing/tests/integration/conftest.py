"""A billing service on the genuine Kafka and MongoDB, fed events like the platform feeds it."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from billing.app import create_service
from smart_shared.auth import mint_token
from smart_shared.clock import SystemClock
from smart_shared.events import Event
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
from smart_testing import EventWire, eventually, isolated_settings, serving

# the bank statement samples of the unit tests, importable whatever pytest collects first
sys.path.insert(0, str(Path(__file__).parents[1] / "unit"))


def today() -> date:
    """The branches' day, as billing dates its invoices (Brussels is a day ahead of UTC late
    in the evening)."""
    return SystemClock().today()


@dataclass
class Billing:
    service: Service
    settings: Settings
    url: str
    wire: EventWire

    def token(self, role: str = "staff", branch: str = "BE", member_id: str | None = None) -> str:
        return mint_token(self.settings, role, branch, member_id=member_id)  # type: ignore[arg-type]

    def client(self, role: str = "staff", member_id: str | None = None) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, timeout=30, headers={
            "Authorization": f"Bearer {self.token(role, member_id=member_id)}"})

    async def send(self, event: Event, event_id: str | None = None) -> str:
        return (await self.wire.send(event, event_id=event_id))[0]

    def of(self, kind: type[Event], invoice_id: str | None = None) -> list[Any]:
        """What billing published of ``kind`` (about one invoice when ``invoice_id`` is given)."""
        return [e for e in self.wire.events(kind)
                if invoice_id is None or getattr(e, "invoice_id", None) == invoice_id]

    async def wait_for(self, kind: type[Event], invoice_id: str, count: int = 1) -> list[Any]:
        """Wait until billing published ``count`` events of ``kind`` about the invoice."""
        return await self.wire.wait_for(
            kind, count, where=lambda e: getattr(e, "invoice_id", None) == invoice_id)

    def headers_of(self, event: Event) -> dict[str, str]:
        return next(h for h, e in self.wire.published if e is event)

    @property
    def db(self) -> Any:
        assert self.service.platform is not None
        return self.service.platform.db


@contextlib.asynccontextmanager
async def running_billing(settings: Settings | None = None) -> AsyncIterator[Billing]:
    settings = settings or isolated_settings("billing")
    service = create_service(settings)
    async with serving(service.app) as url, EventWire(settings, BILLING_TOPIC) as wire:
        yield Billing(service, settings, url, wire)


@pytest.fixture(scope="module")
async def billing(infrastructure: Any) -> AsyncIterator[Billing]:
    """Each test module its own deployment: moving its clock touches no other module."""
    async with running_billing() as running:
        yield running


def a_client(kind: str = "business", country: str = "BE",
             vat_number: str | None = "BE0417497106") -> Client:
    return Client(
        # a client of its own each time: one test's overpayment is not the next test's prepaid
        client_key=f"{vat_number or f'consumer:{country}'}:{new_id()}", name="Atelier Lumière SA",
        kind=kind, country=country, email="accounts@lumiere.example",  # type: ignore[arg-type]
        vat_number=vat_number,
        address=Address(street="Rue de la Loi 16", postal_code="1000", city="Bruxelles",
                        country=country),
    )


def contract_signed(contract_id: str, member_id: str = "member-1", branch: str = "BE",
                    amount: str = "1000.00", term: int = 30,
                    client: Client | None = None, work_nature: str = "other") -> ContractSigned:
    now = datetime.now(UTC)
    day = today() - timedelta(days=1)
    return ContractSigned(
        branch=branch, version=3, occurred_at=now, contract_id=contract_id, member_id=member_id,
        activity=Activity(name="musician", kind="artistic", joint_committee="304"),
        client=client or a_client(), description="Concert at the spring festival",
        work_days=[day], first_work_day=day, last_work_day=day,
        amount_excl_vat=Money(amount=Decimal(amount)), expenses=Money.zero(),
        payment_term_days=term, client_signed_at=now, signed_at=now,
        work_nature=work_nature,  # type: ignore[arg-type]
    )


def work_completed(contract_id: str, member_id: str = "member-1",
                   branch: str = "BE") -> WorkCompleted:
    now = datetime.now(UTC)
    return WorkCompleted(branch=branch, version=5, occurred_at=now, contract_id=contract_id,
                         member_id=member_id, last_work_day=today() - timedelta(days=1),
                         completed_at=now)


async def invoice_of(billing: Billing, contract_id: str) -> dict[str, Any] | None:
    doc = await billing.db["invoices"].find_one({"contract_id": contract_id})
    return dict(doc) if doc else None


async def an_invoice(billing: Billing, amount: str = "1000.00",
                     client: Client | None = None) -> dict[str, Any]:
    """A BE contract signed and completed, and the invoice billing issued for it."""
    contract_id = new_id()
    await billing.send(contract_signed(contract_id, amount=amount, client=client))
    await billing.send(work_completed(contract_id))
    return await eventually(lambda: invoice_of(billing, contract_id))  # type: ignore[no-any-return]
