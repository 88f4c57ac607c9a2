"""Time-driven work: the payment runs that open by themselves (on the working day before each
pay date, the run of every served branch, so the pain.001 file is at the bank in time), the
salaries at risk of missing their pay date (on ``/metrics`` and in the staff digest)."""

from __future__ import annotations

import logging
import time
from datetime import date
from functools import partial

from prometheus_client import Gauge
from pymongo.errors import DuplicateKeyError
from smart_shared.mail.digest import staff_digest_job
from smart_shared.mongo import UnitOfWork
from smart_shared.problems import Problem
from smart_shared.rulepacks import UnknownRulePack
from smart_shared.scheduler import ScheduledJob
from smart_shared.service import Platform

from payroll import store
from payroll.domain import pay_date_prepared_on, salary_rules
from payroll.payment_runs import SCHEDULER, OpenPaymentRun, count_excluded, open_scheduled_run

RETRY_REFUSED_SECONDS = 60.0
"""A run that could not open (every due salary unpayable) is tried again after this long."""

AT_RISK = Gauge(
    "smart_payroll_salaries_at_risk",
    "Guaranteed salaries still due on or after the working day before their pay date (no run "
    "holds them: no run yet, unpayable payout details, or returned by the bank)",
    ["branch"],
)
log = logging.getLogger("payroll.jobs")


def _next_pay_date(branch: str, today: date) -> date | None:
    try:
        calendar = salary_rules(branch, today).payroll.holiday_calendar.value
    except UnknownRulePack:
        return None
    return pay_date_prepared_on(today, calendar)


class ScheduledRuns:
    """The job that opens each served branch's run for the next pay date, once (a unique key on
    branch and pay date among the scheduler's runs: two replicas or a restart never open two)."""

    def __init__(self, platform: Platform) -> None:
        self._platform = platform
        self._refused: dict[tuple[str, date], float] = {}

    async def __call__(self) -> int:
        today = self._platform.clock.today()
        opened = 0
        for branch in self._platform.settings.branches:
            pay_date = _next_pay_date(branch, today)
            if pay_date is not None and await self._open(branch, pay_date):
                opened += 1
        return opened

    async def _open(self, branch: str, pay_date: date) -> bool:
        db = self._platform.db
        if await store.scheduled_run_exists(db, branch, pay_date, SCHEDULER):
            return False
        if not await store.has_due_salary(db, branch, pay_date):
            return False
        refused_at = self._refused.get((branch, pay_date))
        if refused_at is not None and time.monotonic() - refused_at < RETRY_REFUSED_SECONDS:
            return False
        command = OpenPaymentRun(branch, pay_date, SCHEDULER, self._platform.settings)
        try:
            run = await self._platform.database.transaction(
                partial(open_scheduled_run, command=command))
        except DuplicateKeyError:
            return False  # another replica opened it first
        except Problem as nothing:
            if refused_at is None:
                count_excluded(branch, nothing.extensions.get("excluded", []))
            self._refused[(branch, pay_date)] = time.monotonic()
            log.warning("no payment run for %s on %s: %s", branch, pay_date.isoformat(),
                        nothing.detail)
            return False
        count_excluded(branch, run["excluded"])
        log.info("payment run %s opened for %s on %s (%d salaries)", run["_id"], branch,
                 pay_date.isoformat(), run["count"])
        return True


async def salaries_at_risk(uow: UnitOfWork, branch: str, today: date) -> dict[str, int]:
    """The staff digest's part: guaranteed salaries whose run should be at the bank by now
    (the working day before their pay date, or later) and that no run holds."""
    pay_date = _next_pay_date(branch, today)
    at_risk = 0 if pay_date is None else await store.salaries_at_risk(uow.db, branch, pay_date,
                                                                      uow.session)
    return {"salaries_at_risk": at_risk}


async def watch_salaries_at_risk(platform: Platform) -> int:
    """Set ``smart_payroll_salaries_at_risk`` for each served branch (no transition made)."""
    today = platform.clock.today()
    for branch in platform.settings.branches:
        pay_date = _next_pay_date(branch, today)
        AT_RISK.labels(branch).set(
            0 if pay_date is None else await store.salaries_at_risk(platform.db, branch,
                                                                    pay_date))
    return 0


def jobs(platform: Platform) -> list[ScheduledJob]:
    """The runs that open by themselves, the salaries at risk, the staff digest."""
    scheduled = [ScheduledJob("salaries-at-risk", partial(watch_salaries_at_risk, platform)),
                 staff_digest_job("payroll", platform.settings, platform.database,
                                  platform.clock, salaries_at_risk)]
    if platform.settings.automatic_payment_runs:
        scheduled.insert(0, ScheduledJob("payment-runs", ScheduledRuns(platform)))
    return scheduled
