"""Projections of another service's aggregates, kept from its events: the latest version wins."""

from __future__ import annotations

from typing import Any

from pymongo import UpdateOne

from smart_shared.mongo import UnitOfWork


def keep_if_newer(ident: Any, version: int, facts: dict[str, Any]) -> UpdateOne:
    """Set ``facts`` on document ``ident`` (created if missing) unless it already holds this
    version or a newer one (a stale or repeated event): one conditional update, checked by the
    server, so a batch's updates go in one ``bulk_write``."""
    newer = {"$lt": [{"$ifNull": ["$version", 0]}, version]}
    return UpdateOne(
        {"_id": ident},
        [{"$replaceWith": {"$cond": [
            newer,
            {"$mergeObjects": ["$$ROOT", {"$literal": {**facts, "version": version}}]},
            "$$ROOT",
        ]}}],
        upsert=True,
    )


class StagedUpdates:
    """A unit of work's updates of one collection, sent in order with one ``bulk_write``
    (subclass it and set ``collection``)."""

    collection: str

    def __init__(self) -> None:
        self.updates: list[UpdateOne] = []

    async def write(self, uow: UnitOfWork) -> None:
        updates, self.updates = self.updates, []
        if updates:
            await uow.db[self.collection].bulk_write(updates, ordered=True, session=uow.session)
