"""CloudEvents 1.0 binary mode over Kafka: attributes in ``ce_*`` headers, the event as the body."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from pydantic import ValidationError

from smart_shared.events.base import Event
from smart_shared.events.catalogue import BY_CE_TYPE

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"
REQUIRED_HEADERS = ("ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "ce_subject")


class MalformedEvent(Exception):
    """A message that can never be handled as it is (a poison message): dead-letter it."""


class UnknownEventType(Exception):
    """A well-formed event of a type this consumer does not know (a newer producer): skip it."""


@dataclass(frozen=True)
class Envelope:
    """The CloudEvents attributes of one message."""

    id: str
    source: str
    type: str
    time: str
    subject: str
    traceparent: str | None = None
    tracestate: str | None = None


def source_for(event: Event) -> str:
    return f"/smart/{event.branch}/{event.service}"


def encode(
    event: Event, event_id: str, traceparent: str | None = None, tracestate: str | None = None
) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    """The Kafka key, value and headers that carry ``event``."""
    headers = [
        ("ce_specversion", SPEC_VERSION),
        ("ce_id", event_id),
        ("ce_source", source_for(event)),
        ("ce_type", event.ce_type()),
        ("ce_time", event.occurred_at.isoformat()),
        ("ce_subject", event.aggregate_id),
        ("content-type", CONTENT_TYPE),
    ]
    if traceparent:
        headers.append(("traceparent", traceparent))
    if tracestate:
        headers.append(("tracestate", tracestate))
    encoded = [(name, value.encode()) for name, value in headers]
    return event.aggregate_id.encode(), event.model_dump_json().encode(), encoded


def header_map(headers: Iterable[tuple[str, bytes | None]] | Mapping[str, str]) -> dict[str, str]:
    """Kafka headers as a dict of text values (the last one wins on repeats)."""
    if isinstance(headers, Mapping):
        return dict(headers)
    result: dict[str, str] = {}
    for name, value in headers:
        if value is not None:
            result[name] = value.decode("utf-8", errors="replace")
    return result


def read_envelope(headers: Mapping[str, str]) -> Envelope:
    """The envelope of a message, or ``MalformedEvent`` naming the missing header."""
    missing = [h for h in REQUIRED_HEADERS if not headers.get(h)]
    if missing:
        raise MalformedEvent(f"missing CloudEvents headers: {', '.join(missing)}")
    if headers["ce_specversion"] != SPEC_VERSION:
        raise MalformedEvent(f"unsupported ce_specversion {headers['ce_specversion']!r}")
    try:
        datetime.fromisoformat(headers["ce_time"])
    except ValueError:
        raise MalformedEvent(f"ce_time {headers['ce_time']!r} is not an RFC 3339 time") from None
    return Envelope(
        id=headers["ce_id"],
        source=headers["ce_source"],
        type=headers["ce_type"],
        time=headers["ce_time"],
        subject=headers["ce_subject"],
        traceparent=headers.get("traceparent"),
        tracestate=headers.get("tracestate"),
    )


def decode(headers: Mapping[str, str], body: bytes | None) -> tuple[Envelope, Event]:
    """Read one message: ``UnknownEventType`` to skip, ``MalformedEvent`` to dead-letter."""
    envelope = read_envelope(headers)
    event_type = BY_CE_TYPE.get(envelope.type)
    if event_type is None:
        raise UnknownEventType(envelope.type)
    if body is None:
        raise MalformedEvent("empty body")
    try:
        event = event_type.model_validate_json(body)
    except ValidationError as error:
        raise MalformedEvent(f"invalid {envelope.type} body: {error}") from None
    if event.aggregate_id != envelope.subject:
        raise MalformedEvent(
            f"ce_subject {envelope.subject!r} is not the aggregate id {event.aggregate_id!r}"
        )
    return envelope, event
