"""The AsyncAPI 3.0 document of the platform, generated from the event catalogue.

Channels are the six topics, each message is one event type: its payload is the pydantic model's
JSON Schema, its headers the CloudEvents binary-mode attributes, its description the event's
docstring. ``smart asyncapi --out docs`` writes ``asyncapi.yaml`` and ``asyncapi.html``; a unit test
fails when the committed files are not what the code generates.
"""

from __future__ import annotations

import html
import inspect
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from pydantic.json_schema import models_json_schema

from smart_shared.events.base import Event
from smart_shared.events.catalogue import EVENT_TYPES, TOPICS
from smart_shared.events.envelope import CONTENT_TYPE, REQUIRED_HEADERS, SPEC_VERSION

ASYNCAPI_VERSION = "3.0.0"
KAFKA_BINDING_VERSION = "0.5.0"
PARTITIONS = 3
SCHEMA_REF = "#/components/schemas/{model}"
HEADERS_SCHEMA = "CloudEventsHeaders"

AGGREGATES = {
    "smart.members.member.v1": ("members", "member"),
    "smart.contracts.contract.v1": ("contracts", "contract"),
    "smart.billing.invoice.v1": ("billing", "invoice"),
    "smart.payroll.salary.v1": ("payroll", "salary"),
    "smart.fund.guarantee.v1": ("fund", "guarantee"),
    "smart.fund.loan.v1": ("fund", "loan"),
    "smart.collection.case.v1": ("collection", "dunning case"),
}

DESCRIPTION = """\
The public events of the SMart cooperative platform: six services (members, contracts, billing,
payroll, fund, collection) publish facts about their aggregates, and any system may subscribe.

- Transport: Kafka, CloudEvents 1.0 binary mode: the attributes travel in `ce_*` headers (see each
  message's headers), the body is the event as JSON (`content-type: application/json`), with the
  W3C `traceparent` of the request that caused it.
- One topic per aggregate stream, keyed by the aggregate id, so one aggregate's events stay in
  order. Consumers dispatch on `ce_type` and ignore types (and fields) they do not know.
- Every body carries `branch` and the aggregate's `version` (1, 2, 3…): drop stale or duplicate
  updates by comparing versions.
- Money is `{"amount": "1234.56", "currency": "EUR"}`: a decimal string, never a float.
- A change that would break an existing consumer is a new `.v2` type, never an edit.
- Failed messages go to `<topic>.dlq` with the error and the original headers.
"""


def _doc(obj: object) -> str:
    return inspect.cleandoc(obj.__doc__ or "")


def _summary(text: str) -> str:
    """The first sentence of a docstring (up to the first blank line)."""
    return " ".join(text.split("\n\n", 1)[0].split())


def channel_id(topic: str) -> str:
    """The channel id of a topic: ``smart.billing.invoice.v1`` → ``smart-billing-invoice-v1``."""
    return topic.replace(".", "-")


def _headers_schema() -> dict[str, Any]:
    properties: dict[str, Any] = {
        "ce_specversion": {"type": "string", "const": SPEC_VERSION,
                           "description": "CloudEvents specification version."},
        "ce_id": {"type": "string", "format": "uuid",
                  "description": "Unique event id (UUIDv7): consumers deduplicate on it."},
        "ce_source": {"type": "string", "pattern": r"^/smart/[A-Z]{2}/[a-z]+$",
                      "description": "/smart/{branch}/{service}: who published it."},
        "ce_type": {"type": "string", "pattern": r"^coop\.smart\.[a-z]+\.[A-Za-z]+\.v[0-9]+$",
                    "description": "coop.smart.{service}.{Event}.v{n}: what the body is."},
        "ce_time": {"type": "string", "format": "date-time",
                    "description": "When it happened, by the platform clock (RFC 3339)."},
        "ce_subject": {"type": "string",
                       "description": "The aggregate id, also the Kafka message key."},
        "content-type": {"type": "string", "const": CONTENT_TYPE},
        "traceparent": {
            "type": "string",
            "pattern": r"^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$",
            "description": "W3C Trace Context of the work that caused the event.",
        },
        "tracestate": {"type": "string", "description": "W3C Trace Context vendor state."},
    }
    return {
        "type": "object",
        "title": "CloudEvents 1.0 Kafka headers (binary mode)",
        "description": "Kafka headers of every event message; values are UTF-8 text.",
        "required": [*REQUIRED_HEADERS, "content-type"],
        "properties": properties,
    }


def _message(event: type[Event]) -> dict[str, Any]:
    description = _doc(event)
    ce_type = event.ce_type()
    return {
        "name": ce_type,
        "title": event.__name__,
        "summary": _summary(description),
        "description": description,
        "contentType": CONTENT_TYPE,
        "headers": {
            "allOf": [
                {"$ref": f"#/components/schemas/{HEADERS_SCHEMA}"},
                {
                    "type": "object",
                    "properties": {
                        "ce_type": {"const": ce_type},
                        "ce_source": {"pattern": rf"^/smart/[A-Z]{{2}}/{event.service}$"},
                    },
                },
            ]
        },
        "payload": {"$ref": SCHEMA_REF.format(model=event.__name__)},
        "bindings": {
            "kafka": {
                "key": {"type": "string",
                        "description": f"The aggregate id: the body's {event.aggregate_field}."},
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
        "x-ce-type": ce_type,
        "x-aggregate-field": event.aggregate_field,
    }


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("smart-shared")
    except PackageNotFoundError:  # pragma: no cover - running from a bare source tree
        return "0.0.0"


def asyncapi_document() -> dict[str, Any]:
    """The AsyncAPI 3.0 document of every topic and event type, as plain data."""
    by_topic: dict[str, list[type[Event]]] = defaultdict(list)
    for event in EVENT_TYPES:
        by_topic[event.topic].append(event)

    _, definitions = models_json_schema(
        [(event, "serialization") for event in EVENT_TYPES], ref_template=SCHEMA_REF
    )
    schemas: dict[str, Any] = {HEADERS_SCHEMA: _headers_schema()}
    for name in sorted(definitions.get("$defs", {})):
        schemas[name] = definitions["$defs"][name]
    for event in EVENT_TYPES:
        schemas[event.__name__]["x-ce-type"] = event.ce_type()
        schemas[event.__name__]["x-topic"] = event.topic
        schemas[event.__name__]["x-key"] = event.aggregate_field

    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for topic in TOPICS:
        events = by_topic[topic]
        service = events[0].service
        _, aggregate = AGGREGATES.get(topic, (service, topic.split(".")[2]))
        cid = channel_id(topic)
        channels[cid] = {
            "address": topic,
            "title": topic,
            "summary": f"Events of the {aggregate} aggregate, published by {service}.",
            "description": (
                f"Every event of one {aggregate}, keyed by `{events[0].aggregate_field}` so they "
                f"stay in order. Only the {service} service publishes here; failed deliveries of a "
                f"consumer go to `{topic}.dlq`."
            ),
            "servers": [{"$ref": "#/servers/local"}, {"$ref": "#/servers/compose"}],
            "messages": {
                event.__name__: {"$ref": f"#/components/messages/{event.__name__}"}
                for event in events
            },
            "bindings": {
                "kafka": {
                    "topic": topic,
                    "partitions": PARTITIONS,
                    "bindingVersion": KAFKA_BINDING_VERSION,
                }
            },
            "x-owner": service,
        }
        operations[f"{service}-publishes-{cid}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{cid}"},
            "title": f"{service} publishes {aggregate} events",
            "summary": f"The {service} service publishes through its transactional outbox.",
            "messages": [
                {"$ref": f"#/channels/{cid}/messages/{event.__name__}"} for event in events
            ],
        }
        for event in events:
            messages[event.__name__] = _message(event)

    return {
        "asyncapi": ASYNCAPI_VERSION,
        "id": "urn:coop:smart:platform:events",
        "info": {
            "title": "SMart platform events",
            "version": _version(),
            "description": DESCRIPTION,
            "tags": [{"name": name} for name in dict.fromkeys(e.service for e in EVENT_TYPES)],
        },
        "defaultContentType": CONTENT_TYPE,
        "servers": {
            "local": {
                "host": "127.0.0.1:9092",
                "protocol": "kafka",
                "protocolVersion": "4.1",
                "title": "Local broker",
                "description": "The Apache Kafka broker (KRaft) started by "
                "deploy/local/smartctl.py and published by docker-compose on the same address; "
                "plaintext.",
            },
            "compose": {
                "host": "kafka:9092",
                "protocol": "kafka",
                "protocolVersion": "4.1",
                "title": "docker-compose network",
                "description": "The broker as the services see it inside docker-compose.",
            },
        },
        "channels": channels,
        "operations": operations,
        "components": {"schemas": schemas, "messages": messages},
    }


# ------------------------------------------------------------------------------------ rendering


def dump_yaml(doc: dict[str, Any]) -> str:
    """The document as YAML, keys in document order (stable across runs)."""
    import yaml  # type: ignore[import-untyped,unused-ignore]

    class Dumper(yaml.SafeDumper):  # type: ignore[misc,unused-ignore]
        pass

    def text(dumper: Any, value: str) -> Any:
        style = "|" if "\n" in value else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    Dumper.add_representer(str, text)
    return str(yaml.dump(doc, Dumper=Dumper, sort_keys=False, allow_unicode=True, width=100))


def _type_of(schema: dict[str, Any]) -> str:
    """A short human-readable type of a JSON Schema, with links to the shared schemas."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return f'<a href="#schema-{html.escape(name)}">{html.escape(name)}</a>'
    if "anyOf" in schema:
        return " | ".join(_type_of(option) for option in schema["anyOf"])
    if "allOf" in schema:
        return " & ".join(_type_of(option) for option in schema["allOf"])
    if "enum" in schema:
        return " | ".join(f"<code>{html.escape(json.dumps(v))}</code>" for v in schema["enum"])
    if "const" in schema:
        return f"<code>{html.escape(json.dumps(schema['const']))}</code>"
    kind = schema.get("type", "any")
    if kind == "array":
        return f"array of {_type_of(schema.get('items', {}))}"
    if schema.get("format"):
        return f"{html.escape(str(kind))} ({html.escape(schema['format'])})"
    return html.escape(str(kind))


def _constraints(schema: dict[str, Any]) -> str:
    parts = []
    for key in ("pattern", "minimum", "maximum", "minLength", "maxLength", "default"):
        if key in schema:
            parts.append(f"{key} <code>{html.escape(json.dumps(schema[key]))}</code>")
    return ", ".join(parts)


def _fields_table(schema: dict[str, Any]) -> str:
    properties = schema.get("properties", {})
    if not properties:
        return "<p><em>No fields.</em></p>"
    required = set(schema.get("required", []))
    rows = []
    for name, prop in properties.items():
        description = html.escape(prop.get("description", ""))
        constraints = _constraints(prop)
        if constraints:
            description = f"{description} <span class=c>{constraints}</span>".strip()
        rows.append(
            f"<tr><td><code>{html.escape(name)}</code></td><td>{_type_of(prop)}</td>"
            f"<td>{'yes' if name in required else ''}</td><td>{description}</td></tr>"
        )
    return (
        "<table><thead><tr><th>field</th><th>type</th><th>required</th><th>description</th>"
        "</tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


def _paragraphs(text: str) -> str:
    return "".join(
        f"<p>{html.escape(' '.join(p.split()))}</p>" for p in text.split("\n\n") if p.strip()
    )


_STYLE = """
body{font-family:system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;
color:#1d2330;line-height:1.45}
h1{margin-bottom:.2rem}h2{border-bottom:2px solid #d33;padding-bottom:.2rem;margin-top:2.5rem}
h3{margin-top:1.8rem}code{background:#f3f4f6;padding:0 .2rem;border-radius:3px}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem;font-size:.92rem}
th,td{border:1px solid #d8dbe2;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f4f6}.c{color:#5b6275;font-size:.85rem}.meta{color:#5b6275}
details pre{background:#f6f8fa;padding:.8rem;overflow:auto;font-size:.82rem}
nav ul{columns:3}section.event{border-left:4px solid #eee;padding-left:1rem}
"""


def render_html(doc: dict[str, Any]) -> str:
    """A self-contained HTML page: one section per channel, one per event, the shared schemas."""
    info = doc["info"]
    components = doc["components"]
    messages = components["messages"]
    schemas = components["schemas"]
    esc = html.escape
    out: list[str] = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{esc(info['title'])} {esc(info['version'])}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>{esc(info['title'])}</h1>",
        f"<p class=meta>AsyncAPI {esc(doc['asyncapi'])} · version {esc(info['version'])} · "
        f"content type <code>{esc(doc['defaultContentType'])}</code></p>",
    ]
    out.append("<ul>" + "".join(
        f"<li>{esc(line[2:])}</li>" for line in info["description"].replace("\n  ", " ")
        .splitlines() if line.startswith("- ")
    ) + "</ul>")
    out.append("<h2>Servers</h2><table><thead><tr><th>name</th><th>host</th><th>protocol</th>"
               "<th>description</th></tr></thead><tbody>")
    for name, server in doc["servers"].items():
        out.append(f"<tr><td>{esc(name)}</td><td><code>{esc(server['host'])}</code></td>"
                   f"<td>{esc(server['protocol'])} {esc(server.get('protocolVersion', ''))}</td>"
                   f"<td>{esc(server.get('description', ''))}</td></tr>")
    out.append("</tbody></table>")

    out.append("<nav><h2>Contents</h2><ul>")
    for cid, channel in doc["channels"].items():
        out.append(f'<li><a href="#channel-{esc(cid)}"><code>{esc(channel["address"])}</code></a>'
                   "<ul>")
        for name in channel["messages"]:
            out.append(f'<li><a href="#event-{esc(name)}">{esc(name)}</a></li>')
        out.append("</ul></li>")
    out.append('<li><a href="#schemas">Shared schemas</a></li></ul></nav>')

    publishers = {op["channel"]["$ref"].rsplit("/", 1)[-1]: op for op in doc["operations"].values()}
    for cid, channel in doc["channels"].items():
        operation = publishers.get(cid)
        out.append(f'<h2 id="channel-{esc(cid)}">Topic <code>{esc(channel["address"])}</code></h2>')
        out.append(f"<p>{esc(channel['description'])}</p>")
        if operation:
            out.append(f"<p class=meta>Operation: <strong>{esc(operation['action'])}</strong> — "
                       f"{esc(operation['title'])}. Partitions: "
                       f"{channel['bindings']['kafka']['partitions']}. Dead letters: "
                       f"<code>{esc(channel['address'])}.dlq</code>.</p>")
        for name, ref in channel["messages"].items():
            message = messages[ref["$ref"].rsplit("/", 1)[-1]]
            payload = schemas[message["payload"]["$ref"].rsplit("/", 1)[-1]]
            out.append(f'<section class=event id="event-{esc(name)}"><h3>{esc(name)}</h3>')
            out.append(f"<p class=meta><code>ce_type: {esc(message['x-ce-type'])}</code> · "
                       f"key and <code>ce_subject</code>: "
                       f"<code>{esc(message['x-aggregate-field'])}</code> · headers: "
                       f'<a href="#schema-{HEADERS_SCHEMA}">CloudEvents</a></p>')
            out.append(_paragraphs(message["description"]))
            out.append(_fields_table(payload))
            out.append("<details><summary>JSON Schema of the body</summary><pre>"
                       f"{esc(json.dumps(payload, indent=2, ensure_ascii=False))}</pre></details>")
            out.append("</section>")

    out.append('<h2 id="schemas">Shared schemas</h2>')
    event_names = {m["payload"]["$ref"].rsplit("/", 1)[-1] for m in messages.values()}
    for name, schema in schemas.items():
        if name in event_names:
            continue
        out.append(f'<h3 id="schema-{esc(name)}">{esc(name)}</h3>')
        if schema.get("description"):
            out.append(_paragraphs(inspect.cleandoc(schema["description"])))
        out.append(_fields_table(schema))
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def write_documents(folder: Path) -> list[Path]:
    """Write ``asyncapi.yaml`` (``asyncapi.json`` without PyYAML) and ``asyncapi.html``."""
    folder.mkdir(parents=True, exist_ok=True)
    doc = asyncapi_document()
    try:
        text, name = dump_yaml(doc), "asyncapi.yaml"
    except ImportError:  # pragma: no cover - PyYAML ships with litestar[standard]
        text, name = json.dumps(doc, indent=2, ensure_ascii=False) + "\n", "asyncapi.json"
    written = [folder / name, folder / "asyncapi.html"]
    written[0].write_text(text, encoding="utf-8")
    written[1].write_text(render_html(doc), encoding="utf-8")
    return written
