"""A payroll service on the genuine Kafka and MongoDB, fed events as the other services would."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import httpx
from payroll.app import create_service
from payroll.handlers import handlers
from smart_shared.auth import Role, mint_token
from smart_shared.events import (
    PAYROLL_TOPIC,
    Activity,
    Address,
    Client,
    ContractCancelled,
    ContractSigned,
    Event,
    GuaranteeDeclined,
    GuaranteeGranted,
    InvoiceIssued,
    InvoicePaid,
    MemberActivated,
    MemberErased,
    MemberUpdated,
    PayoutDetails,
    SalaryDue,
    SalaryPaid,
    WorkCompleted,
)
from smart_shared.money import Money
from smart_shared.service import Service
from smart_shared.settings import Settings
from smart_testing import (
    CountedConsumer,
    EventWire,
    counted_consumer,
    isolated_settings,
    serving,
)

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
ARTIST = Activity(name="musician", kind="artistic", joint_committee="304")


@dataclass
class Payroll:
    """The running service, a producer standing in for the other services, and what it published."""

    service: Service
    settings: Settings
    url: str
    wire: EventWire

    async def send(self, *events: Event) -> None:
        await self.wire.send(*events)

    def client(self, role: Role, branch: str = "BE", member_id: str | None = None
               ) -> httpx.AsyncClient:
        token = mint_token(self.settings, role, branch, member_id=member_id)
        return httpx.AsyncClient(base_url=self.url, timeout=20,
                                 headers={"Authorization": f"Bearer {token}"})

    def salaries_due(self, contract_id: str) -> list[Any]:
        return [e for e in self.wire.events(SalaryDue) if e.contract_id == contract_id]

    def salaries_paid(self, salary_id: str) -> list[Any]:
        return [e for e in self.wire.events(SalaryPaid) if e.salary_id == salary_id]

    async def salary_due(self, contract_id: str) -> list[Any]:
        """Wait until a SalaryDue of the contract is published."""
        return await self.wire.wait_for(SalaryDue, where=lambda e: e.contract_id == contract_id)

    async def member_projected(self, member_id: str, version: int) -> None:
        """Wait until the members projection holds ``version`` of the member."""
        members = self.service.platform.db["members"]  # type: ignore[union-attr]
        for _ in range(200):
            if await members.find_one({"_id": member_id, "version": version}):
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"member {member_id} version {version} never reached payroll")

    async def metric(self, sample: str) -> float:
        """The value of one sample of ``/metrics`` (0 when absent), e.g. ``name{label="x"}``."""
        async with httpx.AsyncClient(base_url=self.url, timeout=20) as http:
            text = (await http.get("/metrics")).text
        for line in text.splitlines():
            if line.startswith(sample + " "):
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    async def salary_paid(self, salary_id: str) -> list[Any]:
        """Wait until a SalaryPaid of the salary is published."""
        return await self.wire.wait_for(SalaryPaid, where=lambda e: e.salary_id == salary_id)

    def counted_consumer(self) -> AbstractAsyncContextManager[CountedConsumer]:
        """The service's batch consumer on a client that counts the MongoDB commands it sends."""
        assert self.service.platform is not None
        return counted_consumer(self.settings.mongodb_uri, "payroll",
                                self.service.platform.database, handlers, ["BE", "FR"])


@contextlib.asynccontextmanager
async def running_payroll(settings: Settings | None = None,
                          automatic_runs: bool = False) -> AsyncIterator[Payroll]:
    """Payroll on its own deployment; staff open every run by hand unless ``automatic_runs``."""
    settings = settings or isolated_settings("payroll")
    settings = settings.model_copy(update={"automatic_payment_runs": automatic_runs})
    service = create_service(settings)
    async with serving(service.app) as url, EventWire(settings, PAYROLL_TOPIC) as wire:
        try:
            yield Payroll(service, settings, url, wire)
        finally:
            await service.platform.db.client.drop_database(settings.database_name)  # type: ignore[union-attr]


# --------------------------------------------------------------------- events of other services


def member_activated(member_id: str, iban: str, branch: str = "BE", version: int = 1,
                     holder: str = "Zoë Dupont") -> MemberActivated:
    return MemberActivated(branch=branch, version=version, occurred_at=NOW, member_id=member_id,
                           activities=[ARTIST], payout=PayoutDetails(iban=iban, holder_name=holder))


def member_updated(member_id: str, iban: str, version: int, branch: str = "BE",
                   holder: str = "Zoë Dupont") -> MemberUpdated:
    return MemberUpdated(branch=branch, version=version, occurred_at=NOW, member_id=member_id,
                         status="active", activities=[ARTIST],
                         payout=PayoutDetails(iban=iban, holder_name=holder),
                         changed=["payout"])


def member_erased(member_id: str, version: int, branch: str = "BE") -> MemberErased:
    return MemberErased(branch=branch, version=version, occurred_at=NOW, member_id=member_id)


def contract_signed(contract_id: str, member_id: str, last_work_day: date, amount: str = "1000.00",
                    expenses: str = "0.00", branch: str = "BE",
                    activity: Activity = ARTIST) -> ContractSigned:
    client = Client(client_key="BE0123456749", name="Théâtre du Parc", kind="business",
                    country="BE", email="billing@example.org", vat_number="BE0123456749",
                    address=Address(street="Rue de la Loi 1", postal_code="1000",
                                    city="Bruxelles", country="BE"))
    return ContractSigned(
        branch=branch, version=3, occurred_at=NOW, contract_id=contract_id, member_id=member_id,
        activity=activity, client=client, description="Concert", work_days=[last_work_day],
        first_work_day=last_work_day, last_work_day=last_work_day,
        amount_excl_vat=Money.of(amount), expenses=Money.of(expenses), payment_term_days=30,
        client_signed_at=NOW, signed_at=NOW,
    )


def work_completed(contract_id: str, member_id: str, last_work_day: date,
                   branch: str = "BE") -> WorkCompleted:
    return WorkCompleted(branch=branch, version=5, occurred_at=NOW, contract_id=contract_id,
                         member_id=member_id, last_work_day=last_work_day, completed_at=NOW)


def guaranteed_work(contract_id: str, member_id: str, last_day: date, amount: str = "1000.00",
                    branch: str = "BE") -> tuple[Event, ...]:
    """A guaranteed contract's facts as the services publish them: signed, granted, completed."""
    return (contract_signed(contract_id, member_id, last_day, amount=amount, branch=branch),
            guarantee_granted(contract_id, member_id, branch=branch),
            work_completed(contract_id, member_id, last_day, branch=branch))


def contract_cancelled(contract_id: str, member_id: str) -> ContractCancelled:
    return ContractCancelled(branch="BE", version=4, occurred_at=NOW, contract_id=contract_id,
                             member_id=member_id, reason="client withdrew", cancelled_at=NOW)


def guarantee_granted(contract_id: str, member_id: str, branch: str = "BE") -> GuaranteeGranted:
    return GuaranteeGranted(branch=branch, version=1, occurred_at=NOW, contract_id=contract_id,
                            member_id=member_id, client_key="BE0123456749",
                            amount=Money.of("935.00"))


def guarantee_declined(contract_id: str, member_id: str) -> GuaranteeDeclined:
    return GuaranteeDeclined(branch="BE", version=1, occurred_at=NOW, contract_id=contract_id,
                             member_id=member_id, reason="client_cap_exceeded",
                             detail="client exposure above EUR 25,000")


def invoice_issued(invoice_id: str, contract_id: str, member_id: str) -> InvoiceIssued:
    return InvoiceIssued(
        branch="BE", version=1, occurred_at=NOW, invoice_id=invoice_id, contract_id=contract_id,
        member_id=member_id, number="BE-2026-000001", issue_date=date(2026, 3, 3),
        due_date=date(2026, 4, 2), client_key="BE0123456749", client_kind="business",
        amount_excl_vat=Money.of("1000.00"), vat_rate="0.21", vat_amount=Money.of("210.00"),  # type: ignore[arg-type]
        total=Money.of("1210.00"), reverse_charge=False,
    )


def invoice_paid(invoice_id: str, contract_id: str, member_id: str) -> InvoicePaid:
    return InvoicePaid(branch="BE", version=3, occurred_at=NOW, invoice_id=invoice_id,
                       contract_id=contract_id, member_id=member_id,
                       amount_excl_vat=Money.of("1000.00"), total=Money.of("1210.00"),
                       paid_on=date(2026, 4, 1))
