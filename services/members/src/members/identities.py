"""MongoDB documents of login: staff identities, login links (by digest) and sessions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from smart_shared.mongo import Document, UnitOfWork

from members.domain.login import Identity
from members.store import MEMBERS

STAFF = "staff"
LOGIN_LINKS = "login_links"
SESSIONS = "sessions"


async def create_indexes(db: AsyncDatabase[Document]) -> None:
    """Addresses per branch (members and staff), links by address and expiry, old ones go."""
    await db[MEMBERS].create_index([("branch", ASCENDING), ("email_key", ASCENDING)],
                                   name="branch_email")
    await db[STAFF].create_index([("branch", ASCENDING), ("email_key", ASCENDING)],
                                 name="branch_email", unique=True)
    await db[LOGIN_LINKS].create_index([("email_key", ASCENDING), ("created_at", ASCENDING)],
                                       name="by_address")
    await db[LOGIN_LINKS].create_index("created_at", name="expiry",
                                       expireAfterSeconds=24 * 3600)
    await db[SESSIONS].create_index("expires_at", name="expiry", expireAfterSeconds=0)


async def member_by_address(uow: UnitOfWork, branch: str, email_key: str) -> Document | None:
    """The member of ``branch`` with this address who may log in (not erased, not gone)."""
    query = {"branch": branch, "status": {"$in": ["applicant", "active", "suspended"]}}
    doc = await uow.db[MEMBERS].find_one({**query, "email_key": email_key}, session=uow.session)
    return doc


async def staff_by_address(uow: UnitOfWork, branch: str, email_key: str) -> Document | None:
    return await uow.db[STAFF].find_one({"branch": branch, "email_key": email_key},
                                        session=uow.session)


async def add_staff(uow: UnitOfWork, doc: Document) -> None:
    await uow.db[STAFF].insert_one(doc, session=uow.session)


async def links_asked_since(uow: UnitOfWork, email_key: str, since: datetime) -> int:
    return int(await uow.db[LOGIN_LINKS].count_documents(
        {"email_key": email_key, "created_at": {"$gte": since}}, session=uow.session))


async def add_link(uow: UnitOfWork, digest: str, email_key: str, identity: Identity | None,
                   created_at: datetime, expires_at: datetime) -> None:
    """A login link by its digest; an address that matched nobody is counted all the same."""
    await uow.db[LOGIN_LINKS].insert_one({
        "_id": digest, "email_key": email_key, "created_at": created_at,
        "expires_at": expires_at, "used_at": None,
        "identity": identity.model_dump() if identity else None,
    }, session=uow.session)


async def forget_links_of(uow: UnitOfWork, email: str | None) -> None:
    """An erased member's login links go: they hold the address."""
    if email:
        await uow.db[LOGIN_LINKS].delete_many({"email_key": email.strip().lower()},
                                              session=uow.session)


async def link(uow: UnitOfWork, digest: str) -> Document | None:
    return await uow.db[LOGIN_LINKS].find_one({"_id": digest, "identity": {"$ne": None}},
                                              session=uow.session)


async def use_link(uow: UnitOfWork, digest: str, at: datetime) -> bool:
    """Mark the link used; False when someone used it first."""
    result = await uow.db[LOGIN_LINKS].update_one({"_id": digest, "used_at": None},
                                                  {"$set": {"used_at": at}}, session=uow.session)
    return result.modified_count == 1


async def open_session(uow: UnitOfWork, session_id: str, identity: Identity,
                       expires_at: datetime) -> None:
    await uow.db[SESSIONS].insert_one({"_id": session_id, **identity.model_dump(),
                                       "expires_at": expires_at, "revoked_at": None},
                                      session=uow.session)


async def session(db: Any, session_id: str) -> Document | None:
    doc: Document | None = await db[SESSIONS].find_one({"_id": session_id})
    return doc


async def revoke_session(db: Any, session_id: str, at: datetime) -> None:
    await db[SESSIONS].update_one({"_id": session_id}, {"$set": {"revoked_at": at}})
