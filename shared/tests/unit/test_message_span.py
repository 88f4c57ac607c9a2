"""The span of one message (``message_span``): the child of the message's ``traceparent``,
current while it is handled, recorded by the provider's processors and in the trace file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import Link, SpanKind, StatusCode
from smart_shared.settings import Settings
from smart_shared.telemetry import (
    JsonLinesSpanProcessor,
    current_traceparent,
    message_span,
    setup_tracing,
)
from smart_shared.traces import read_spans
from smart_testing import recorded_spans

TRACE = "0af7651916cd43dd8448eb211c80319c"
PARENT = "b7ad6b7169203331"


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> TracerProvider:
    """The process's provider (installed here unless a service built earlier did)."""
    return setup_tracing(Settings(SMART_SERVICE="toy",
                                  SMART_HOME=str(tmp_path_factory.mktemp("home"))))


@pytest.fixture
def trace_file(provider: TracerProvider, tmp_path: Path) -> Iterator[Path]:
    """A trace file of its own, written by the processor a service installs."""
    path = tmp_path / "traces" / "toy.jsonl"
    processor = JsonLinesSpanProcessor(path, "toy")
    provider.add_span_processor(processor)
    yield path
    processor.shutdown()  # it stays on the provider and writes nothing more


def test_the_span_continues_the_message_trace_and_is_current_while_it_is_handled(
    trace_file: Path,
) -> None:
    cause = trace.SpanContext(int("1" * 32, 16), int("2" * 16, 16), is_remote=False)
    with recorded_spans() as spans, message_span(
        "smart.consumer", "ContractSigned process", f"00-{TRACE}-{PARENT}-01",
        SpanKind.CONSUMER, {"smart.aggregate_id": "c-1"}, [Link(cause)],
    ):
        inside = current_traceparent()
        with trace.get_tracer("toy").start_as_current_span("child"):
            pass
    child, span = spans.get_finished_spans()
    assert span.name == "ContractSigned process" and span.kind is SpanKind.CONSUMER
    assert span.context is not None and span.parent is not None
    assert (span.context.trace_id, span.parent.span_id) == (int(TRACE, 16), int(PARENT, 16))
    assert inside == f"00-{TRACE}-{span.context.span_id:016x}-01"
    assert child.parent is not None and child.parent.span_id == span.context.span_id
    assert dict(span.attributes or {}) == {"smart.aggregate_id": "c-1"}
    assert [link.context for link in span.links] == [cause]
    assert span.start_time is not None and span.end_time is not None
    assert span.start_time <= span.end_time
    assert span.instrumentation_scope is not None
    assert span.instrumentation_scope.name == "smart.consumer"

    trace.get_tracer_provider().force_flush()  # type: ignore[attr-defined]
    assert trace_file.exists()
    [line] = [s for s in read_spans(trace_file.parent)
              if s["span_id"] == f"{span.context.span_id:016x}"]
    assert line == {
        "trace_id": TRACE, "span_id": f"{span.context.span_id:016x}", "parent_id": PARENT,
        "name": "ContractSigned process", "service": "toy", "kind": "CONSUMER",
        "start": span.start_time, "end": span.end_time,
        "attributes": {"smart.aggregate_id": "c-1"},
        "links": [{"trace_id": "1" * 32, "span_id": "2" * 16}]}


def test_a_message_without_a_trace_starts_one(provider: TracerProvider) -> None:
    for traceparent in (None, "", "00-zz-yy-01", f"00-{'0' * 32}-{PARENT}-01",
                        f"00-{TRACE.upper()}-{PARENT}-01"):
        with recorded_spans() as spans, message_span(
            "smart.outbox", "X send", traceparent, SpanKind.PRODUCER, {},
        ):
            pass
        [span] = spans.get_finished_spans()
        assert span.parent is None and span.context is not None
        assert span.context.trace_id not in (0, int(TRACE, 16)), traceparent


def test_a_message_whose_trace_is_not_sampled_records_nothing_and_passes_that_on(
    provider: TracerProvider,
) -> None:
    with recorded_spans() as spans, message_span(
        "smart.consumer", "X process", f"00-{TRACE}-{PARENT}-00", SpanKind.CONSUMER, {},
    ):
        inside = current_traceparent()
    assert spans.get_finished_spans() == ()
    assert inside is not None and inside.startswith(f"00-{TRACE}-") and inside.endswith("-00")


def test_a_failure_is_recorded_on_the_span_and_raised(provider: TracerProvider) -> None:
    with (recorded_spans() as spans, pytest.raises(LookupError),
          message_span("smart.consumer", "X process", None, SpanKind.CONSUMER, {})):
        raise LookupError("no such contract")
    [span] = spans.get_finished_spans()
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "LookupError: no such contract"
    [event] = span.events
    assert event.name == "exception"
    assert dict(event.attributes or {}) == {"exception.type": "LookupError",
                                            "exception.message": "no such contract"}
    assert current_traceparent() is None


def test_the_current_traceparent_is_the_one_the_w3c_propagator_writes(
        provider: TracerProvider) -> None:
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    w3c = TraceContextTextMapPropagator()
    assert current_traceparent() is None  # no span: nothing to continue
    for flags in ("01", "00"):  # sampled, and not
        with message_span("smart.consumer", "ContractSigned process",
                          f"00-{TRACE}-{PARENT}-{flags}", SpanKind.CONSUMER, {}, []):
            carrier: dict[str, str] = {}
            w3c.inject(carrier)
            assert current_traceparent() == carrier["traceparent"]
            assert current_traceparent().startswith(f"00-{TRACE}-")  # type: ignore[union-attr]
