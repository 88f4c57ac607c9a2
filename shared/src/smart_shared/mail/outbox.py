"""The mail outbox: mail rows staged in a unit of work and written just before it commits."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pymongo import UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from smart_shared.mail.message import Mail
from smart_shared.mongo import Document, UnitOfWork
from smart_shared.telemetry import current_traceparent

MAILS = "mail_outbox"
PENDING_INDEX = "pending_due"
"""The relays' index: exactly the pending mails, in the order they are due."""


class MailOutbox:
    """The mails one unit of work causes, written with one command (staged like other writes)."""

    def __init__(self) -> None:
        self.mails: list[Mail] = []

    async def write(self, uow: UnitOfWork) -> None:
        mails, self.mails = self.mails, []
        if not mails:
            return
        now = datetime.now(UTC)
        traceparent = current_traceparent()
        # the first mail written for a cause wins: a second one is never a different mail
        await uow.db[MAILS].bulk_write([
            UpdateOne({"_id": mail.cause}, {"$setOnInsert": {
                **mail.to_document(), "pending": True, "status": "pending",
                "attempts": 0, "next_attempt_at": now, "created_at": now,
                "traceparent": traceparent,
            }}, upsert=True)
            for mail in mails
        ], ordered=True, session=uow.session)


def send_mail(uow: UnitOfWork, *mails: Mail) -> None:
    """Stage ``mails`` in ``uow``: they are written only if the transaction commits."""
    uow.staged(MailOutbox).mails.extend(mails)


async def forget_mails_of(uow: UnitOfWork, person_id: str) -> int:
    """Delete every mail about ``person_id`` (their erasure): addresses must not outlive it."""
    result = await uow.db[MAILS].delete_many({"person_id": person_id}, session=uow.session)
    return int(result.deleted_count)


async def create_mail_indexes(db: AsyncDatabase[Document]) -> None:
    """Pending mails in the order they are due; sent ones expire after 30 days."""
    await db[MAILS].create_index(
        [("next_attempt_at", 1)], name=PENDING_INDEX,
        partialFilterExpression={"pending": True},
    )
    await db[MAILS].create_index("sent_at", name="sent_expiry",
                                 expireAfterSeconds=30 * 24 * 3600)
    await db[MAILS].create_index("person_id", name="by_person",
                                 partialFilterExpression={"person_id": {"$type": "string"}})


def summary(row: Document) -> dict[str, Any]:
    """What ``smart mail list`` shows of a row (never its data: it may hold a login link)."""
    return {key: row.get(key) for key in (
        "_id", "status", "to", "language", "template", "attempts", "last_error",
        "next_attempt_at", "sent_at", "message_id")}
