"""Wiring: the payroll service built with the shared service builder."""

from __future__ import annotations

from smart_shared.service import Service, build_service
from smart_shared.settings import Settings

from payroll.api import (
    PaymentRunController,
    PaymentStatusReportController,
    SalaryController,
    SimulationController,
)
from payroll.domain.rules import PayrollSection
from payroll.handlers import handlers
from payroll.jobs import jobs
from payroll.mails import ATTACHMENTS
from payroll.store import create_indexes


def create_service(settings: Settings | None = None) -> Service:
    """The payroll service (``settings`` from the environment unless given)."""
    return build_service(
        "payroll", port=8004,
        controllers=[SimulationController, SalaryController, PaymentRunController,
                     PaymentStatusReportController],
        handlers=handlers,
        jobs=jobs,
        indexes=create_indexes,
        settings=settings,
        mail_attachments=ATTACHMENTS,
        rules={"payroll": PayrollSection},
    )


service = create_service()
app = service.app
