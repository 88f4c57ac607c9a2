"""MongoDB documents of the members service: one document per member, shares inside it.

A member's national number is unique per branch through ``national_id_key``, a digest of branch
and number under a partial unique index. Erasure removes the number and its key together, so an
erased person no longer blocks anyone (nor can be found by number) and may register again.
"""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError
from smart_shared.events.catalogue import MemberStatus
from smart_shared.http import find_page
from smart_shared.mongo import OUTBOX, Database, Document, UnitOfWork, text_equals

from members.domain import Member, national_id_key

MEMBERS = "members"
UNIQUE_NATIONAL_ID = "unique_national_id_per_branch"


class DuplicateNationalId(Exception):
    """Someone with this national number is already a member of the branch."""


def to_document(member: Member) -> Document:
    doc: Document = {"_id": member.member_id, **member.model_dump(mode="json")}
    if member.national_id:
        doc["national_id_key"] = national_id_key(member.branch, member.national_id)
    if member.email:
        doc["email_key"] = member.email.strip().lower()  # what login looks addresses up by
    return doc


def from_document(doc: Document) -> Member:
    return Member.model_validate({k: v for k, v in doc.items()
                                  if k not in ("_id", "national_id_key", "email_key",
                                                           "traceparent")})


async def create_indexes(db: AsyncDatabase[Document]) -> None:
    """The members' indexes: unique national number per branch, and the staff list filters."""
    members = db[MEMBERS]
    await members.create_index(
        "national_id_key", name=UNIQUE_NATIONAL_ID, unique=True,
        partialFilterExpression={"national_id_key": {"$type": "string"}},
    )
    await members.create_index([("branch", ASCENDING), ("status", ASCENDING), ("_id", ASCENDING)],
                               name="branch_status")
    await members.create_index(
        [("branch", ASCENDING), ("activities.name", ASCENDING), ("_id", ASCENDING)],
        name="branch_activity",
    )


async def add(uow: UnitOfWork, member: Member, traceparent: str | None) -> None:
    """Store a new member; raises ``DuplicateNationalId`` when the branch already has them."""
    doc = to_document(member)
    doc["traceparent"] = traceparent
    if "national_id_key" in doc and await uow.db[MEMBERS].find_one(
        {"national_id_key": text_equals(doc["national_id_key"])}, {"_id": 1}, session=uow.session
    ):
        raise DuplicateNationalId
    try:
        await uow.db[MEMBERS].insert_one(doc, session=uow.session)
    except DuplicateKeyError as error:
        # two registrations of one person racing: the index decides
        if UNIQUE_NATIONAL_ID in str(error):
            raise DuplicateNationalId from None
        raise


async def read(db: Any, member_id: str) -> Member | None:
    """A member as last committed, outside any transaction (reads that change nothing)."""
    doc = await db[MEMBERS].find_one({"_id": member_id})
    return from_document(doc) if doc else None


async def get(uow: UnitOfWork, member_id: str) -> Member | None:
    doc = await uow.db[MEMBERS].find_one({"_id": member_id}, session=uow.session)
    return from_document(doc) if doc else None


async def save(uow: UnitOfWork, member: Member) -> None:
    """Replace the member's document (the transaction detects concurrent changes)."""
    doc = to_document(member)
    previous = await uow.db[MEMBERS].find_one({"_id": member.member_id}, {"traceparent": 1},
                                              session=uow.session)
    doc["traceparent"] = previous.get("traceparent") if previous else None
    await uow.db[MEMBERS].replace_one({"_id": member.member_id}, doc, session=uow.session)


async def forget_sent_events(uow: UnitOfWork, member_id: str) -> int:
    """Delete the member's already-published outbox rows: they hold payout details that must
    not outlive an erasure (unsent rows stay, the relay still owes them to subscribers)."""
    result = await uow.db[OUTBOX].delete_many(
        {"aggregate_id": member_id, "pending": {"$ne": True}}, session=uow.session
    )
    return int(result.deleted_count)


async def find(database: Database, branch: str, status: MemberStatus | None, activity: str | None,
               cursor: str | None, limit: int) -> tuple[list[Member], str | None]:
    """One page of a branch's members, oldest first."""
    query: Document = {"branch": branch}
    if status:
        query["status"] = status
    if activity:
        query["activities.name"] = activity
    # find_page takes anything with a ``.db``; an AsyncDatabase would answer ``.db`` with a
    # collection of that name, so the platform's Database is passed
    docs, next_cursor = await find_page(database, MEMBERS, query, cursor, limit)
    return [from_document(doc) for doc in docs], next_cursor
