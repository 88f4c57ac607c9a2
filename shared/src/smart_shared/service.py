"""The service builder: one call gives a service its Litestar app and FastStream broker, wired.

    service = build_service(
        "billing", port=8003,              # its own port, unless SMART_SERVICE_PORT says another
        controllers=[InvoiceController],
        handlers=handlers,                 # EventHandlers: the events it consumes
        indexes=create_indexes,            # its own MongoDB indexes
        jobs=lambda platform: [ScheduledJob("overdue", ...)],
    )
    app = service.app

The app gets ``/health/live``, ``/health/ready`` (MongoDB and Kafka reachable, the consumer owning
partitions and not stalled, the outbox relay moving), ``/metrics``,
OpenAPI at ``/schema/openapi.json``, RFC 9457 problems, JWT auth (``principal`` dependency),
OpenTelemetry for HTTP, Kafka and pymongo, JSON logs, the outbox relay, the batch consumer and the
scheduler. Controllers receive ``platform: Platform`` and ``principal: Principal``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from faststream.middlewares import AckPolicy
from litestar import Litestar, Response, get
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.plugins.opentelemetry import OpenTelemetryConfig, OpenTelemetryPlugin
from litestar.plugins.prometheus import PrometheusConfig
from litestar.types import ControllerRouterHandler
from pydantic import BaseModel
from pymongo.asynchronous.database import AsyncDatabase

from smart_shared.auth import current_principal, has_valid_token, token_keys_of
from smart_shared.clock import Clock, SharedClock, SystemClock
from smart_shared.consumer import BatchConsumer, ConsumerWatch, EventHandlers
from smart_shared.deadletters import DeadLetters
from smart_shared.events import TOPICS
from smart_shared.guards import TokenBuckets, rate_limit, request_guard
from smart_shared.mail import AttachmentSource, MailRelay, create_mail_indexes
from smart_shared.mail.render import MailRules
from smart_shared.mailer import mail_relay, mailer_app
from smart_shared.metrics import Metrics, settle_heap, watch_garbage_collector
from smart_shared.mongo import Database, Document, connect
from smart_shared.openapi import describe_operations, problems, security_schemes
from smart_shared.outbox import PRODUCER_OPTIONS, KafkaSender, OutboxRelay
from smart_shared.problems import EXCEPTION_HANDLERS, PROBLEM_JSON
from smart_shared.replica import Incarnation, end_predecessor_transactions
from smart_shared.rulepacks import check_rule_packs, use_deployment_packs
from smart_shared.scheduler import ScheduledJob, Scheduler
from smart_shared.settings import Settings
from smart_shared.telemetry import setup_logging, setup_tracing

log = logging.getLogger("smart.service")
MAILER_NICENESS = 10


@dataclass
class Platform:
    """What a controller, handler or job of a service works with."""

    settings: Settings
    database: Database
    clock: Clock
    broker: KafkaBroker
    relay: OutboxRelay
    consumer: BatchConsumer | None = None
    watch: ConsumerWatch | None = None
    scheduler: Scheduler | None = None
    mail: MailRelay | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    # what a start hook opened, closed first when the service stops: (what it is, how to close)
    closing: list[tuple[str, Callable[[], Awaitable[Any]]]] = field(default_factory=list)

    @property
    def db(self) -> AsyncDatabase[Document]:
        return self.database.db


IndexSetup = Callable[[AsyncDatabase[Document]], Awaitable[None]]
JobsFactory = Callable[[Platform], Sequence[ScheduledJob]]
StartHook = Callable[[Platform], Awaitable[None]]


async def create_topics(bootstrap: str, *topics: str, partitions: int = 3) -> None:
    """Create topics and their ``.dlq`` where missing (namespaced test deployments)."""
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic
    from aiokafka.errors import TopicAlreadyExistsError

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [t for topic in topics for t in (topic, f"{topic}.dlq") if t not in existing]
        if wanted:
            with contextlib.suppress(TopicAlreadyExistsError):  # another process was faster
                await admin.create_topics(
                    [NewTopic(t, num_partitions=partitions, replication_factor=1) for t in wanted]
                )
    finally:
        await admin.close()


def make_broker(settings: Settings) -> KafkaBroker:
    """A FastStream Kafka broker with the idempotent producer and Kafka tracing."""
    return KafkaBroker(
        settings.kafka_bootstrap_servers,
        **PRODUCER_OPTIONS,
        security=settings.faststream_security(),  # type: ignore[arg-type]
        middlewares=[KafkaTelemetryMiddleware()],
        client_id=f"smart-{settings.service}",
        logger=logging.getLogger("faststream"),
    )


def _route_span_details(scope: Any) -> tuple[str, dict[str, Any]]:
    """Name HTTP spans by route template, never by raw path: paths can carry secrets (a signing
    link token) and raw paths make one span name per resource."""
    route = scope.get("path_template") or scope.get("path", "")
    name = f"{scope.get('method', '')} {route}".strip()
    return name, {"http.route": route}


# each part stops well within this; one that does not is named and left behind, so a shutdown
# always ends (Kubernetes kills the pod 30 s after asking it to stop)
STOP_SECONDS = 5.0


async def _stop_within(part: str, stop: Callable[[], Awaitable[Any]]) -> bool:
    """Stop one part of the service, giving up on it after ``STOP_SECONDS``; True if it stopped."""
    stopping = asyncio.ensure_future(stop())
    done, _ = await asyncio.wait({stopping}, timeout=STOP_SECONDS)
    if not done:
        log.error("%s did not stop within %s s; the shutdown goes on without it", part,
                  STOP_SECONDS)
        for task in asyncio.all_tasks():
            if task is not asyncio.current_task():
                log.error("still running at shutdown: %r", task)
        stopping.cancel()
        return False
    if stopping.exception() is not None:  # a part that fails to stop keeps no other running
        log.error("%s failed to stop: %s", part, stopping.exception())
        return False
    return True


async def _raw_records(message: Any) -> Any:
    return message.raw_message


RESUBSCRIBE_SECONDS = 30.0
"""How long stopping, then starting, the Kafka subscription may take before the attempt is
given up (and made again at the watch's next look): aiokafka waits without end for a group
coordinator that may not come back on the connections it has."""


async def _resubscribe(subscriber: Any, timeout: float = RESUBSCRIBE_SECONDS) -> None:
    """Stop the Kafka subscription and start it again: a new consumer joins the group and reads
    on from the committed offsets (what was handled but not committed comes again; the inbox
    drops it). Each step is bounded by ``timeout``; a step that overruns raises TimeoutError."""
    try:
        await asyncio.wait_for(subscriber.stop(), timeout)
    except Exception as error:  # a consumer that cannot stop is left behind; a new one starts
        log.warning("the Kafka subscription did not stop cleanly (%r); starting a new one", error)
        for task in subscriber.tasks:  # the old consume loop must not run beside the new one
            task.cancel()
        subscriber.tasks.clear()
        subscriber.consumer = None
    await asyncio.wait_for(subscriber.start(), timeout)


class Service:
    def __init__(
        self,
        name: str,
        controllers: Sequence[ControllerRouterHandler],
        handlers: EventHandlers | None,
        indexes: IndexSetup | None,
        jobs: JobsFactory | None,
        on_start: StartHook | None,
        settings: Settings | None,
        web: Mapping[str, Any] | None = None,
        mail_attachments: Mapping[str, AttachmentSource] | None = None,
    ) -> None:
        self.name = name
        self._mail_attachments = mail_attachments
        self.settings = settings or Settings(SMART_SERVICE=name)
        if not self.settings.service:
            self.settings.service = name
        self.handlers = handlers
        self._indexes = indexes
        self._jobs = jobs
        self._on_start = on_start
        self.platform: Platform | None = None
        self.app = self._build_app(controllers, web or {})

    # ------------------------------------------------------------------ lifecycle

    @asynccontextmanager
    async def lifespan(self, app: Litestar) -> AsyncIterator[None]:
        settings = self.settings
        watch_garbage_collector()
        incarnation = Incarnation(settings.database_name, settings.replica)
        client = connect(settings.mongodb_uri, appname=incarnation.app_name,
                         **settings.mongo_options())
        await end_predecessor_transactions(client, incarnation)
        clock: Clock = (
            SharedClock(client, settings.clock_id) if settings.clock == "shared" else SystemClock()
        )
        if isinstance(clock, SharedClock):
            await clock.start()
        database = Database(client, settings.database_name, clock, self.name)
        await database.ensure_platform_indexes()
        await create_mail_indexes(database.db)
        if self._indexes:
            await self._indexes(database.db)
        broker = make_broker(settings)
        if settings.topic_namespace:
            await create_topics(settings.kafka_bootstrap_servers,
                                *(settings.topic(t) for t in TOPICS))

        async def publish_and_wait(value: bytes | None, topic: str, key: bytes | None,
                                   headers: dict[str, str]) -> Any:
            return await broker.publish(value, topic, key=key, headers=headers)

        sender = KafkaSender(settings)
        relay = OutboxRelay(database.db, sender, self.name, settings.relay_batch_size,
                            settings.relay_idle_seconds, replica=settings.replica,
                            stall_seconds=settings.stall_seconds)
        database.after_commit.append(relay.wake)
        # with a separate mailer the mails wait in the outbox for it (smart_shared.mailer)
        mail = (None if settings.separate_mailer
                else mail_relay(database.db, settings, self.name, self._mail_attachments))
        platform = Platform(settings, database, clock, broker, relay, mail=mail)
        if self.handlers and self.handlers.topics:
            platform.consumer = BatchConsumer(
                self.name, database, self.handlers, DeadLetters(publish_and_wait),
                settings.branches, settings.consumer_max_retries,
            )
            subscriber = self._subscribe(broker, platform.consumer)
            platform.watch = ConsumerWatch(
                platform.consumer, lambda: subscriber.consumer,
                partial(_resubscribe, subscriber), settings.stall_seconds,
            )
        app.state.platform = platform
        app.state.settings = settings
        self.platform = platform
        await broker.start()
        await sender.start()
        await relay.start()
        if platform.watch:
            await platform.watch.start()
        if mail:
            await mail.start()
        if self._on_start:
            await self._on_start(platform)
        if self._jobs:
            platform.scheduler = Scheduler(database.db, clock, list(self._jobs(platform)),
                                           settings.scheduler_interval_seconds,
                                           replica=settings.replica, service=self.name)
            await platform.scheduler.start()
        settle_heap()
        log.info("%s started for branches %s", self.name, ",".join(settings.branches))
        try:
            yield
        finally:
            for part, close in reversed(platform.closing):
                await _stop_within(part, close)
            if platform.scheduler:
                await _stop_within("the scheduler", platform.scheduler.stop)
            if mail:
                await _stop_within("the mail relay", mail.stop)
            if platform.watch:
                await _stop_within("the consumer watch", platform.watch.stop)
            if platform.consumer:
                await _stop_within("the offset commits", platform.consumer.commits.flush)
            await _stop_within("the outbox relay", relay.stop)
            await _stop_within("the outbox relay's producer", sender.stop)
            await _stop_within("the broker", broker.stop)
            if isinstance(clock, SharedClock):
                await _stop_within("the clock", clock.stop)
            await _stop_within("the database client", client.close)

    def _subscribe(self, broker: KafkaBroker, consumer: BatchConsumer) -> Any:
        assert self.handlers is not None
        settings = self.settings
        subscriber = broker.subscriber(
            *(settings.topic(t) for t in self.handlers.topics),
            group_id=settings.consumer_group,
            # a restarted replica takes its partitions back at once (static membership)
            group_instance_id=settings.group_instance_id,
            session_timeout_ms=settings.consumer_session_timeout_ms,
            heartbeat_interval_ms=settings.consumer_heartbeat_interval_ms,
            rebalance_timeout_ms=settings.consumer_rebalance_timeout_ms,
            batch=True,
            max_records=self.settings.consumer_batch_size,
            batch_timeout_ms=50,
            ack_policy=AckPolicy.MANUAL,
            auto_offset_reset="earliest",
            max_poll_interval_ms=600_000,
            title=f"{self.name}-consumer",
            # the batch consumer reads the raw records itself, so a malformed body reaches it
            # (and its dead-letter topic) instead of failing in FastStream's JSON decoder
            decoder=_raw_records,
        )

        @subscriber
        async def consume(message: KafkaMessage) -> None:
            raw = message.raw_message
            records = raw if isinstance(raw, tuple) else (raw,)
            if await consumer.handle_batch(records):
                # committed while the next batch is fetched and handled (OffsetCommits)
                consumer.commits.after(message.consumer, records)
            else:
                await message.nack()
                await asyncio.sleep(1)

        return subscriber

    # ------------------------------------------------------------------ HTTP

    async def _readiness(self) -> tuple[dict[str, Any], bool]:
        """What ``/health/ready`` reports: each check, and whether all of them pass."""
        platform = self.platform
        if platform is None:
            return {"service": "starting"}, False
        mongo = await platform.database.ping()
        try:
            kafka = await platform.broker.ping(timeout=2)
        except Exception:
            kafka = False
        checks: dict[str, Any] = {"mongodb": "up" if mongo else "down",
                                  "kafka": "up" if kafka else "down",
                                  "outbox_relay": platform.relay.status}
        ok = mongo and kafka and platform.relay.status != "stalled"
        if platform.watch:
            watch = platform.watch
            checks["consumer"] = watch.status
            checks["partitions"] = watch.partitions
            checks["lag"] = watch.lag
            ok = ok and watch.healthy
        return checks, ok


    async def _token_accepted(self, scope: Any, token: str) -> bool:
        if not token:
            return False
        keys = token_keys_of(scope["app"].state, self.settings)
        return await has_valid_token(self.settings, token, keys)

    def mailer_app(self) -> Litestar:
        """This service's mailer (``python -m <service> mailer``)."""
        return mailer_app(self.name, self.settings, self._mail_attachments)

    def _build_app(self, controllers: Sequence[ControllerRouterHandler],
                   web: Mapping[str, Any]) -> Litestar:
        @get("/health/live", tags=["health"], summary="The process answers")
        async def live() -> dict[str, str]:
            return {"status": "live"}

        @get("/health/ready", tags=["health"], responses=problems(503),
             summary="MongoDB and Kafka reachable, partitions owned, events and outbox moving")
        async def ready() -> Response[dict[str, Any]]:
            checks, ok = await self._readiness()
            if ok:
                return Response({"status": "ready", "checks": checks})
            return Response(
                {"type": "about:blank", "title": "Not ready", "status": 503, "checks": checks},
                status_code=503,
                media_type=PROBLEM_JSON,
            )

        @get("/asyncapi", tags=["docs"], summary="The platform's events (AsyncAPI 3, HTML)",
             media_type="text/html", include_in_schema=False)
        async def asyncapi_html() -> str:
            from smart_shared.events.asyncapi import asyncapi_document, render_html

            return render_html(asyncapi_document())

        @get("/asyncapi.json", tags=["docs"], summary="The platform's events (AsyncAPI 3)",
             include_in_schema=False)
        async def asyncapi_json() -> dict[str, Any]:
            from smart_shared.events.asyncapi import asyncapi_document

            return asyncapi_document()

        def provide_platform(state: State) -> Platform:
            return state.platform  # type: ignore[no-any-return]

        if self.handlers and self.handlers.topics:
            from smart_shared.deadletters_api import dead_letter_controller

            controllers = [*controllers,
                           dead_letter_controller(self.name, self.handlers.topics)]
        prometheus = PrometheusConfig(app_name=f"smart_{self.name}", group_path=True,
                                      exclude=["/metrics", "/health"])
        options = dict(web)
        rate_limited = options.pop("rate_limit_anonymous", True)
        app = Litestar(
            route_handlers=[live, ready, asyncapi_html, asyncapi_json, Metrics,
                            *controllers],
            dependencies={
                "platform": Provide(provide_platform, sync_to_thread=False),
                "principal": Provide(current_principal),
                **options.pop("dependencies", {}),
            },
            exception_handlers={**EXCEPTION_HANDLERS, **options.pop("exception_handlers", {})},
            lifespan=[self.lifespan],
            plugins=[OpenTelemetryPlugin(OpenTelemetryConfig(
                exclude=["/health", "/metrics"],
                # the request's server span says it all; one more span per ASGI message
                # (receive, response start, body) only costs
                exclude_spans=["receive", "send"],
                scope_span_details_extractor=_route_span_details,
            )), *options.pop("plugins", ())],
            middleware=[
                # an edge app whose callers carry no bearer token opts out: the services it
                # calls limit the person's own address (it forwards it in X-Forwarded-For)
                *([rate_limit(TokenBuckets(self.settings.public_rate_per_minute,
                                           self.settings.public_burst),
                              self._token_accepted)]
                  if rate_limited else []),
                request_guard(self.settings.max_body_bytes),
                prometheus.middleware,
                *options.pop("middleware", ()),
            ],
            request_max_body_size=self.settings.max_body_bytes,
            openapi_config=OpenAPIConfig(
                title=f"SMart {self.name}",
                version="1.0.0",
                path="/schema",
                # each operation says whether it needs the token (describe_operations)
                components=security_schemes(),
            ),
            on_startup=[lambda: setup_logging(self.settings)],
            **options,
        )
        describe_operations(app, rate_limited)
        return app


class UnsafeDeployment(RuntimeError):
    """Raised instead of starting a deployment that anyone could abuse."""


def refuse_unsafe_start(settings: Settings) -> None:
    """Outside ``SMART_ENV=local``, stop here with every reason the deployment is not safe."""
    reasons = settings.unsafe_for_production()
    if reasons:
        raise UnsafeDeployment(
            f"{settings.service or 'service'} refuses to start with SMART_ENV={settings.env}: "
            + "; ".join(reasons))


def build_service(
    name: str,
    *,
    port: int | None = None,
    controllers: Sequence[ControllerRouterHandler] = (),
    handlers: EventHandlers | None = None,
    indexes: IndexSetup | None = None,
    jobs: JobsFactory | None = None,
    on_start: StartHook | None = None,
    settings: Settings | None = None,
    web: Mapping[str, Any] | None = None,
    mail_attachments: Mapping[str, AttachmentSource] | None = None,
    rules: Mapping[str, type[BaseModel]] | None = None,
) -> Service:
    """Build a service: see the module docstring. ``web`` adds Litestar options for an edge
    application (templates, static files, its own plugins and middleware, session and CSRF);
    ``mail_attachments`` gives the mail relay the documents the service's mails attach, by kind
    (``{"invoice_pdf": read_invoice_pdf}``). ``port`` is the service's own, served unless the
    settings (``SMART_SERVICE_PORT``) name another. ``rules`` maps each rule-pack section the
    service reads to its model (``{"billing": BillingRules}``): the packs of the branches it
    serves are validated here, so a bad pack stops the start (``RulePackInvalid``)."""
    settings = settings or Settings(SMART_SERVICE=name)
    settings.service = name
    if port is not None and "port" not in settings.model_fields_set:
        settings.port = port
    use_deployment_packs(settings.rule_pack_dir)
    check_rule_packs(settings.branches, {"mail": MailRules, **(rules or {})})
    refuse_unsafe_start(settings)
    setup_tracing(settings)
    return Service(name, controllers, handlers, indexes, jobs, on_start, settings, web,
                   mail_attachments)


def run(service: Service, argv: Sequence[str] | None = None) -> None:
    """Serve ``service`` with uvicorn on the configured host and port (``python -m <service>``),
    or its mailer (``python -m <service> mailer``, see ``smart_shared.mailer``)."""
    import uvicorn

    role = list(sys.argv[1:] if argv is None else argv)
    if role not in ([], ["mailer"]):
        raise SystemExit(f"usage: python -m {service.name} [mailer]")
    if role:
        # a mail may wait a moment; the events and requests of the services beside it (on a
        # shared machine) should not wait for a mail's documents
        os.nice(MAILER_NICENESS)
    setup_logging(service.settings)
    uvicorn.run(
        service.mailer_app() if role else service.app,
        host=service.settings.host,
        port=service.settings.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
    )
