"""Prometheus metrics shared by every service (served at ``/metrics``)."""

from __future__ import annotations

import gc
import time

from litestar import Response, get
from litestar.plugins.prometheus import PrometheusController
from prometheus_client import Counter, Gauge, Histogram

from smart_shared.openapi import TEXT

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
PARTITIONS_OWNED = Gauge(
    "smart_consumer_partitions", "Partitions this process's consumer owns", ["service"]
)
CONSUMER_STALLS = Counter(
    "smart_consumer_stalls_total",
    "Times the consumer was found behind with nothing finished for the stall bound, or without "
    "a partition for that long",
    ["service", "reason"],
)
LEASE_HELD = Gauge(
    "smart_lease_held", "1 while this process holds the lease (outbox relay, a scheduled job)",
    ["service", "lease"],
)
OUTBOX_BACKLOG = Gauge("smart_outbox_backlog", "Outbox rows waiting to be published", ["service"])
OUTBOX_PUBLISHED = Counter("smart_outbox_published_total", "Outbox rows published", ["service"])

TRANSACTION_SECONDS = Histogram(
    "smart_transaction_seconds",
    "One MongoDB transaction of a service (a consumer batch, a command), from its start to its "
    "commit, every attempt included", ["service"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
TRANSACTION_RETRIES = Counter(
    "smart_transaction_retries_total",
    "Transaction attempts run again after a write conflict or a transient error", ["service"],
)
GC_PAUSES = Histogram(
    "smart_gc_pause_seconds", "Pauses of the process for Python's garbage collector",
    ["generation"], buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
)


_collection_started: list[float] = []


def _time_collection(phase: str, info: dict[str, int]) -> None:
    if phase == "start":
        _collection_started[:] = [time.perf_counter()]
    elif _collection_started:
        GC_PAUSES.labels(str(info["generation"])).observe(
            time.perf_counter() - _collection_started.pop())


def watch_garbage_collector() -> None:
    """Time every collection into ``smart_gc_pause_seconds`` (a pause stops the event loop)."""
    if _time_collection not in gc.callbacks:
        gc.callbacks.append(_time_collection)


def settle_heap() -> None:
    """Once started: move what the process has built so far (modules, app, clients) out of the
    collector's reach, so later full collections only scan objects made since."""
    gc.collect()
    gc.freeze()


class Metrics(PrometheusController):
    """``/metrics`` in the Prometheus text format, documented as such."""

    @get(media_type=TEXT, tags=["health"], summary="Prometheus metrics (text exposition format)")
    async def get(self) -> Response[bytes]:
        return await PrometheusController.get.fn(self)  # type: ignore[no-any-return]
