"""Time-driven work: overdue debts, e-invoice deliveries and the staff digest's part."""

from __future__ import annotations

from datetime import date
from functools import partial

from smart_shared.mail.digest import staff_digest_job
from smart_shared.mongo import UnitOfWork
from smart_shared.scheduler import ScheduledJob
from smart_shared.service import Platform

from billing import store
from billing.einvoicing import deliver_einvoices
from billing.overdue import flag_overdue_debt

BATCH = 200


async def flag_overdue_debts(platform: Platform) -> int:
    """``DebtOverdue`` once for each invoice whose due date has passed with a balance left."""
    flagged = 0
    for invoice_id in await store.overdue_candidates(platform.db, platform.clock.today(), BATCH):
        flagged += await platform.database.transaction(
            partial(flag_overdue_debt, invoice_id=invoice_id))
    return flagged


async def unmatched_payments(uow: UnitOfWork, branch: str, today: date) -> dict[str, int]:
    """The staff digest's part: payments parked for staff to match."""
    return {"unmatched_payments": await store.parked_payment_count(uow, branch)}


def jobs(platform: Platform) -> list[ScheduledJob]:
    return [ScheduledJob("debt-overdue", partial(flag_overdue_debts, platform)),
            ScheduledJob("einvoice-delivery", partial(deliver_einvoices, platform)),
            staff_digest_job("billing", platform.settings, platform.database, platform.clock,
                             unmatched_payments)]
