"""Billing's wiring: controllers, event handlers, indexes and the overdue job."""

from __future__ import annotations

import asyncio
from datetime import date
from functools import partial

from smart_shared.documents import load_fonts
from smart_shared.mail.digest import staff_digest_job
from smart_shared.mongo import UnitOfWork
from smart_shared.scheduler import ScheduledJob
from smart_shared.service import Platform, Service, build_service
from smart_shared.settings import Settings

from billing.access_point_simulator import SimulatedAccessPoint
from billing.api import (
    AccessPointSimulatorController,
    BankStatementController,
    ClientInvoiceController,
    InvoiceController,
    PaymentController,
    RefundController,
)
from billing.domain.rules import BillingRules
from billing.einvoicing import deliver_einvoices
from billing.handlers import handlers
from billing.mails import ATTACHMENTS
from billing.overdue import flag_overdue_debts
from billing.store import create_indexes, parked_payment_count


async def unmatched_payments(uow: UnitOfWork, branch: str, today: date) -> dict[str, int]:
    """The staff digest's part: payments parked for staff to match."""
    return {"unmatched_payments": await parked_payment_count(uow, branch)}


def overdue_jobs(platform: Platform) -> list[ScheduledJob]:
    return [ScheduledJob("debt-overdue", partial(flag_overdue_debts, platform)),
            ScheduledJob("einvoice-delivery", partial(deliver_einvoices, platform)),
            staff_digest_job("billing", platform.settings, platform.database, platform.clock,
                             unmatched_payments)]


async def prepare_documents(platform: Platform) -> None:
    # issuing an invoice prints its PDF: the font is prepared before the first one, off the loop
    await asyncio.to_thread(load_fonts)
    # the e-invoicing port; locally the labelled simulator of a Peppol access point
    access_point = SimulatedAccessPoint(platform.db)
    await access_point.start(platform.settings.peppol_simulator_failing)
    platform.extras["access_point"] = access_point


def create_service(settings: Settings | None = None) -> Service:
    """The billing service (tests pass their own isolated settings)."""
    return build_service(
        "billing", port=8003,
        controllers=[InvoiceController, ClientInvoiceController, PaymentController,
                     BankStatementController, RefundController,
                     AccessPointSimulatorController],
        handlers=handlers,
        indexes=create_indexes,
        jobs=overdue_jobs,
        on_start=prepare_documents,
        settings=settings,
        mail_attachments=ATTACHMENTS,
        rules={"billing": BillingRules},
    )


service = create_service()
app = service.app
