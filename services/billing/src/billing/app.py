"""Billing's wiring: controllers, event handlers, indexes and the overdue job."""

from __future__ import annotations

from functools import partial

from smart_shared.scheduler import ScheduledJob
from smart_shared.service import Platform, Service, build_service
from smart_shared.settings import Settings

from billing.api import BankStatementController, InvoiceController, PaymentController
from billing.handlers import handlers
from billing.mails import ATTACHMENTS
from billing.overdue import flag_overdue_debts
from billing.store import create_indexes


def overdue_jobs(platform: Platform) -> list[ScheduledJob]:
    return [ScheduledJob("debt-overdue", partial(flag_overdue_debts, platform))]


def create_service(settings: Settings | None = None) -> Service:
    """The billing service (tests pass their own isolated settings)."""
    return build_service(
        "billing",
        controllers=[InvoiceController, PaymentController, BankStatementController],
        handlers=handlers,
        indexes=create_indexes,
        jobs=overdue_jobs,
        settings=settings,
        mail_attachments=ATTACHMENTS,
    )


service = create_service()
app = service.app
