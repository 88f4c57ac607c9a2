"""OpenTelemetry traces and JSON logs.

Spans go to an OTLP collector when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set (Jaeger in
docker-compose), and to ``$SMART_HOME/traces/<service>.jsonl`` locally so ``smart trace`` can print
a contract's trace as a tree without a collector. Every log line is JSON with the trace id.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from opentelemetry import trace
from opentelemetry.context import attach, detach
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan, SpanProcessor, Tracer, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import Decision
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import (
    Link,
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
)
from pymongo import monitoring

from smart_shared.settings import Settings

_configured = False
_UNSET = Status(StatusCode.UNSET)


_ENCODE = json.JSONEncoder(ensure_ascii=False).encode
_LINE = ('{"trace_id": "%032x", "span_id": "%016x", "parent_id": %s, "name": %s, '
         '"service": %s, "kind": "%s", "start": %d, "end": %d, "attributes": %s, '
         '"links": [%s]}\n')
_LINK = '{"trace_id": "%032x", "span_id": "%016x"}'


class JsonLinesSpanProcessor(SpanProcessor):
    """Appends finished spans to a JSON-lines file, one span per line, written by a thread of
    its own every ``interval`` seconds (and on flush and shutdown).

    A span's end costs one list append; the lines are formatted in the writer's batch. (The
    SDK's batch processor with an exporter cost twice as much per span here: a queue, a
    condition, a copy per span and ``json.dumps`` of a dict each.)"""

    def __init__(self, path: Path, service: str, interval: float = 1.0) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._path = path
        self._service = _ENCODE(service)
        self._pending: list[ReadableSpan] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._interval = interval
        self._writer = threading.Thread(target=self._run, name="smart-trace-file", daemon=True)
        self._writer.start()

    def on_end(self, span: ReadableSpan) -> None:
        if not self._stopping.is_set():
            self._pending.append(span)  # atomic: the writer swaps the list under its lock

    def _run(self) -> None:
        while not self._stopping.wait(self._interval):
            self._write()

    def _write(self) -> None:
        with self._lock:
            spans, self._pending = self._pending, []
            lines = [self._line(span) for span in spans if span.context is not None]
            if lines:
                with self._path.open("a") as out:
                    out.write("".join(lines))

    def _line(self, span: ReadableSpan) -> str:
        context, parent, attributes = span.context, span.parent, span.attributes
        assert context is not None
        return _LINE % (
            context.trace_id, context.span_id,
            f'"{parent.span_id:016x}"' if parent else "null",
            _ENCODE(span.name), self._service, span.kind.name, span.start_time or 0,
            span.end_time or 0,
            _ENCODE({k: str(v) for k, v in attributes.items()}) if attributes else "{}",
            ", ".join(_LINK % (link.context.trace_id, link.context.span_id)
                      for link in span.links),
        )

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        self._write()
        return True

    def shutdown(self) -> None:
        self._stopping.set()
        self._writer.join(timeout=5)
        self._write()


def setup_tracing(settings: Settings) -> TracerProvider:
    """Install the process's tracer provider (once) and trace the MongoDB commands."""
    global _configured
    current = trace.get_tracer_provider()
    if _configured and isinstance(current, TracerProvider):
        return current
    provider = TracerProvider(resource=Resource.create({
        "service.name": f"smart-{settings.service}",
        "service.namespace": "smart",
        "deployment.environment": settings.deployment,
    }))
    if settings.otel_exporter_otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    if settings.local_traces:
        path = settings.home / "traces" / f"{settings.service}.jsonl"
        provider.add_span_processor(JsonLinesSpanProcessor(path, settings.service))
    trace.set_tracer_provider(provider)
    if settings.trace_mongo:
        monitoring.register(MongoCommandSpans())
    _configured = True
    return provider


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with the current trace and span ids."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self._service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "service": self._service,
            "logger": record.name,
            "message": record.getMessage(),
        }
        ctx = trace.get_current_span().get_span_context()
        if ctx.is_valid:
            entry["trace_id"] = format(ctx.trace_id, "032x")
            entry["span_id"] = format(ctx.span_id, "016x")
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def setup_logging(settings: Settings) -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter(settings.service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    # fontTools says at INFO each table it prunes from a font it cuts
    for noisy in ("aiokafka", "faststream", "pymongo", "uvicorn.access", "fontTools"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def current_traceparent() -> str | None:
    """The W3C ``traceparent`` of the current span: store it on an aggregate so that work started
    later for it (a scheduled transition) continues the same trace.

    Written from the span's context as the W3C propagator writes it, without asking every
    configured propagator (baggage too) to fill a carrier: once per event a batch publishes."""
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{int(context.trace_flags):02x}"


_TRACEPARENT = re.compile(r"00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")


def _parent_of(traceparent: str | None) -> SpanContext | None:
    """The span context of a W3C ``traceparent`` (version 00), or None if it is not one."""
    found = _TRACEPARENT.fullmatch(traceparent) if traceparent else None
    if found is None:
        return None
    trace_id, span_id = int(found[1], 16), int(found[2], 16)
    if not trace_id or not span_id:
        return None
    return SpanContext(trace_id, span_id, is_remote=True,
                       trace_flags=TraceFlags(int(found[3], 16)))


_tracers: dict[tuple[int, str], tuple[Tracer, InstrumentationScope]] = {}


def _sdk_tracer(scope: str) -> tuple[Tracer, InstrumentationScope] | None:
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        return None
    key = (id(provider), scope)
    found = _tracers.get(key)
    if found is None:
        tracer = provider.get_tracer(scope)
        if not isinstance(tracer, Tracer):
            return None
        found = _tracers[key] = (tracer, InstrumentationScope(scope))
    return found


@contextmanager
def message_span(scope: str, name: str, traceparent: str | None, kind: SpanKind,
                 attributes: dict[str, str], links: Sequence[Link] = ()) -> Iterator[None]:
    """The span of one message (an event processed, an outbox row sent): the child of
    ``traceparent``, current while the block runs, its exception recorded, handed to the tracer
    provider's processors when it ends.

    What ``tracer.start_as_current_span`` does, with the same sampler, ids and processors,
    for a third of its cost: the block sees a non-recording span carrying the new span's
    context (so ``current_traceparent``, child spans and injected headers follow it), and the
    finished span is built once, read-only. It is what every message of a batch pays, so it is
    worth it there; the processors' ``on_start`` is not called."""
    found = _sdk_tracer(scope)
    if found is None:  # no SDK provider: the API's no-op, as for any other span
        yield
        return
    parent = _parent_of(traceparent)
    span = _Starting(found, name, kind, parent, attributes, links)
    token = attach(trace.set_span_in_context(NonRecordingSpan(span.context)))
    status, events = _UNSET, cast(tuple[Event, ...], ())
    try:
        yield
    except Exception as error:
        status = Status(StatusCode.ERROR, f"{type(error).__name__}: {error}")
        events = (Event("exception", {"exception.type": type(error).__qualname__,
                                      "exception.message": str(error)}),)
        raise
    finally:
        detach(token)
        span.end(status, events)


class _Starting:
    """A span begun now and handed, read-only, to the provider's processors when it ends: the
    sampler's decision, ids and processors of ``tracer.start_span`` without its mutable span."""

    __slots__ = ("attributes", "context", "decision", "found", "kind", "links", "name",
                 "parent", "start")

    def __init__(self, found: tuple[Tracer, InstrumentationScope], name: str, kind: SpanKind,
                 parent: SpanContext | None, attributes: dict[str, str],
                 links: Sequence[Link] = ()) -> None:
        tracer = found[0]
        parent_context = trace.set_span_in_context(NonRecordingSpan(parent)) if parent else None
        trace_id = parent.trace_id if parent else tracer.id_generator.generate_trace_id()
        self.decision = tracer.sampler.should_sample(parent_context, trace_id, name, kind,
                                                     attributes, links)
        sampled = TraceFlags(TraceFlags.SAMPLED
                             if self.decision.decision is Decision.RECORD_AND_SAMPLE
                             else TraceFlags.DEFAULT)
        self.context = SpanContext(trace_id, tracer.id_generator.generate_span_id(),
                                   is_remote=False, trace_flags=sampled,
                                   trace_state=self.decision.trace_state)
        self.found, self.name, self.kind, self.parent = found, name, kind, parent
        self.attributes, self.links = attributes, links
        self.start = time.time_ns()

    def end(self, status: Status = _UNSET, events: tuple[Event, ...] = ()) -> None:
        if self.decision.decision is Decision.DROP:
            return
        tracer, instrumentation = self.found
        extra = self.decision.attributes
        tracer.span_processor.on_end(ReadableSpan(
            name=self.name, context=self.context, parent=self.parent, resource=tracer.resource,
            attributes={**self.attributes, **extra} if extra else self.attributes,
            events=events, links=tuple(self.links), kind=self.kind, status=status,
            start_time=self.start, end_time=time.time_ns(),
            instrumentation_scope=instrumentation))


class MongoCommandSpans(monitoring.CommandListener):
    """A CLIENT span per MongoDB command of traced work (an HTTP request, an event processed, a
    relay's send), as opentelemetry-instrumentation-pymongo names and describes it
    (``<database>.<command>``; ``db.system``, ``db.name``, ``db.statement``,
    ``db.mongodb.collection``, ``net.peer.name``, ``net.peer.port``), the child of the span
    current when the command starts.

    Built as ``message_span`` builds its spans, read-only when the command ends, instead of an
    SDK span per command: in the saga the instrumentation's spans cost about a fifth of all the
    processes' CPU. A command that runs outside any span (an outbox relay's or a scheduler's
    poll, the shared clock's read) starts no trace of its own: a trace of one poll says
    nothing an SRE follows."""

    def __init__(self, scope: str = "smart.mongodb") -> None:
        self._scope = scope
        self._open: dict[tuple[Any, int], _Starting] = {}

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        parent = trace.get_current_span().get_span_context()
        if not parent.is_valid:
            return
        found = _sdk_tracer(self._scope)
        if found is None:
            return
        name = event.command_name
        attributes = {"db.system": "mongodb", "db.name": event.database_name,
                      "db.statement": name}
        collection = event.command.get(name)
        if isinstance(collection, str) and collection:
            attributes["db.mongodb.collection"] = collection
        if event.connection_id is not None:
            attributes["net.peer.name"] = str(event.connection_id[0])
            attributes["net.peer.port"] = str(event.connection_id[1])
        self._open[(event.connection_id, event.request_id)] = _Starting(
            found, f"{event.database_name}.{name}", SpanKind.CLIENT, parent, attributes)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        span = self._open.pop((event.connection_id, event.request_id), None)
        if span is not None:
            span.end()

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        span = self._open.pop((event.connection_id, event.request_id), None)
        if span is not None:
            failure = event.failure if isinstance(event.failure, dict) else {}
            span.end(Status(StatusCode.ERROR, str(failure.get("errmsg", "Unknown error"))))


def continue_trace(name: str, traceparent: str | None, **attributes: str) -> Any:
    """A span continuing the trace of ``traceparent`` (a context manager), linked to the current
    span: a scheduler tick or a batch that starts new work for an older request."""
    from opentelemetry import propagate
    from opentelemetry.trace import Link

    current = trace.get_current_span().get_span_context()
    links = [Link(current)] if current.is_valid else []
    parent = propagate.extract({"traceparent": traceparent}) if traceparent else None
    return trace.get_tracer("smart").start_as_current_span(
        name, context=parent, links=links, attributes=attributes
    )


def start_linked_trace(name: str, *traceparents: str | None,
                       attributes: dict[str, str] | None = None, own_trace: bool = True) -> Any:
    """A span starting a trace of its own (a context manager), linked to the traces of
    ``traceparents`` (a contract's, stored on its aggregate) and to the current span (the
    request, batch or tick that started it): later work for an old contract (a payment, a
    reminder, a payment run) gets a trace of its own instead of growing the contract's without
    end. With ``own_trace=False`` the span is a child of the current one, still linked (one
    salary of a payment run)."""
    from opentelemetry import propagate
    from opentelemetry.context import Context
    from opentelemetry.trace import Link

    links = []
    for stored in traceparents:
        if stored:
            linked = trace.get_current_span(propagate.extract({"traceparent": stored}))
            if linked.get_span_context().is_valid:
                links.append(Link(linked.get_span_context(), {"smart.link": "contract"}))
    current = trace.get_current_span().get_span_context()
    if own_trace and current.is_valid:
        links.append(Link(current, {"smart.link": "cause"}))
    return trace.get_tracer("smart").start_as_current_span(
        name, context=Context() if own_trace else None, links=links, attributes=attributes or {}
    )
