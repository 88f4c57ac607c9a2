"""A small service built with the shared builder, used to prove the platform's guarantees.

It consumes ``MemberErased`` and counts, per member, how many times the effect was applied; its
HTTP endpoint stages events in the outbox. Run as a process: ``python toy_service.py`` (serves
with uvicorn on SMART_SERVICE_PORT), ``python toy_service.py relay`` (the outbox relay alone) or
``python toy_service.py mail-relay`` (the mail relay alone).
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from typing import Any

from litestar import Controller, post
from pydantic import BaseModel
from smart_shared.auth import Principal
from smart_shared.consumer import EventHandlers
from smart_shared.events import MemberErased
from smart_shared.mongo import UnitOfWork
from smart_shared.problems import Problem
from smart_shared.service import Platform, build_service, run
from smart_shared.settings import Settings

handlers = EventHandlers()


@handlers.on(MemberErased)
async def apply_erasure(uow: UnitOfWork, event: MemberErased) -> None:
    if event.member_id.startswith("poison"):
        raise ValueError(f"member {event.member_id} cannot be erased")
    await uow.db.effects.update_one(
        {"_id": event.member_id}, {"$inc": {"applied": 1}}, upsert=True, session=uow.session
    )


class Erasures(BaseModel):
    member_ids: list[str]
    branch: str = "BE"


def erasure(member_id: str, branch: str = "BE") -> MemberErased:
    return MemberErased(branch=branch, version=1, occurred_at=datetime.now(UTC),
                        member_id=member_id)


class ErasureController(Controller):
    path = "/v1/erasures"

    @post("/")
    async def erase(
        self, data: Erasures, platform: Platform, principal: Principal
    ) -> dict[str, Any]:
        principal.require("staff")
        if not data.member_ids:
            raise Problem(400, "Nothing to erase", errors=[{"field": "member_ids",
                                                            "message": "must not be empty"}])

        async def stage(uow: UnitOfWork) -> dict[str, Any]:
            return {"event_ids": [uow.publish(erasure(m, data.branch)) for m in data.member_ids]}

        return await platform.database.transaction(stage)


def settings_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment that gives a child process the same private deployment."""
    import os

    env = dict(os.environ)
    env.update({
        "SMART_SERVICE": settings.service,
        "SMART_MONGODB_DATABASE": settings.database_name,
        "SMART_DEPLOYMENT": settings.deployment,
        "SMART_TOPIC_NAMESPACE": settings.topic_namespace,
        "SMART_CLOCK": settings.clock,
        "SMART_BRANCHES": ",".join(settings.branches),
        "SMART_LOCAL_TRACES": "false",
        "SMART_REPLICA": settings.replica,
        "SMART_CONSUMER_BATCH_SIZE": str(settings.consumer_batch_size),
        "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
        "MONGODB_URI": settings.mongodb_uri,
    })
    env.update(extra)
    return env


def build(settings: Settings | None = None, consume: bool = True) -> Any:
    return build_service(
        "toy",
        controllers=[ErasureController],
        handlers=handlers if consume else None,
        settings=settings,
    )


async def relay_forever(settings: Settings) -> None:
    from smart_shared.mongo import connect
    from smart_shared.outbox import KafkaSender, OutboxRelay

    client = connect(settings.mongodb_uri)
    sender = KafkaSender(settings)
    await sender.start()
    relay = OutboxRelay(client[settings.database_name], sender, "toy", batch_size=200)
    while True:
        if not await relay.relay_once():
            await asyncio.sleep(0.05)


async def read_note(db: Any, key: str) -> bytes:
    """The toy's one kind of attached document: a note kept in its database."""
    note = await db.notes.find_one({"_id": key})
    if note is None:
        raise LookupError(f"no note {key}")
    return bytes(note["content"])


async def mail_relay_forever(settings: Settings) -> None:
    from smart_shared.mail import MailRelay, SmtpSender
    from smart_shared.mongo import connect

    client = connect(settings.mongodb_uri)
    relay = MailRelay(client[settings.database_name], SmtpSender(settings), "toy",
                      {"note": read_note}, batch_size=10, retry_seconds=0.2)
    while True:
        if not await relay.relay_once():
            await asyncio.sleep(0.05)


if __name__ == "__main__":
    settings = Settings(SMART_SERVICE="toy")  # type: ignore[call-arg]
    if sys.argv[1:] == ["relay"]:
        asyncio.run(relay_forever(settings))
    elif sys.argv[1:] == ["mail-relay"]:
        asyncio.run(mail_relay_forever(settings))
    else:
        run(build(settings))
