"""The staff's daily digest: what waits for them in one service, mailed once a platform day to the
branch's staff mailbox (``SMART_STAFF_MAILBOX``, e.g. ``staff-{branch}@smart.coop``).

The cause is the service, branch and day, so a job that runs again that day (another replica,
a restart) writes no second mail; the day last mailed is remembered so a tick reads nothing
more until the platform day changes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date

from smart_shared.clock import Clock
from smart_shared.mail.message import Mail
from smart_shared.mail.outbox import send_mail
from smart_shared.mail.render import default_language
from smart_shared.mongo import Database, UnitOfWork
from smart_shared.scheduler import ScheduledJob
from smart_shared.settings import Settings

Waiting = Callable[[UnitOfWork, str, date], Awaitable[dict[str, int]]]
"""What waits for a branch's staff today, by kind (``{"late_declarations": 2}``)."""


def staff_digest_job(service: str, settings: Settings, database: Database, clock: Clock,
                     waiting: Waiting) -> ScheduledJob:
    """A scheduled job that mails each served branch's staff the day's ``waiting`` counts."""
    mailed: dict[str, date] = {}

    async def digest() -> int:
        mailbox = settings.staff_mailbox
        today = clock.today()
        if not mailbox:
            return 0
        for branch in settings.branches:
            if mailed.get(branch) == today:
                continue

            async def work(uow: UnitOfWork, branch: str = branch) -> None:
                counts = await waiting(uow, branch, today)
                if any(counts.values()):
                    send_mail(uow, Mail(
                        cause=f"staff-digest:{service}:{branch}:{today.isoformat()}",
                        to=mailbox.format(branch=branch.lower()), branch=branch,
                        language=default_language(branch, today), template="staff_digest",
                        data={"service": service, "day": today, "counts": counts}))

            await database.transaction(work)
            mailed[branch] = today
        return 0  # a digest is no transition: the scheduler keeps its pace

    return ScheduledJob("staff-digest", digest)
