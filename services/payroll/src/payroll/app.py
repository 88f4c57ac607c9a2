"""Wiring: the payroll service built with the shared service builder."""

from __future__ import annotations

from functools import partial

from smart_shared.mail.digest import staff_digest_job
from smart_shared.scheduler import ScheduledJob
from smart_shared.service import Platform, Service, build_service
from smart_shared.settings import Settings

from payroll.api import (
    PaymentRunController,
    PaymentStatusReportController,
    SalaryController,
    SimulationController,
)
from payroll.domain.rules import PayrollSection
from payroll.handlers import handlers
from payroll.mails import ATTACHMENTS
from payroll.scheduled_runs import ScheduledRuns, salaries_at_risk, watch_salaries_at_risk
from payroll.store import create_indexes


def payroll_jobs(platform: Platform) -> list[ScheduledJob]:
    """The runs that open by themselves, the salaries at risk, the staff digest."""
    jobs = [ScheduledJob("salaries-at-risk", partial(watch_salaries_at_risk, platform)),
            staff_digest_job("payroll", platform.settings, platform.database, platform.clock,
                             salaries_at_risk)]
    if platform.settings.automatic_payment_runs:
        jobs.insert(0, ScheduledJob("payment-runs", ScheduledRuns(platform)))
    return jobs


def create_service(settings: Settings | None = None) -> Service:
    """The payroll service (``settings`` from the environment unless given)."""
    return build_service(
        "payroll", port=8004,
        controllers=[SimulationController, SalaryController, PaymentRunController,
                     PaymentStatusReportController],
        handlers=handlers,
        jobs=payroll_jobs,
        indexes=create_indexes,
        settings=settings,
        mail_attachments=ATTACHMENTS,
        rules={"payroll": PayrollSection},
    )


service = create_service()
app = service.app
