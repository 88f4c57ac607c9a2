"""HTTP helpers every service uses: cursor pagination and ``Idempotency-Key`` handling."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel

from smart_shared.mongo import Database, Document, UnitOfWork
from smart_shared.problems import Problem, invalid

T = TypeVar("T")
IDEMPOTENCY = "idempotency_keys"


class Page(BaseModel, Generic[T]):
    """One page of a list; pass ``next_cursor`` back as ``cursor`` for the next one."""

    items: list[T]
    next_cursor: str | None = None


def encode_cursor(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value, default=str).encode()).decode()


MAX_CURSOR = 512
"""Longest cursor this API gives out (a base64 JSON scalar) with room to spare."""


def decode_cursor(cursor: str | None) -> Any:
    """The position a cursor stands for; anything else a cursor could be is a 400."""
    if not cursor:
        return None
    try:
        if len(cursor) > MAX_CURSOR or not cursor.isascii():
            raise ValueError("not a cursor")
        value = json.loads(base64.urlsafe_b64decode(cursor.encode()).decode("utf-8"))
        # we only ever hand out strings and numbers: anything else was made by someone else
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise ValueError("not a cursor")
        return value
    except Exception:
        raise invalid("cursor", "is not a cursor this API gave out", "Invalid cursor") from None


# a list's order: its records were created in ``_id`` order (UUIDv7); a queue is read oldest
# first, a history (contracts, invoices, salaries) newest first
Order = Literal["oldest", "newest"]


async def find_page(
    uow_or_db: Any,
    collection: str,
    query: Document,
    cursor: str | None,
    limit: int,
    sort_field: str = "_id",
    order: Order = "oldest",
) -> tuple[list[Document], str | None]:
    """Documents after ``cursor`` in ``sort_field`` order (a unique field; ascending, or
    descending for ``order="newest"``), one page."""
    if not 1 <= limit <= 500:
        raise invalid("limit", "must be between 1 and 500")
    db = uow_or_db.db if isinstance(uow_or_db, UnitOfWork | Database) else uow_or_db
    after = decode_cursor(cursor)
    newest = order == "newest"
    if after is not None:
        query = {"$and": [query, {sort_field: {"$lt" if newest else "$gt": after}}]}
    docs = await (db[collection].find(query).sort(sort_field, -1 if newest else 1)
                  .limit(limit + 1).to_list(limit + 1))
    next_cursor = encode_cursor(docs[limit - 1][sort_field]) if len(docs) > limit else None
    return docs[:limit], next_cursor


def request_fingerprint(body: Any) -> str:
    canonical = json.dumps(body, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


async def idempotent(
    database: Database,
    key: str | None,
    scope: str,
    body: Any,
    work: Callable[[UnitOfWork], Awaitable[dict[str, Any]]],
    required: bool = True,
) -> tuple[dict[str, Any], bool]:
    """Run ``work`` once per ``Idempotency-Key``: the same key answers the first result again.

    Returns ``(result, replayed)``. The key and the result are stored in the same transaction as
    the money movement, so a crash can neither lose the movement nor run it twice. Reusing a key
    with a different request body is refused (422).
    """
    if not key:
        if required:
            raise invalid("Idempotency-Key", "this header is required for money movements")
        return await database.transaction(work), False
    if len(key) > 200:
        raise invalid("Idempotency-Key", "must be at most 200 characters")
    fingerprint = request_fingerprint(body)
    replayed = False

    async def once(uow: UnitOfWork) -> dict[str, Any]:
        nonlocal replayed
        replayed = False
        stored = await uow.db[IDEMPOTENCY].find_one({"_id": f"{scope}:{key}"}, session=uow.session)
        if stored:
            if stored["fingerprint"] != fingerprint:
                raise Problem(422, "Idempotency-Key reused", "This key was used for another "
                              "request; use a new key for a new request", "idempotency-key-reused")
            replayed = True
            return dict(stored["result"])
        result = await work(uow)
        await uow.db[IDEMPOTENCY].insert_one(
            {"_id": f"{scope}:{key}", "fingerprint": fingerprint, "result": result,
             "at": datetime.now(UTC)},
            session=uow.session,
        )
        return result

    return await database.transaction(once), replayed


PATH_TOKEN_SCOPE_KEY = "smart.path_token"


def keep_tokens_out_of_paths(app: Any, *prefixes: str) -> None:
    """Move the secret after each of ``prefixes`` (``/v1/contracts/sign/``: a capability link's
    token) out of the request path before anything sees it, so that it never reaches span
    names, span attributes, metrics or logs: they read ``/v1/contracts/sign/{token}`` literally.
    A handler reads the token back with ``path_token``."""
    from urllib.parse import quote

    inner = app.asgi_handler

    async def handler(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            for prefix in prefixes:
                if scope["path"].startswith(prefix):
                    token, slash, rest = scope["path"][len(prefix):].partition("/")
                    path = f"{prefix}{{token}}{slash}{rest}"
                    scope = {**scope, "path": path, "raw_path": quote(path).encode(),
                             PATH_TOKEN_SCOPE_KEY: token}
                    break
        await inner(scope, receive, send)

    app.asgi_handler = handler


def path_token(scope: Any, token: str) -> str:
    """The token ``keep_tokens_out_of_paths`` took out of the path (else ``token`` as routed)."""
    return str(scope.get(PATH_TOKEN_SCOPE_KEY, token))
