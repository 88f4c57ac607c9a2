"""Wiring: the payroll service built with the shared service builder."""

from __future__ import annotations

from smart_shared.service import Service, build_service
from smart_shared.settings import Settings

from payroll.api import PaymentRunController, SalaryController, SimulationController
from payroll.handlers import handlers
from payroll.mails import ATTACHMENTS
from payroll.store import create_indexes


def build(settings: Settings | None = None) -> Service:
    """The payroll service (``settings`` from the environment unless given)."""
    return build_service(
        "payroll",
        controllers=[SimulationController, SalaryController, PaymentRunController],
        handlers=handlers,
        indexes=create_indexes,
        settings=settings,
        mail_attachments=ATTACHMENTS,
    )


service = build()
app = service.app
