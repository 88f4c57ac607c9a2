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
    """Install the process's tracer provider (once) and instrument pymongo."""
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
        from opentelemetry.instrumentation.pymongo import PymongoInstrumentor

        PymongoInstrumentor().instrument()
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
    for noisy in ("aiokafka", "faststream", "pymongo", "uvicorn.access"):
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
    tracer, instrumentation = found
    parent = _parent_of(traceparent)
    parent_context = trace.set_span_in_context(NonRecordingSpan(parent)) if parent else None
    trace_id = parent.trace_id if parent else tracer.id_generator.generate_trace_id()
    decision = tracer.sampler.should_sample(parent_context, trace_id, name, kind, attributes,
                                            links)
    sampled = TraceFlags(TraceFlags.SAMPLED if decision.decision is Decision.RECORD_AND_SAMPLE
                         else TraceFlags.DEFAULT)
    context = SpanContext(trace_id, tracer.id_generator.generate_span_id(), is_remote=False,
                          trace_flags=sampled, trace_state=decision.trace_state)
    token = attach(trace.set_span_in_context(NonRecordingSpan(context)))
    start = time.time_ns()
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
        if decision.decision is not Decision.DROP:
            tracer.span_processor.on_end(ReadableSpan(
                name=name, context=context, parent=parent, resource=tracer.resource,
                attributes={**attributes, **dict(decision.attributes or {})}, events=events,
                links=tuple(links), kind=kind, status=status, start_time=start,
                end_time=time.time_ns(), instrumentation_scope=instrumentation))


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
