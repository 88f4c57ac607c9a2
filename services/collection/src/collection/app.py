"""Wiring of the collection service."""

from __future__ import annotations

from smart_shared.service import Service, build_service
from smart_shared.settings import Settings

from collection.api import (
    CaseController,
    LetterLinkController,
    LoanCaseController,
    PlanWishController,
)
from collection.domain.rules import CollectionRules, Creditor
from collection.handlers import handlers
from collection.jobs import jobs
from collection.mails import ATTACHMENTS
from collection.store import create_indexes


def create_service(settings: Settings | None = None) -> Service:
    """The collection service; pass ``settings`` to run it isolated (tests)."""
    return build_service("collection", port=8006, controllers=[CaseController, LetterLinkController,
                                                      PlanWishController, LoanCaseController],
                         handlers=handlers, indexes=create_indexes, jobs=jobs, settings=settings,
                         mail_attachments=ATTACHMENTS,
                         rules={"billing": Creditor, "collection": CollectionRules})


service = create_service()
app = service.app
