"""The garbage collector's pauses are measured, and the started process's heap is frozen."""

from __future__ import annotations

import gc

from prometheus_client import REGISTRY
from smart_shared.metrics import settle_heap, watch_garbage_collector


def collections_counted(generation: int) -> float:
    value = REGISTRY.get_sample_value("smart_gc_pause_seconds_count",
                                      {"generation": str(generation)})
    return value or 0.0


def test_every_collection_is_timed_once_however_often_the_watch_is_started() -> None:
    watch_garbage_collector()
    watch_garbage_collector()
    before = collections_counted(2)
    gc.collect()
    assert collections_counted(2) == before + 1


def test_a_settled_heap_is_left_out_of_later_collections() -> None:
    try:
        settle_heap()
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
