"""Payment runs that open by themselves: on the working day before each pay date, the run of
every served branch, so the pain.001 file is at the bank in time; and the salaries at risk of
missing their pay date, on ``/metrics`` and in the staff digest."""

from __future__ import annotations

import logging
import time
from datetime import date

from prometheus_client import Gauge
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError
from smart_shared.mail import send_mail
from smart_shared.mongo import Document, UnitOfWork
from smart_shared.problems import Problem
from smart_shared.rulepacks import UnknownRulePack
from smart_shared.service import Platform

from payroll.domain import pay_date_prepared_on, salary_rules
from payroll.mails import payment_run_ready_mail
from payroll.payment_runs import count_excluded, open_payment_run
from payroll.store import PAYMENT_RUNS, SALARIES

SCHEDULER = "scheduler"
"""``opened_by`` of a run the scheduler opened (staff runs carry the staff member's id)."""
RETRY_REFUSED_SECONDS = 60.0
"""A run that could not open (every due salary unpayable) is tried again after this long."""

AT_RISK = Gauge(
    "smart_payroll_salaries_at_risk",
    "Guaranteed salaries still due on or after the working day before their pay date (no run "
    "holds them: no run yet, unpayable payout details, or returned by the bank)",
    ["branch"],
)
log = logging.getLogger("payroll.scheduled_runs")


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
        day = pay_date.isoformat()
        if await db[PAYMENT_RUNS].find_one(
                {"branch": branch, "pay_date": day, "opened_by": SCHEDULER}, {"_id": 1}):
            return False
        if not await db[SALARIES].find_one(
                {"branch": branch, "status": "due", "pay_date": {"$lte": day}}, {"_id": 1}):
            return False
        refused_at = self._refused.get((branch, pay_date))
        if refused_at is not None and time.monotonic() - refused_at < RETRY_REFUSED_SECONDS:
            return False
        mailbox = self._platform.settings.staff_mailbox

        async def work(uow: UnitOfWork) -> Document:
            run = await open_payment_run(uow, branch, pay_date, SCHEDULER, self._platform.settings)
            mail = payment_run_ready_mail(run, mailbox, uow.clock.today())
            if mail:
                send_mail(uow, mail)
            return run

        try:
            run = await self._platform.database.transaction(work)
        except DuplicateKeyError:
            return False  # another replica opened it first
        except Problem as nothing:
            if refused_at is None:
                count_excluded(branch, nothing.extensions.get("excluded", []))
            self._refused[(branch, pay_date)] = time.monotonic()
            log.warning("no payment run for %s on %s: %s", branch, day, nothing.detail)
            return False
        count_excluded(branch, run["excluded"])
        log.info("payment run %s opened for %s on %s (%d salaries)", run["_id"], branch, day,
                 run["count"])
        return True


async def _count_at_risk(db: AsyncDatabase[Document], branch: str, today: date,
                         session: AsyncClientSession | None = None) -> int:
    pay_date = _next_pay_date(branch, today)
    if pay_date is None:
        return 0
    return await db[SALARIES].count_documents(
        {"branch": branch, "status": "due", "guaranteed": True,
         "pay_date": {"$lte": pay_date.isoformat()}}, session=session)


async def salaries_at_risk(uow: UnitOfWork, branch: str, today: date) -> dict[str, int]:
    """The staff digest's part: guaranteed salaries whose run should be at the bank by now
    (the working day before their pay date, or later) and that no run holds."""
    return {"salaries_at_risk": await _count_at_risk(uow.db, branch, today, uow.session)}


async def watch_salaries_at_risk(platform: Platform) -> int:
    """Set ``smart_payroll_salaries_at_risk`` for each served branch (no transition made)."""
    today = platform.clock.today()
    for branch in platform.settings.branches:
        AT_RISK.labels(branch).set(await _count_at_risk(platform.db, branch, today))
    return 0
