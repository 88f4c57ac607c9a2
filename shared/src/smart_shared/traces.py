"""Read the locally recorded spans (``$SMART_HOME/traces/*.jsonl``) and print a trace as a tree."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

Span = dict[str, Any]


def read_spans(folder: Path) -> Iterator[Span]:
    for path in sorted(folder.glob("*.jsonl")):
        with path.open() as lines:
            for line in lines:
                if line.strip():
                    yield json.loads(line)


def trace_ids_for(spans: Iterable[Span], aggregate_id: str) -> list[str]:
    """Traces in which a span handled or published an event of ``aggregate_id``, then the
    traces linked to them (a payment, a reminder, a payment run starts a trace of its own
    with a link to its contract's)."""
    spans = list(spans)
    found: dict[str, int] = {}
    keys = {aggregate_id, f"b'{aggregate_id}'"}  # publish spans record the key's bytes as text
    for span in spans:
        attributes = span.get("attributes", {})
        if keys & {attributes.get("smart.aggregate_id"),
                   attributes.get("messaging.kafka.message.key")}:
            found.setdefault(span["trace_id"], span["start"])
    linked: dict[str, int] = {}
    for span in spans:
        if span["trace_id"] not in found and any(
                link["trace_id"] in found for link in span.get("links", [])):
            linked.setdefault(span["trace_id"], span["start"])
    return sorted(found, key=found.__getitem__) + sorted(linked, key=linked.__getitem__)


def spans_of(spans: Iterable[Span], trace_id: str) -> list[Span]:
    return [s for s in spans if s["trace_id"] == trace_id]


def services_in(trace: list[Span]) -> set[str]:
    return {s["service"] for s in trace}


def render_tree(trace: list[Span]) -> str:
    """An indented tree: service, span name and duration, children under their parent."""
    by_id = {s["span_id"]: s for s in trace}
    children: dict[str | None, list[Span]] = defaultdict(list)
    for span in trace:
        parent = span["parent_id"] if span["parent_id"] in by_id else None
        children[parent].append(span)
    lines: list[str] = []

    def walk(span: Span, depth: int) -> None:
        millis = (span["end"] - span["start"]) / 1e6
        lines.append(f"{'  ' * depth}[{span['service']}] {span['name']} ({millis:.1f} ms)")
        for child in sorted(children[span["span_id"]], key=lambda s: s["start"]):
            walk(child, depth + 1)

    for root in sorted(children[None], key=lambda s: s["start"]):
        walk(root, 0)
    return "\n".join(lines)
