"""A consumer's offsets go to the genuine Kafka behind its batches (``OffsetCommits``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from smart_shared.consumer import OffsetCommits
from smart_shared.settings import Settings
from smart_testing import create_topics

pytestmark = pytest.mark.integration


@pytest.fixture
async def consumer(toy_settings: Settings) -> AsyncIterator[AIOKafkaConsumer]:
    """A consumer of the group, given partitions 0 and 1 of a three-partition topic holding
    five records in each partition."""
    topic = toy_settings.topic("commits.v1")
    bootstrap = toy_settings.kafka_bootstrap_servers
    await create_topics(bootstrap, topic, partitions=3)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
    await producer.start()
    try:
        for partition in range(3):
            for n in range(5):
                await producer.send(topic, b"%d" % n, partition=partition)
        await producer.flush()
    finally:
        await producer.stop()
    kafka = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=toy_settings.consumer_group,
                             enable_auto_commit=False, auto_offset_reset="earliest")
    await kafka.start()
    kafka.assign([TopicPartition(topic, 0), TopicPartition(topic, 1)])
    try:
        yield kafka
    finally:
        await kafka.stop()


async def records_of(kafka: AIOKafkaConsumer, count: int) -> list[Any]:
    got: list[Any] = []
    while len(got) < count:
        batches = await kafka.getmany(timeout_ms=2000, max_records=count - len(got))
        assert batches, "the records did not arrive"
        got += [record for records in batches.values() for record in records]
    return got


async def committed(kafka: AIOKafkaConsumer) -> dict[int, int | None]:
    return {tp.partition: await kafka.committed(tp) for tp in sorted(
        kafka.assignment(), key=lambda tp: tp.partition)}


async def test_the_offsets_past_a_batch_are_committed_once_it_is_handed_over(
    consumer: AIOKafkaConsumer,
) -> None:
    commits = OffsetCommits("toy")
    records = await records_of(consumer, 10)
    assert await committed(consumer) == {0: None, 1: None}

    commits.after(consumer, records)
    await commits.flush()

    assert await committed(consumer) == {0: 5, 1: 5}
    assert commits.pending == {}


async def test_batches_that_finish_while_a_commit_waits_go_out_together_the_latest_winning(
    consumer: AIOKafkaConsumer,
) -> None:
    commits = OffsetCommits("toy")
    records = sorted(await records_of(consumer, 10), key=lambda r: (r.partition, r.offset))
    first = [r for r in records if r.offset < 2]
    second = [r for r in records if 2 <= r.offset < 4]

    commits.after(consumer, second)
    commits.after(consumer, first)  # a batch handed over late never moves an offset back
    assert {tp.partition: offset for tp, offset in commits.pending.items()} == {0: 4, 1: 4}
    await commits.flush()

    assert await committed(consumer) == {0: 4, 1: 4}


async def test_a_partition_the_consumer_no_longer_owns_is_left_to_its_new_owner(
    consumer: AIOKafkaConsumer, toy_settings: Settings,
) -> None:
    commits = OffsetCommits("toy")
    records = await records_of(consumer, 10)
    topic = records[0].topic
    consumer.assign([TopicPartition(topic, 1)])  # partition 0 went to another replica

    commits.after(consumer, records)
    await asyncio.wait_for(commits.flush(), timeout=10)

    assert await committed(consumer) == {1: 5}
    other = AIOKafkaConsumer(bootstrap_servers=toy_settings.kafka_bootstrap_servers,
                             group_id=toy_settings.consumer_group, enable_auto_commit=False)
    await other.start()
    try:
        other.assign([TopicPartition(topic, 0)])
        assert await other.committed(TopicPartition(topic, 0)) is None
    finally:
        await other.stop()
