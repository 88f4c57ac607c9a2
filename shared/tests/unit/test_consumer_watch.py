"""The consumer watch: when a consumer counts as stalled, and what it does about it (in memory)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiokafka import TopicPartition
from smart_shared.consumer import BatchConsumer, ConsumerWatch, EventHandlers
from smart_shared.service import _resubscribe

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


class Subscriber:
    """The part of FastStream's Kafka subscriber a new subscription touches; steps may hang."""

    def __init__(self, stop_hangs: bool = False, start_hangs: bool = False) -> None:
        self.stop_hangs, self.start_hangs = stop_hangs, start_hangs
        self.loop = asyncio.get_running_loop().create_future()  # the old consume loop
        self.tasks: list[Any] = [self.loop]
        self.consumer: object | None = object()
        self.started = 0

    async def stop(self) -> None:
        if self.stop_hangs:
            await asyncio.Event().wait()

    async def start(self) -> None:
        self.started += 1
        if self.start_hangs:
            await asyncio.Event().wait()
        self.consumer = object()


async def test_a_subscription_that_cannot_stop_is_replaced_without_its_consume_loop() -> None:
    subscriber = Subscriber(stop_hangs=True)
    await _resubscribe(subscriber, timeout=0.05)
    assert subscriber.loop.cancelled() and subscriber.tasks == []
    assert subscriber.started == 1 and subscriber.consumer is not None


async def test_a_subscription_that_hangs_at_start_gives_up_so_the_watch_tries_again() -> None:
    subscriber = Subscriber(start_hangs=True)
    watch = ConsumerWatch(
        BatchConsumer("fund", database=Any, handlers=EventHandlers(),  # type: ignore[arg-type]
                      dead_letters=Any, branches=["BE"]),  # type: ignore[arg-type]
        lambda: None, lambda: _resubscribe(subscriber, timeout=0.05), stall_seconds=0.05)
    await asyncio.wait_for(watch._subscribe_again(), timeout=1)
    assert watch._subscription_down  # the next look subscribes again
    subscriber.start_hangs = False
    await watch.check()
    assert not watch._subscription_down and subscriber.started == 2


async def test_a_batch_running_too_long_is_reported_with_where_it_waits(caplog: Any) -> None:
    subscription = Subscription(Kafka(3, end=10, position=4))
    watch = watch_of(subscription)
    stuck = asyncio.Event()

    async def commit_that_never_returns() -> None:
        await stuck.wait()

    async def batch() -> None:
        watch.consumer.batch_started = time.monotonic()
        watch.consumer.batch_task = asyncio.current_task()
        await commit_that_never_returns()

    task = asyncio.create_task(batch())
    await watch.check()
    await asyncio.sleep(0.1)
    with caplog.at_level("ERROR", logger="smart.consumer"):
        await watch.check()
        await watch.check()
    told = [r.getMessage() for r in caplog.records if "it waits in" in r.getMessage()]
    assert len(told) == 1 and "commit_that_never_returns" in told[0]
    assert subscription.restarts == 0  # a batch in progress is never cut off
    stuck.set()
    await task


class Unanswered(Kafka):
    """Partitions owned, but no position known: a consumer whose group coordination died."""

    async def position(self, partition: TopicPartition) -> int:
        raise TimeoutError


async def test_a_consumer_whose_lag_cannot_be_read_for_long_subscribes_again() -> None:
    subscription = Subscription(Unanswered(3, end=10, position=0))
    watch = watch_of(subscription)
    watch.consumer.last_batch_done = time.monotonic() - 1
    await watch.check()
    assert watch.lag is None and subscription.restarts == 0  # unknown is not "up to date"
    await asyncio.sleep(0.1)
    await watch.check()
    assert subscription.restarts == 1
