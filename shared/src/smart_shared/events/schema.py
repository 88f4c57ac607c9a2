"""JSON Schema export of the event catalogue."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from smart_shared.events.catalogue import EVENT_TYPES


def event_schemas() -> dict[str, dict[str, Any]]:
    """The JSON Schema of every event, by CloudEvents type."""
    schemas: dict[str, dict[str, Any]] = {}
    for event in EVENT_TYPES:
        schema = event.model_json_schema(mode="serialization")
        schema["$id"] = f"https://smart.coop/schemas/{event.ce_type()}.json"
        schema["x-topic"] = event.topic
        schema["x-key"] = event.aggregate_field
        schemas[event.ce_type()] = schema
    return schemas


def write_schemas(folder: Path) -> list[Path]:
    """Write one ``<ce_type>.json`` file per event into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for ce_type, schema in event_schemas().items():
        path = folder / f"{ce_type}.json"
        path.write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n")
        written.append(path)
    return written
