"""Prometheus metrics shared by every service (served at ``/metrics``)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

EVENTS_PROCESSED = Counter(
    "smart_events_processed_total", "Events handled and committed", ["service", "ce_type"]
)
EVENTS_FAILED = Counter(
    "smart_events_failed_total", "Events sent to the dead-letter topic", ["service", "topic"]
)
EVENTS_SKIPPED = Counter(
    "smart_events_skipped_total",
    "Events skipped by design (unknown type, other branch, duplicate)",
    ["service", "reason"],
)
CONSUMER_LAG = Gauge(
    "smart_consumer_lag",
    "Messages behind the end of the partition",
    ["service", "topic", "partition"],
)
OUTBOX_BACKLOG = Gauge("smart_outbox_backlog", "Outbox rows waiting to be published", ["service"])
OUTBOX_PUBLISHED = Counter("smart_outbox_published_total", "Outbox rows published", ["service"])
