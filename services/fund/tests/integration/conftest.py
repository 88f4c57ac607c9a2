"""A fund service on its own database and topics, fed and read through the genuine Kafka."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest_asyncio
from fund.app import create_service
from smart_shared.auth import mint_token
from smart_shared.events import (
    FUND_TOPIC,
    LOANS_TOPIC,
    Activity,
    Address,
    Client,
    ContractSigned,
    Event,
    SalaryBreakdown,
    SalaryDue,
)
from smart_shared.money import Money
from smart_shared.service import Service
from smart_shared.settings import Settings
from smart_testing import EventWire, Infrastructure, Mailpit, isolated_settings, serving

NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)


@dataclass
class Fund:
    """The running service, an HTTP client, a way to send events and what the fund published."""

    service: Service
    settings: Settings
    http: httpx.AsyncClient
    wire: EventWire

    def token(self, role: str = "staff", branch: str = "BE",
              member_id: str | None = None) -> dict[str, str]:
        return {"Authorization": "Bearer " + mint_token(self.settings, role, branch, member_id)}  # type: ignore[arg-type]

    async def send(self, event: Event, event_id: str | None = None) -> str:
        return (await self.wire.send(event, event_id=event_id))[0]

    def of(self, kind: type[Event], contract_id: str) -> list[Any]:
        return [e for e in self.wire.events(kind)
                if getattr(e, "contract_id", None) == contract_id]

    async def wait_for(self, kind: type[Event], contract_id: str, count: int = 1) -> list[Any]:
        """Wait until the fund published ``count`` events of ``kind`` about the contract."""
        return await self.wire.wait_for(
            kind, count, where=lambda e: getattr(e, "contract_id", None) == contract_id)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def fund(infrastructure: Infrastructure, mailpit: Mailpit) -> AsyncIterator[Fund]:
    settings = isolated_settings("fund", SMART_BRANCHES="BE,FR", **mailpit.settings())
    service = create_service(settings, initial_capital={"BE": Decimal("100000.00")})
    async with (
        serving(service.app) as url,
        EventWire(settings, FUND_TOPIC, LOANS_TOPIC) as wire,
        httpx.AsyncClient(base_url=url, timeout=20) as http,
    ):
        yield Fund(service, settings, http, wire)


def contract_signed(contract_id: str, member_id: str, client_key: str, amount: str,
                    branch: str = "BE", country: str = "BE",
                    client_signed: bool = True) -> ContractSigned:
    first = date(2026, 3, 16)
    return ContractSigned(
        branch=branch, version=3, occurred_at=NOW, contract_id=contract_id, member_id=member_id,
        activity=Activity(name="musician", kind="artistic", joint_committee="304"),
        client=Client(client_key=client_key, name="Théâtre Royal", kind="business",
                      country=country, email="booking@example.org",
                      address=Address(street="Rue 1", postal_code="1000", city="Bruxelles",
                                       country=country),
                      vat_number=None),
        description="Concert", work_days=[first], first_work_day=first, last_work_day=first,
        amount_excl_vat=Money(amount=amount), expenses=Money(amount="0.00"),
        payment_term_days=30,
        client_signed_at=NOW - (timedelta(hours=1) if client_signed else -timedelta(hours=1)),
        signed_at=NOW,
    )


def salary_due(contract_id: str, member_id: str, salary_id: str, amount: str,
               fee: str) -> SalaryDue:
    def m(value: str) -> Money:
        return Money(amount=value)

    return SalaryDue(
        branch="BE", version=1, occurred_at=NOW, salary_id=salary_id, contract_id=contract_id,
        member_id=member_id, guaranteed=True, pay_date=date(2026, 3, 25),
        breakdown=SalaryBreakdown(
            rule_pack="BE-2026", amount_excl_vat=m(amount), fee=m(fee), expenses=m("0.00"),
            budget=m("935.00"), gross=m("748.00"), employer_contributions=m("187.00"),
            employee_contributions=m("105.58"), taxable=m("642.42"), withholding_tax=m("71.37"),
            net=m("571.05"), paid=m("571.05")),
    )
