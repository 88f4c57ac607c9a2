"""Time-driven work: the loans' instalments, announced on their due dates by the platform clock."""

from __future__ import annotations

from functools import partial

from smart_shared.scheduler import ScheduledJob
from smart_shared.service import Platform

from fund import store
from fund.instalments import announce_due

BATCH = 200


async def announce_due_instalments(platform: Platform) -> int:
    """Publish every instalment fallen due, and default the loans that missed too many."""
    published = 0
    for loan_id in await store.loans_to_check(platform.db, platform.clock.today(), BATCH):
        published += await platform.database.transaction(partial(announce_due,
                                                                 loan_id=loan_id))
    return published


def jobs(platform: Platform) -> list[ScheduledJob]:
    return [ScheduledJob("fund-instalments", partial(announce_due_instalments, platform))]
