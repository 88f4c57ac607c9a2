"""The AsyncAPI document is generated from the event catalogue and the committed copy is current."""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any

import pytest
from smart_shared.cli import main
from smart_shared.events import EVENT_TYPES, TOPICS
from smart_shared.events.asyncapi import asyncapi_document, channel_id, render_html, write_documents
from smart_shared.events.envelope import REQUIRED_HEADERS

DOCS = Path(__file__).resolve().parents[3] / "docs"
REGENERATE = "run `smart asyncapi --out docs` and commit the result"


def _committed() -> Path:
    for name in ("asyncapi.yaml", "asyncapi.json"):
        if (DOCS / name).exists():
            return DOCS / name
    pytest.fail(f"docs/asyncapi.yaml is missing: {REGENERATE}")


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for value in node.values() for r in _refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in _refs(value)]
    return []


def _resolve(doc: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = doc
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def test_committed_document_is_current(tmp_path: Path) -> None:
    written = write_documents(tmp_path)
    committed = _committed()
    fresh = tmp_path / committed.name
    assert fresh in written
    assert committed.read_text(encoding="utf-8") == fresh.read_text(encoding="utf-8"), REGENERATE
    html = DOCS / "asyncapi.html"
    assert html.exists(), REGENERATE
    assert html.read_text(encoding="utf-8") == (tmp_path / "asyncapi.html").read_text(
        encoding="utf-8"
    ), REGENERATE


def test_committed_document_parses_to_the_generated_one() -> None:
    committed = _committed()
    text = committed.read_text(encoding="utf-8")
    if committed.suffix == ".yaml":
        import yaml

        loaded = yaml.safe_load(text)
    else:
        loaded = json.loads(text)
    assert loaded == json.loads(json.dumps(asyncapi_document()))


def test_every_topic_is_a_channel_with_a_send_operation() -> None:
    doc = asyncapi_document()
    assert doc["asyncapi"].startswith("3.0")
    assert {c["address"] for c in doc["channels"].values()} == set(TOPICS)
    for topic in TOPICS:
        channel = doc["channels"][channel_id(topic)]
        operations = [
            op for op in doc["operations"].values()
            if op["channel"]["$ref"] == f"#/channels/{channel_id(topic)}"
        ]
        assert len(operations) == 1, topic
        assert operations[0]["action"] == "send"
        owners = {e.service for e in EVENT_TYPES if e.topic == topic}
        assert owners == {channel["x-owner"]}
        assert channel["bindings"]["kafka"]["topic"] == topic


def test_every_event_type_is_a_message_with_its_schema_and_docstring() -> None:
    doc = asyncapi_document()
    messages = doc["components"]["messages"]
    schemas = doc["components"]["schemas"]
    assert len(messages) == len(EVENT_TYPES)
    for event in EVENT_TYPES:
        message = messages[event.__name__]
        assert message["name"] == event.ce_type()
        assert message["description"] == inspect.cleandoc(event.__doc__ or "")
        assert message["description"], f"{event.__name__} has no docstring"
        payload = _resolve(doc, message["payload"]["$ref"])
        assert payload is schemas[event.__name__]
        expected = event.model_json_schema(mode="serialization")
        assert set(payload["properties"]) == set(expected["properties"])
        assert set(payload.get("required", [])) == set(expected.get("required", []))
        headers = message["headers"]["allOf"]
        assert _resolve(doc, headers[0]["$ref"])["required"][: len(REQUIRED_HEADERS)] == list(
            REQUIRED_HEADERS
        )
        assert headers[1]["properties"]["ce_type"]["const"] == event.ce_type()
        channel = doc["channels"][channel_id(event.topic)]
        assert event.__name__ in channel["messages"]


def test_every_reference_resolves() -> None:
    doc = asyncapi_document()
    refs = _refs(doc)
    assert refs
    for ref in refs:
        _resolve(doc, ref)


def test_html_has_a_section_per_channel_and_event() -> None:
    doc = asyncapi_document()
    page = render_html(doc)
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page and "http://" not in page.split("<body>", 1)[0]
    for topic in TOPICS:
        assert f'id="channel-{channel_id(topic)}"' in page
    for event in EVENT_TYPES:
        assert f'id="event-{event.__name__}"' in page
        assert event.ce_type() in page


def test_cli_writes_the_documents(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["asyncapi", "--out", str(tmp_path)])
    assert (tmp_path / "asyncapi.html").exists()
    assert (tmp_path / _committed().name).exists()
    assert "wrote" in capsys.readouterr().out
