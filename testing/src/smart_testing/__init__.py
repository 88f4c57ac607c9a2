"""Test support: the genuine Kafka and MongoDB for integration tests, and services run in-process.

A test-only package (a dev dependency, never in a service image), loaded as a pytest plugin from
the repository's ``conftest.py``. The infrastructure comes from ``KAFKA_BOOTSTRAP_SERVERS`` /
``MONGODB_URI`` when set, else from the local launcher (``deploy/local/smartctl.py up
--infra-only``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from pymongo import monitoring
from smart_shared.consumer import BatchConsumer, EventHandlers
from smart_shared.deadletters import DeadLetters
from smart_shared.events import Event, encode
from smart_shared.ids import new_id
from smart_shared.mongo import Database, connect
from smart_shared.service import create_topics

__all__ = ["create_topics"]

T = TypeVar("T")
# a service stops well within this (its relays and consumer are cancelled, not drained)
STOP_WITHIN = 60.0


@dataclass(frozen=True)
class Infrastructure:
    kafka_bootstrap_servers: str
    mongodb_uri: str


def _repo_root() -> Path:
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "deploy" / "local" / "smartctl.py").exists():
            return folder
    raise RuntimeError("run the tests from inside the repository")


def start_infrastructure() -> Infrastructure:
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    mongo = os.environ.get("MONGODB_URI")
    if bootstrap and mongo:
        return Infrastructure(bootstrap, mongo)
    root = _repo_root()
    subprocess.run(
        [sys.executable, str(root / "deploy" / "local" / "smartctl.py"), "up", "--infra-only"],
        check=True,
    )
    env = subprocess.run(
        [sys.executable, str(root / "deploy" / "local" / "smartctl.py"), "env"],
        check=True, capture_output=True, text=True,
    )
    import json

    values = json.loads(env.stdout)
    os.environ.setdefault("KAFKA_BOOTSTRAP_SERVERS", values["KAFKA_BOOTSTRAP_SERVERS"])
    os.environ.setdefault("MONGODB_URI", values["MONGODB_URI"])
    return Infrastructure(values["KAFKA_BOOTSTRAP_SERVERS"], values["MONGODB_URI"])


@pytest.fixture(scope="session")
def infrastructure() -> Iterator[Infrastructure]:
    """The genuine Kafka broker and mongod replica set the integration tests talk to."""
    infra = start_infrastructure()
    os.environ["KAFKA_BOOTSTRAP_SERVERS"] = infra.kafka_bootstrap_servers
    os.environ["MONGODB_URI"] = infra.mongodb_uri
    yield infra


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def unique_name(prefix: str) -> str:
    """A name no other test run uses (databases, topics, consumer groups)."""
    return f"{prefix}_{new_id().replace('-', '')[-12:]}"


@asynccontextmanager
async def serving(app: Any, port: int | None = None) -> AsyncIterator[str]:
    """Serve an ASGI app with uvicorn in this event loop; yields its base URL."""
    import uvicorn

    port = port or free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False,
                            lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("server stopped during start-up")
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        try:
            await asyncio.wait_for(asyncio.shield(task), STOP_WITHIN)
        except TimeoutError:
            # say what the service is still waiting for, instead of a bare test timeout
            for other in asyncio.all_tasks():
                if other is not asyncio.current_task():
                    other.print_stack(file=sys.stderr)
            raise AssertionError(f"the service did not stop within {STOP_WITHIN} s") from None


async def eventually(check: Any, timeout: float = 30.0, interval: float = 0.2) -> Any:
    """Await ``check()`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last: {result!r})")
        await asyncio.sleep(interval)


def isolated_settings(service: str, **overrides: Any) -> Any:
    """Settings of a private deployment of ``service``: its own database, consumer group, topic
    namespace and shared clock, so tests running side by side never see each other's events."""
    from smart_shared.settings import Settings

    values: dict[str, Any] = {
        "SMART_SERVICE": service,
        "SMART_MONGODB_DATABASE": unique_name(service),
        "SMART_DEPLOYMENT": unique_name("t"),
        "SMART_TOPIC_NAMESPACE": unique_name("t") + ".",
        "SMART_CLOCK": "shared",
        "SMART_CLOCK_ID": unique_name("clock"),
        "SMART_LOCAL_TRACES": "false",
        # a test is one client address sending many unauthenticated requests
        "SMART_PUBLIC_RATE_PER_MINUTE": 1_000_000,
        "SMART_PUBLIC_BURST": 100_000,
    }
    values.update(overrides)
    settings = Settings(**values)
    _ISOLATED.append(settings)
    return settings


# every private deployment this test run set up, forgotten when the run ends
_ISOLATED: list[Any] = []


@pytest.fixture(scope="session", autouse=True)
def forget_isolated_deployments() -> Iterator[None]:
    """Drop the databases, topics and clocks of every ``isolated_settings`` deployment when
    the test run ends: a run leaves nothing behind in the shared mongod and broker."""
    yield
    by_target: dict[tuple[str, str], list[Any]] = {}
    for settings in _ISOLATED:
        by_target.setdefault((settings.mongodb_uri, settings.kafka_bootstrap_servers),
                             []).append(settings)
    _ISOLATED.clear()
    for (mongodb_uri, kafka), deployments in by_target.items():
        with contextlib.suppress(Exception):  # an infrastructure already stopped keeps nothing
            asyncio.run(_forget_all(mongodb_uri, kafka, deployments))


async def _forget_all(mongodb_uri: str, kafka: str, deployments: list[Any]) -> None:
    from smart_shared.clock import CLOCK_DATABASE, CLOCK_DOCUMENT

    databases = {d.database_name for d in deployments}
    namespaces = {d.topic_namespace for d in deployments if d.topic_namespace}
    await forget_deployment(mongodb_uri, kafka, databases, tuple(namespaces))
    client = connect(mongodb_uri)
    try:
        await client[CLOCK_DATABASE][CLOCK_DOCUMENT].delete_many(
            {"_id": {"$in": [d.clock_id for d in deployments]}})
    finally:
        await client.close()


class EventWire:
    """The Kafka side of a service under test: sends it other services' events exactly as the
    platform does (CloudEvents over the namespaced topics) and records what it publishes.

        async with EventWire(settings, FUND_TOPIC) as wire:
            await wire.send(contract_signed)
            granted = await wire.wait_for(GuaranteeGranted)
    """

    def __init__(self, settings: Any, *read_topics: str) -> None:
        self.settings = settings
        self._read_topics = read_topics
        self.published: list[tuple[dict[str, str], Any]] = []
        self._producer: Any = None
        self._consumer: Any = None
        self._reader: asyncio.Task[None] | None = None

    async def __aenter__(self) -> EventWire:
        from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
        from smart_shared.events import TOPICS

        bootstrap = self.settings.kafka_bootstrap_servers
        await create_topics(bootstrap, *(self.settings.topic(t) for t in TOPICS))
        self._producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
        await self._producer.start()
        if self._read_topics:
            self._consumer = AIOKafkaConsumer(
                *(self.settings.topic(t) for t in self._read_topics),
                bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                enable_auto_commit=False,
            )
            await self._consumer.start()
            self._reader = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._reader:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._consumer:
            await self._consumer.stop()
        await self._producer.stop()

    async def _read(self) -> None:
        from smart_shared.events import decode, header_map

        async for record in self._consumer:
            headers = header_map(record.headers or [])
            self.published.append((headers, decode(headers, record.value)[1]))

    async def send(self, *events: Any, event_id: str | None = None) -> list[str]:
        """Publish events (in order) as their owning service would; returns their ids."""
        from smart_shared.events import encode

        ids = []
        for event in events:
            ident = event_id or new_id()
            key, value, headers = encode(event, ident)
            await self._producer.send(self.settings.topic(event.topic), value, key=key,
                                      headers=headers)
            ids.append(ident)
        await self._producer.flush()
        return ids

    def events(self, of_type: type[T] | None = None) -> list[T]:
        """What the service published so far, optionally of one type."""
        return [e for _, e in self.published if of_type is None or isinstance(e, of_type)]

    async def wait_for(self, of_type: type[T], count: int = 1, timeout: float = 30.0,
                       where: Any = None) -> list[T]:
        """Wait until ``count`` events of ``of_type`` (matching ``where``) were published."""

        async def enough() -> list[T] | None:
            found = [e for e in self.events(of_type) if where is None or where(e)]
            return found if len(found) >= count else None

        result: list[T] = await eventually(enough, timeout=timeout)
        return result


class Mailpit:
    """A private Mailpit (genuine SMTP server and its REST API) on free ports.

        mailpit.settings()                  # SMART_SMTP_* overrides for a service under test
        await mailpit.wait_for("a@b.be")    # the summaries of the mails that reached a@b.be
        await mailpit.message(summary["ID"])  # one mail: headers, text, HTML, attachments
    """

    def __init__(self, binary: Path, folder: Path) -> None:
        self.binary = binary
        self.folder = folder
        self.smtp_port = free_port()
        self.http_port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def start(self) -> None:
        """Start (or restart after ``stop``) on the same ports, keeping what was received."""
        smartctl = _launcher()
        cfg = smartctl.Config(home=self.folder)
        argv = smartctl.mailpit_argv(cfg, self.smtp_port, self.http_port,
                                     self.folder / "mailpit.db")
        argv[0] = str(self.binary)
        log = open(self.folder / "mailpit.log", "ab")  # noqa: SIM115 (the process keeps it)
        self.process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL)
        for _ in range(100):
            if _port_open(self.smtp_port) and _port_open(self.http_port):
                return
            time.sleep(0.1)
        raise RuntimeError(f"Mailpit did not start: see {self.folder / 'mailpit.log'}")

    def stop(self) -> None:
        """Stop the server: SMTP is down until ``start``."""
        if self.process:
            self.process.terminate()
            self.process.wait(10)
            self.process = None

    def settings(self) -> dict[str, str]:
        """The settings that point a service's mail relay here, retrying fast."""
        return {"SMART_SMTP_HOST": "127.0.0.1", "SMART_SMTP_PORT": str(self.smtp_port),
                "SMART_MAIL_IDLE_SECONDS": "0.1", "SMART_MAIL_RETRY_SECONDS": "0.2"}

    async def _get(self, path: str) -> Any:
        import httpx

        async with httpx.AsyncClient(base_url=self.url, timeout=10) as http:
            response = await http.get(path)
            response.raise_for_status()
            return response.json() if "json" in response.headers.get("content-type", "") \
                else response.content

    async def messages(self, to: str | None = None) -> list[dict[str, Any]]:
        """Summaries of the mails received (newest first), optionally only those to ``to``."""
        found: list[dict[str, Any]] = (await self._get("/api/v1/messages?limit=1000"))[
            "messages"]
        if to is None:
            return found
        return [m for m in found if any(a["Address"] == to for a in m["To"])]

    async def message(self, ident: str) -> dict[str, Any]:
        """One mail as Mailpit parsed it (``Text``, ``HTML``, ``Attachments``, ``MessageID``)."""
        result: dict[str, Any] = await self._get(f"/api/v1/message/{ident}")
        return result

    async def headers(self, ident: str) -> dict[str, list[str]]:
        result: dict[str, list[str]] = await self._get(f"/api/v1/message/{ident}/headers")
        return result

    async def attachment(self, ident: str, part_id: str) -> bytes:
        content: bytes = await self._get(f"/api/v1/message/{ident}/part/{part_id}")
        return content

    async def wait_for(self, to: str, count: int = 1, timeout: float = 30.0,
                       subject: str | None = None) -> list[dict[str, Any]]:
        """Wait until ``count`` mails (with ``subject`` in their subject) reached ``to``."""

        async def enough() -> list[dict[str, Any]] | None:
            found = [m for m in await self.messages(to)
                     if subject is None or subject in m["Subject"]]
            return found if len(found) >= count else None

        result: list[dict[str, Any]] = await eventually(enough, timeout=timeout)
        return result


def _launcher() -> Any:
    """The local launcher's module (``deploy/local/smartctl.py``), which knows how Mailpit runs."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "smartctl", _repo_root() / "deploy" / "local" / "smartctl.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("smartctl", module)  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def mailpit_binary() -> Path:
    """Mailpit as the launcher installs it (built with Go into ``.local/cache/`` once)."""
    root = _repo_root()
    home = Path(os.environ.get("SMART_HOME", root / ".local"))
    binary = home / "cache" / "mailpit" / "bin" / "mailpit"
    if not binary.exists():
        subprocess.run([sys.executable, str(root / "deploy" / "local" / "smartctl.py"),
                        "install", "mailpit"], check=True)
    return binary


@pytest.fixture(scope="session")
def mailpit(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mailpit]:
    """A private Mailpit on free ports for the whole test session."""
    server = Mailpit(mailpit_binary(), tmp_path_factory.mktemp("mailpit"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


class CommandCounter(monitoring.CommandListener):
    """Counts the MongoDB commands a client sends (a round trip each), by command name.

    Pass it to the client: ``connect(uri, event_listeners=[counter])``; then
    ``counter.reset()`` before the work and read ``counter.total`` (or ``counter.by_name``)
    after. Connection chatter (handshakes, heartbeats, session ends) is not counted.
    """

    _IGNORED = frozenset({"hello", "ismaster", "isMaster", "endSessions", "ping", "saslStart",
                          "saslContinue", "killCursors"})

    def __init__(self) -> None:
        self.by_name: Counter[str] = Counter()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name not in self._IGNORED:
            self.by_name[event.command_name] += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass

    def reset(self) -> None:
        self.by_name.clear()

    @property
    def total(self) -> int:
        return sum(self.by_name.values())


@dataclass
class ConsumedRecord:
    """A Kafka record as the batch consumer reads it (the fields of aiokafka's
    ``ConsumerRecord`` it uses)."""

    topic: str
    value: bytes
    headers: list[tuple[str, bytes]]
    partition: int = 0
    offset: int = 0


def consumed_records(events: Iterable[Event],
                     ids: Sequence[str] | None = None) -> list[ConsumedRecord]:
    """``events`` as the records of one partition, in order (new event ids unless given)."""
    records = []
    for offset, event in enumerate(events):
        _, value, headers = encode(event, ids[offset] if ids else new_id())
        records.append(ConsumedRecord(event.topic, value, headers, offset=offset))
    return records


@dataclass
class CountedConsumer:
    """A service's batch consumer on a client that counts MongoDB commands."""

    consumer: BatchConsumer
    counter: CommandCounter

    async def handle(self, events: Iterable[Event],
                     ids: Sequence[str] | None = None) -> dict[str, int]:
        """Handle ``events`` as one batch; the commands it sent, by name."""
        records = consumed_records(events, ids)
        self.counter.reset()
        assert await self.consumer.handle_batch(records), "the batch was rewound"
        return dict(self.counter.by_name)


@asynccontextmanager
async def counted_consumer(mongodb_uri: str, service: str, database: Database,
                           handlers: EventHandlers,
                           branches: Iterable[str]) -> AsyncIterator[CountedConsumer]:
    """The batch consumer of ``service`` on ``database`` (its name and clock) through a client
    of its own that counts commands; nothing may be dead-lettered."""

    async def refuse(*args: Any) -> None:
        raise AssertionError(f"dead-lettered: {args}")

    counter = CommandCounter()
    client = connect(mongodb_uri, event_listeners=[counter])
    try:
        counted = Database(client, database.db.name, database.clock)
        yield CountedConsumer(
            BatchConsumer(service, counted, handlers, DeadLetters(refuse), branches), counter)
    finally:
        await client.close()


async def read_topic(kafka_bootstrap_servers: str, topic: str) -> list[Any]:
    """Every record of ``topic`` from its beginning, read by a consumer of no group."""
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(topic, bootstrap_servers=kafka_bootstrap_servers,
                                auto_offset_reset="earliest", enable_auto_commit=False)
    await consumer.start()
    records: list[Any] = []
    try:
        while batch := await consumer.getmany(timeout_ms=1500):
            for part in batch.values():
                records.extend(part)
    finally:
        await consumer.stop()
    return records


async def forget_deployment(mongodb_uri: str, kafka_bootstrap_servers: str,
                            databases: Iterable[str], topic_namespace: str | tuple[str, ...],
                            ) -> None:
    """Drop a test deployment's databases and delete its namespaced topics (nothing else), so
    a test run leaves nothing behind in the shared mongod and broker."""
    from aiokafka.admin import AIOKafkaAdminClient

    client = connect(mongodb_uri)
    try:
        for name in databases:
            await client.drop_database(name)
    finally:
        await client.close()
    if not topic_namespace:
        return  # never the canonical topics
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap_servers)
    await admin.start()
    try:
        # str.startswith takes one namespace or a tuple of them
        mine = [t for t in await admin.list_topics() if t.startswith(topic_namespace)]
        if mine:
            await admin.delete_topics(mine)
    except Exception:  # leaving namespaced topics behind harms nobody
        pass
    finally:
        await admin.close()


@contextlib.contextmanager
def recorded_spans() -> Iterator[Any]:
    """The spans this process finishes while the block runs, as an ``InMemorySpanExporter``
    (build the service first: it installs the tracer provider)."""
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    provider = trace.get_tracer_provider()
    assert isinstance(provider, TracerProvider), "build the service before recording its spans"
    spans = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    try:
        yield spans
    finally:
        spans.shutdown()  # the processor stays on the provider but records nothing more


def trace_id_of(traceparent: str) -> int:
    """The trace id of a W3C ``traceparent``, as OpenTelemetry's span contexts hold it."""
    return int(traceparent.split("-")[1], 16)


def links_to(span: Any, traceparent: str) -> bool:
    """Whether ``span`` has a link to the span that ``traceparent`` names."""
    _, trace_id, span_id, _ = traceparent.split("-")
    return any(link.context.trace_id == int(trace_id, 16)
               and link.context.span_id == int(span_id, 16) for link in span.links)
