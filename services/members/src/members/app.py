"""Wiring of the members service."""

from __future__ import annotations

from pymongo.asynchronous.database import AsyncDatabase
from smart_shared.mongo import Document
from smart_shared.service import Platform, Service, build_service
from smart_shared.settings import Settings

from members import identities, store
from members.api import MembersController
from members.domain.shares import ShareRules
from members.handlers import handlers
from members.login_api import LoginController, StaffController, jwks, start_login


async def create_indexes(db: AsyncDatabase[Document]) -> None:
    await store.create_indexes(db)
    await identities.create_indexes(db)


def create_service(settings: Settings | None = None) -> Service:
    """The members service, with the deployment's settings (or the environment's)."""
    async def on_start(platform: Platform) -> None:
        await start_login(service, platform)

    service = build_service(
        "members", port=8001,
        controllers=[MembersController, LoginController, StaffController, jwks],
        handlers=handlers, indexes=create_indexes, on_start=on_start, settings=settings,
        rules={"members": ShareRules})
    return service


service = create_service()
app = service.app
