"""Wiring of the collection service (port 8006 unless ``SMART_SERVICE_PORT`` says otherwise)."""

from __future__ import annotations

import os

from smart_shared.service import Service, build_service
from smart_shared.settings import Settings

from collection.api import CaseController, LetterLinkController, PlanWishController
from collection.handlers import handlers
from collection.jobs import jobs
from collection.mails import ATTACHMENTS
from collection.store import create_indexes

PORT = 8006


def build(settings: Settings | None = None) -> Service:
    """The collection service; pass ``settings`` to run it isolated (tests)."""
    settings = settings or Settings(
        SMART_SERVICE="collection",
        SMART_SERVICE_PORT=int(os.environ.get("SMART_SERVICE_PORT", PORT)),
    )
    return build_service("collection", controllers=[CaseController, LetterLinkController,
                                                      PlanWishController],
                         handlers=handlers, indexes=create_indexes, jobs=jobs, settings=settings,
                         mail_attachments=ATTACHMENTS)


service = build()
app = service.app
