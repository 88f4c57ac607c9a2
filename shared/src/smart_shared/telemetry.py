"""OpenTelemetry traces and JSON logs.

Spans go to an OTLP collector when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set (Jaeger in
docker-compose), and to ``$SMART_HOME/traces/<service>.jsonl`` locally so ``smart trace`` can print
a contract's trace as a tree without a collector. Every log line is JSON with the trace id.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from smart_shared.settings import Settings

_configured = False


class JsonLinesSpanExporter(SpanExporter):
    """Appends finished spans to a JSON-lines file, one span per line."""

    def __init__(self, path: Path, service: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._path = path
        self._service = service
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        lines = []
        for span in spans:
            ctx = span.get_span_context()
            if ctx is None:
                continue
            lines.append(json.dumps({
                "trace_id": format(ctx.trace_id, "032x"),
                "span_id": format(ctx.span_id, "016x"),
                "parent_id": format(span.parent.span_id, "016x") if span.parent else None,
                "name": span.name,
                "service": self._service,
                "kind": span.kind.name,
                "start": span.start_time,
                "end": span.end_time,
                "attributes": {k: str(v) for k, v in (span.attributes or {}).items()},
                "links": [
                    {"trace_id": format(link.context.trace_id, "032x"),
                     "span_id": format(link.context.span_id, "016x")}
                    for link in span.links
                ],
            }))
        with self._lock, self._path.open("a") as out:
            out.write("".join(line + "\n" for line in lines))
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        return None


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
        provider.add_span_processor(
            BatchSpanProcessor(JsonLinesSpanExporter(path, settings.service))
        )
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
    later for it (a scheduled transition) continues the same trace."""
    from opentelemetry import propagate

    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get("traceparent")


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
