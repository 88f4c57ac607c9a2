"""Wiring of the members service (port 8001)."""

from __future__ import annotations

from smart_shared.service import Service, build_service
from smart_shared.settings import Settings

from members.api import MembersController
from members.handlers import handlers
from members.store import create_indexes

PORT = 8001


def create_service(settings: Settings | None = None) -> Service:
    """The members service, with the deployment's settings (or the environment's)."""
    settings = settings or Settings(SMART_SERVICE="members")
    if "port" not in settings.model_fields_set:
        settings.port = PORT
    return build_service("members", controllers=[MembersController], handlers=handlers,
                         indexes=create_indexes, settings=settings)


service = create_service()
app = service.app
