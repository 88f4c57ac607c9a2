"""Billing's wiring: controllers, event handlers, indexes, jobs and the e-invoicing port."""

from __future__ import annotations

import asyncio

from smart_shared.documents import load_fonts
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
from billing.handlers import handlers
from billing.jobs import jobs
from billing.mails import ATTACHMENTS
from billing.store import create_indexes


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
        jobs=jobs,
        on_start=prepare_documents,
        settings=settings,
        mail_attachments=ATTACHMENTS,
        rules={"billing": BillingRules},
    )


service = create_service()
app = service.app
