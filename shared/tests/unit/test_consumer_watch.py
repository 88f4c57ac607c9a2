"""The consumer watch: when a consumer counts as stalled, and what it does about it (in memory)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiokafka import TopicPartition
from smart_shared.consumer import BatchConsumer, ConsumerWatch, EventHandlers

TOPIC = "smart.contracts.contract.v1"


class Kafka:
    """The part of an aiokafka consumer the watch reads: assignment, end offsets, positions."""

    def __init__(self, partitions: int, end: int, position: int) -> None:
        self.owned = {TopicPartition(TOPIC, n) for n in range(partitions)}
        self.end = end
        self.at = position

    def assignment(self) -> set[TopicPartition]:
        return self.owned

    async def end_offsets(self, partitions: list[TopicPartition]) -> dict[TopicPartition, int]:
        return {tp: self.end for tp in partitions}

    async def position(self, partition: TopicPartition) -> int:
        return self.at


class Subscription:
    def __init__(self, kafka: Kafka | None, failures: int = 0) -> None:
        self.kafka = kafka
        self.failures = failures
        self.restarts = 0

    async def restart(self) -> None:
        self.restarts += 1
        if self.failures:
            self.failures -= 1
            self.kafka = None
            raise ConnectionError("the broker is away")
        self.kafka = Kafka(3, end=10, position=10)


def watch_of(subscription: Subscription, stall: float = 0.05) -> ConsumerWatch:
    consumer = BatchConsumer("fund", database=Any, handlers=EventHandlers(),  # type: ignore[arg-type]
                             dead_letters=Any, branches=["BE"])  # type: ignore[arg-type]
    return ConsumerWatch(consumer, lambda: subscription.kafka, subscription.restart, stall)


async def test_a_consumer_behind_with_nothing_finished_is_stalled_and_subscribes_again() -> None:
    subscription = Subscription(Kafka(3, end=10, position=4))
    watch = watch_of(subscription)
    await watch.check()
    assert watch.status == "consuming" and watch.lag == 18 and watch.healthy
    await asyncio.sleep(0.1)
    await watch.check()
    assert watch.status.startswith("stalled: 18 events behind") and not watch.healthy
    assert subscription.restarts == 1
    await watch.check()  # the new subscription reads on: caught up
    assert watch.status == "consuming" and watch.lag == 0


async def test_a_consumer_busy_with_a_long_batch_is_reported_but_left_alone() -> None:
    subscription = Subscription(Kafka(3, end=10, position=4))
    watch = watch_of(subscription)
    watch.consumer.batch_started = 0.0  # MongoDB slow: the batch is still being handled
    await watch.check()
    await asyncio.sleep(0.1)
    await watch.check()
    assert watch.status.startswith("stalled") and subscription.restarts == 0


async def test_a_consumer_that_finishes_batches_is_never_stalled_however_far_behind() -> None:
    subscription = Subscription(Kafka(3, end=1000, position=4))
    watch = watch_of(subscription)
    for _ in range(4):
        await asyncio.sleep(0.03)
        watch.consumer.last_batch_done = time.monotonic()
        await watch.check()
        assert watch.status == "consuming"


async def test_a_failed_new_subscription_is_tried_again_at_the_next_look() -> None:
    subscription = Subscription(Kafka(3, end=10, position=4), failures=1)
    watch = watch_of(subscription)
    await watch.check()
    await asyncio.sleep(0.1)
    await watch.check()  # stalled: subscribing again fails (the broker is away)
    assert subscription.restarts == 1 and subscription.kafka is None
    await watch.check()
    assert subscription.restarts == 2 and watch.partitions == 3


async def test_a_replica_without_partition_is_not_ready_and_not_resubscribed() -> None:
    subscription = Subscription(Kafka(0, end=0, position=0))
    watch = watch_of(subscription)
    await watch.check()
    assert watch.status == "no partition" and not watch.healthy
    await asyncio.sleep(0.1)
    await watch.check()
    assert watch.status.startswith("stalled: no partition") and subscription.restarts == 0
