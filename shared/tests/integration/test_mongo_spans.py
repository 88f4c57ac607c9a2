"""The MongoDB commands of traced work are CLIENT spans, children of the span current when each
command starts, named and described as OpenTelemetry's pymongo instrumentation does; a failed
command's span says so; a command outside any span starts no trace."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind, StatusCode
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import OperationFailure
from smart_shared.mongo import Document, connect
from smart_shared.settings import Settings
from smart_shared.telemetry import MongoCommandSpans, setup_tracing
from smart_testing import recorded_spans

pytestmark = pytest.mark.integration

SCOPE = "test.mongodb"  # this test's own listener, apart from the process's


@pytest.fixture
async def db(toy_settings: Settings, tmp_path: Path) -> AsyncIterator[AsyncDatabase[Document]]:
    setup_tracing(Settings(SMART_SERVICE="toy", SMART_HOME=str(tmp_path)))  # type: ignore[call-arg]
    client = connect(toy_settings.mongodb_uri, event_listeners=[MongoCommandSpans(SCOPE)])
    yield client[toy_settings.database_name]
    await client.close()


def commands(finished: tuple[ReadableSpan, ...]) -> list[ReadableSpan]:
    return [span for span in finished
            if span.instrumentation_scope and span.instrumentation_scope.name == SCOPE]


async def test_the_commands_of_a_request_are_its_children_and_a_poll_outside_any_starts_none(
    db: AsyncDatabase[Document],
) -> None:
    with recorded_spans() as spans:
        await db["notes"].find_one({"_id": "a poll, outside any span"})
        with trace.get_tracer("toy").start_as_current_span("POST /v1/notes") as request:
            await db["notes"].insert_one({"_id": "n-1"})
            await db["notes"].find_one({"_id": "n-1"})
    insert, find = commands(spans.get_finished_spans())
    name = db.name
    assert [insert.name, find.name] == [f"{name}.insert", f"{name}.find"]
    parent = request.get_span_context()
    for span, statement in ((insert, "insert"), (find, "find")):
        assert span.kind is SpanKind.CLIENT
        assert span.context is not None and span.parent is not None
        assert (span.context.trace_id, span.parent.span_id) == (parent.trace_id, parent.span_id)
        assert span.attributes is not None
        assert dict(span.attributes) == {
            "db.system": "mongodb", "db.name": name, "db.statement": statement,
            "db.mongodb.collection": "notes", "net.peer.name": "127.0.0.1",
            "net.peer.port": span.attributes["net.peer.port"]}
        assert span.start_time is not None and span.end_time is not None
        assert span.start_time <= span.end_time
    assert insert.status.status_code is StatusCode.UNSET


async def test_a_command_mongodb_refuses_ends_its_span_in_error(
    db: AsyncDatabase[Document],
) -> None:
    with recorded_spans() as spans, trace.get_tracer("toy").start_as_current_span("a job"), \
            pytest.raises(OperationFailure):
        await db.command("noSuchCommand")
    (refused,) = commands(spans.get_finished_spans())
    assert refused.name == f"{db.name}.noSuchCommand"
    assert refused.status.status_code is StatusCode.ERROR
    assert "noSuchCommand" in (refused.status.description or "")
