"""Signed-in people: a random id in an HttpOnly cookie, the access token kept server-side.

The browser never sees the platform token; the portal's ``sessions`` collection keeps it with
who it is for, and MongoDB drops a session when it expires. Only the id's SHA-256 is stored, so
a copy of the database opens no session.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from litestar import Request, Response
from pymongo.asynchronous.database import AsyncDatabase
from smart_shared.auth import Principal
from smart_shared.mongo import Document

SESSIONS = "sessions"
SESSION_COOKIE = "smart_session"
LANGUAGE_COOKIE = "smart_language"


@dataclass(frozen=True)
class SignedIn:
    """The person behind a session: their token for the platform's APIs and who it says."""

    token: str
    principal: Principal
    expires_at: datetime
    changes: int = 0
    """How many commands the person has sent through the portal (``changed``)."""


def session_key(session_id: str) -> str:
    """How a session is stored: the SHA-256 of the id its cookie carries."""
    return hashlib.sha256(session_id.encode()).hexdigest()


async def create_indexes(db: AsyncDatabase[Document]) -> None:
    await db[SESSIONS].create_index("expires_at", expireAfterSeconds=0)
    await db[SESSIONS].create_index("principal.sub")


def session_document(session_id: str, token: str, principal: Principal,
                     expires_at: datetime) -> Document:
    """What the ``sessions`` collection keeps of a session (never its id, only its hash)."""
    return {"_id": session_key(session_id), "token": token, "expires_at": expires_at,
            "principal": {"sub": principal.sub, "role": principal.role,
                          "branch": principal.branch, "member_id": principal.member_id}}


async def open_session(db: AsyncDatabase[Document], token: str, principal: Principal,
                       expires_at: datetime) -> str:
    """Keep ``token`` for a new session; returns the session id for the cookie."""
    session_id = secrets.token_urlsafe(32)
    await db[SESSIONS].insert_one(session_document(session_id, token, principal, expires_at))
    return session_id


async def signed_in(db: AsyncDatabase[Document], session_id: str | None) -> SignedIn | None:
    if not session_id or len(session_id) > 100:
        return None
    doc = await db[SESSIONS].find_one({"_id": session_key(session_id)})
    if doc is None:
        return None
    expires_at = doc["expires_at"].replace(tzinfo=UTC)
    if expires_at <= datetime.now(UTC):
        return None
    return SignedIn(doc["token"], Principal(**doc["principal"]), expires_at,
                    int(doc.get("changes", 0)))


async def changed(db: AsyncDatabase[Document], principal: Principal) -> None:
    """The person sent a command: every session of theirs, on every replica, reads afresh."""
    await db[SESSIONS].update_many({"principal.sub": principal.sub}, {"$inc": {"changes": 1}})


async def close_session(db: AsyncDatabase[Document], session_id: str | None) -> None:
    if session_id:
        await db[SESSIONS].delete_one({"_id": session_key(session_id)})


def set_session_cookie(response: Response[Any], session_id: str, expires_at: datetime,
                       secure: bool) -> None:
    response.set_cookie(SESSION_COOKIE, session_id, httponly=True, secure=secure, samesite="lax",
                        path="/", max_age=int((expires_at - datetime.now(UTC)).total_seconds()))


def clear_session_cookie(response: Response[Any], secure: bool) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")


def remember_language(response: Response[Any], language: str, secure: bool) -> None:
    response.set_cookie(LANGUAGE_COOKIE, language, httponly=True, secure=secure,
                        samesite="lax", path="/",
                        max_age=int(timedelta(days=365).total_seconds()))


def session_id_of(request: Request[Any, Any, Any]) -> str | None:
    return request.cookies.get(SESSION_COOKIE)
