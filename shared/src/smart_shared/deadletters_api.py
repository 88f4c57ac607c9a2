"""Dead letters over HTTP, for a branch's admins: what each service could not handle, and a
replay of one of them once its cause is fixed (the same as ``smart dlq``, one letter at a time).

Each service shows the letters its own consumer dead-lettered, of the topics it reads. A letter
is its branch's (the ``ce_source`` of the event); one too malformed to name a branch is shown to
the admins of every branch the deployment serves. (``build_service`` imports this module when it
builds a consuming service's app.)
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AsyncExitStack
from typing import Any

from litestar import Controller, get, post
from pydantic import BaseModel

from smart_shared.auth import Principal
from smart_shared.deadletters import DeadLetterQueue, UnknownTopic, replay
from smart_shared.events import header_map
from smart_shared.openapi import problems
from smart_shared.problems import Problem
from smart_shared.service import Platform
from smart_shared.settings import Settings


class DeadLetter(BaseModel):
    topic: str
    partition: int
    offset: int
    event_id: str | None
    type: str | None
    subject: str | None
    branch: str | None
    error: str | None
    failed_at: str | None


class DeadLetterPage(BaseModel):
    items: list[DeadLetter]


def _branch_of(headers: dict[str, str]) -> str | None:
    parts = headers.get("ce_source", "").split("/")  # /smart/{branch}/{service}
    return parts[2] if len(parts) == 4 and parts[1] == "smart" else None


def _letter(topic: str, record: Any) -> DeadLetter:
    headers = header_map(record.headers or [])
    return DeadLetter(topic=topic, partition=record.partition, offset=record.offset,
                      event_id=headers.get("ce_id"), type=headers.get("ce_type"),
                      subject=headers.get("ce_subject"), branch=_branch_of(headers),
                      error=headers.get("dlq_error"), failed_at=headers.get("dlq_failed_at"))


def _visible(letter: DeadLetter, record: Any, service: str, principal: Principal,
             settings: Settings) -> bool:
    consumer = header_map(record.headers or []).get("dlq_consumer")
    if consumer != service:
        return False
    if letter.branch is None:
        return principal.branch in settings.branches
    return letter.branch == principal.branch


def dead_letter_controller(service: str, topics: Sequence[str]) -> type[Controller]:
    """The dead-letter endpoints of ``service``, which reads the (canonical) ``topics``."""

    async def pending(stack: AsyncExitStack, settings: Settings, principal: Principal,
                      ) -> list[tuple[str, DeadLetterQueue, Any, DeadLetter]]:
        found = []
        for topic in topics:
            try:
                # kept open until the request ends: marking needs what ``pending`` read
                queue = await stack.enter_async_context(
                    DeadLetterQueue(settings, settings.topic(topic)))
            except UnknownTopic:
                continue  # nothing ever died on this topic
            for record in await queue.pending():
                letter = _letter(topic, record)
                if _visible(letter, record, service, principal, settings):
                    found.append((topic, queue, record, letter))
        return found

    class DeadLetterController(Controller):
        path = "/v1/dead-letters"
        tags = ["dead letters"]

        @get("/", summary="The dead letters of this service still waiting for a replay "
             "(admins of the branch)")
        async def list_pending(self, platform: Platform, principal: Principal) -> DeadLetterPage:
            principal.require("admin")
            async with AsyncExitStack() as stack:
                found = await pending(stack, platform.settings, principal)
            return DeadLetterPage(items=[letter for *_, letter in found])

        @post("/{event_id:str}/replay", status_code=200, responses=problems(404),
              summary="Send one dead letter back to its topic, once (admins of the branch)")
        async def replay(self, event_id: str, platform: Platform,
                         principal: Principal) -> DeadLetter:
            principal.require("admin")
            settings = platform.settings
            async with AsyncExitStack() as stack:
                found = await pending(stack, settings, principal)
                chosen = next((item for item in found if item[3].event_id == event_id), None)
                if chosen is None:
                    raise Problem(404, "No such dead letter",
                                  f"No dead letter {event_id} waits for a replay here",
                                  "dead-letter-unknown")
                topic, queue, record, letter = chosen
                await replay(queue, [record], settings.topic(topic),
                             lambda value, to, key, headers: platform.broker.publish(
                                 value, to, key=key, headers=headers))
            return letter

    return DeadLetterController
