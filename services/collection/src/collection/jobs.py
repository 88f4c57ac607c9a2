"""Time-driven work: the schedule's steps and the payment plans' instalment checks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from functools import partial

from smart_shared.mail.digest import staff_digest_job
from smart_shared.mongo import UnitOfWork
from smart_shared.scheduler import ScheduledJob
from smart_shared.service import Platform

from collection import store
from collection.dunning import check_plan, take_due_step
from collection.loan_cases import take_loan_step

BATCH = 200


async def _each(platform: Platform, ids: list[str],
                change: Callable[[UnitOfWork, str], Awaitable[int]]) -> int:
    made = 0
    for case_id in ids:
        made += await platform.database.transaction(partial(_one, change, case_id))
    return made


async def _one(change: Callable[[UnitOfWork, str], Awaitable[int]], case_id: str,
               uow: UnitOfWork) -> int:
    return await change(uow, case_id)


async def take_due_steps(platform: Platform) -> int:
    """Send every reminder due by the platform clock (one step per case per run)."""
    due = await store.cases_with_a_step_due(platform.db, platform.clock.today(), BATCH)
    return await _each(platform, due, take_due_step)


async def take_loan_steps(platform: Platform) -> int:
    """Write to every member whose defaulted loan's next letter is due."""
    due = await store.loan_cases_with_a_step_due(platform.db, platform.clock.today(), BATCH)
    return await _each(platform, due, take_loan_step)


async def check_payment_plans(platform: Platform) -> int:
    """Resume the schedule of cases whose payment plan missed an instalment."""
    due = await store.plans_to_check(platform.db, platform.clock.today(), BATCH)
    return await _each(platform, due, check_plan)


async def waiting_for_staff(uow: UnitOfWork, branch: str, today: date) -> dict[str, int]:
    """The staff digest's part: debts handed over for legal recovery, awaiting their decision,
    letters to clients without an e-mail address, waiting to be posted, and members' defaulted
    loans staff must follow up."""
    count, to_post = await store.waiting_for_staff(uow, branch)
    return {"write_off_decisions": count, "letters_to_post": to_post,
            "loan_cases_to_follow": await store.loan_cases_to_follow(uow, branch)}


def jobs(platform: Platform) -> list[ScheduledJob]:
    return [
        ScheduledJob("collection-payment-plans", partial(check_payment_plans, platform)),
        ScheduledJob("collection-steps", partial(take_due_steps, platform)),
        ScheduledJob("collection-loan-steps", partial(take_loan_steps, platform)),
        staff_digest_job("collection", platform.settings, platform.database, platform.clock,
                         waiting_for_staff),
    ]
