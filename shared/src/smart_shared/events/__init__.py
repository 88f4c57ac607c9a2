"""The public events of the platform: catalogue, CloudEvents envelope, JSON Schema."""

from smart_shared.events.base import Branch, Event
from smart_shared.events.catalogue import *  # noqa: F403
from smart_shared.events.catalogue import BY_CE_TYPE, EVENT_TYPES, TOPICS
from smart_shared.events.envelope import (
    Envelope,
    MalformedEvent,
    UnknownEventType,
    decode,
    encode,
    header_map,
)

__all__ = [
    "BY_CE_TYPE",
    "EVENT_TYPES",
    "TOPICS",
    "Branch",
    "Envelope",
    "Event",
    "MalformedEvent",
    "UnknownEventType",
    "decode",
    "encode",
    "header_map",
]
