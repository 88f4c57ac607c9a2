"""A service's mailer: its mail relay in a process of its own (``python -m billing mailer``).

An invoice's mail attaches its PDF and its UBL, a payslip's mail the payslip: rendering them
takes CPU. In the service's process it shares the event loop with the consumer and the API, so
every event waits behind the mails of the one before. With ``SMART_SEPARATE_MAILER=true`` the
service only writes its mails to the outbox, in the transaction of what caused them, and its
mailer renders and sends them: the same relay (one lease, retries, dead letters, the same
``Message-ID`` after a crash), the same database, the service's own attachment sources.

The mailer answers ``/health/live``, ``/health/ready`` (MongoDB reachable, the relay not stalled)
and ``/metrics`` on ``SMART_SERVICE_PORT``; it needs no Kafka.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar, Response, get
from litestar.datastructures import State
from litestar.plugins.prometheus import PrometheusConfig
from pymongo.asynchronous.database import AsyncDatabase

from smart_shared.documents import load_fonts
from smart_shared.mail import AttachmentSource, MailRelay, SmtpSender, create_mail_indexes
from smart_shared.metrics import Metrics
from smart_shared.mongo import Document, connect
from smart_shared.problems import PROBLEM_JSON
from smart_shared.settings import Settings
from smart_shared.telemetry import setup_logging


def mail_relay(db: AsyncDatabase[Document], settings: Settings, service: str,
               attachments: Mapping[str, AttachmentSource] | None) -> MailRelay:
    """The relay that renders and sends ``service``'s committed mails."""
    return MailRelay(db, SmtpSender(settings), service, attachments, settings.mail_batch_size,
                     settings.mail_idle_seconds, settings.mail_max_attempts,
                     settings.mail_retry_seconds)


def mailer_app(service: str, settings: Settings,
               attachments: Mapping[str, AttachmentSource] | None) -> Litestar:
    """The mailer of ``service``, as an ASGI app with its health and metrics."""
    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        client = connect(settings.mongodb_uri, appname=f"{service}-mailer",
                         **settings.mongo_options())
        db = client[settings.database_name]
        await create_mail_indexes(db)
        if attachments:
            # the attached documents are printed: the font is prepared off the loop before the
            # first one (about 2 s), not while a mail waits for it
            await asyncio.to_thread(load_fonts)
        relay = mail_relay(db, settings, service, attachments)
        app.state.db, app.state.relay = db, relay
        await relay.start()
        try:
            yield
        finally:
            await relay.stop()
            await client.close()

    @get("/health/live", tags=["health"], summary="The process answers")
    async def live() -> dict[str, str]:
        return {"status": "live"}

    @get("/health/ready", tags=["health"], summary="MongoDB reachable, the mail relay moving")
    async def ready(state: State) -> Response[dict[str, Any]]:
        try:
            await state.db.command("ping")
            mongo = True
        except Exception:
            mongo = False
        status = state.relay.status
        checks = {"mongodb": "up" if mongo else "down", "mail_relay": status}
        if mongo and status != "stalled":
            return Response({"status": "ready", "checks": checks})
        return Response({"type": "about:blank", "title": "Not ready", "status": 503,
                         "checks": checks}, status_code=503, media_type=PROBLEM_JSON)

    prometheus = PrometheusConfig(app_name=f"smart_{service}_mailer", group_path=True,
                                  exclude=["/metrics", "/health"])
    # the process logged JSON at the service's level before this app was built: Litestar's own
    # logging configuration would replace it (plain text, INFO) for everything the mailer says
    return Litestar(route_handlers=[live, ready, Metrics], lifespan=[lifespan],
                    middleware=[prometheus.middleware], logging_config=None,
                    on_startup=[lambda: setup_logging(settings)])
