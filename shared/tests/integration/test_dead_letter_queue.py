"""``smart dlq``: only what is still pending is listed, a replay sends each dead letter back once,
and a topic that does not exist is said in one line. Against the genuine Kafka broker, through
the command itself (a separate process, as staff run it)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from smart_shared.events import MemberErased, encode, header_map
from smart_shared.ids import new_id
from smart_shared.settings import Settings
from smart_testing import create_topics, read_topic
from toy_service import erasure

pytestmark = pytest.mark.integration


def smart(settings: Settings, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "smart_shared.cli", *argv], capture_output=True, text=True,
        timeout=120, env={**os.environ, "SMART_DEPLOYMENT": settings.deployment,
                          "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers})


def listed(settings: Settings, topic: str) -> list[str]:
    """The event ids ``smart dlq list`` shows as pending."""
    done = smart(settings, "dlq", "list", topic)
    assert done.returncode == 0, done.stderr
    ids = [json.loads(line)["ce_id"] for line in done.stdout.splitlines()]
    assert done.stderr.splitlines()[-1] == f"{len(ids)} dead letter(s) pending in {topic}.dlq"
    return ids


async def dead_letters(settings: Settings, topic: str, count: int) -> list[str]:
    """``count`` dead letters on ``topic``'s dead-letter topic, as a consumer leaves them."""
    await create_topics(settings.kafka_bootstrap_servers, topic)
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers,
                                enable_idempotence=True)
    await producer.start()
    ids = []
    try:
        for n in range(count):
            key, value, headers = encode(erasure(f"m-dead-{n}"), new_id())
            ids.append(header_map(headers)["ce_id"])
            await producer.send_and_wait(
                f"{topic}.dlq", value, key=key, partition=0, headers=[*headers,
                ("dlq_error", b"ValueError: boom"), ("dlq_original_topic", topic.encode()),
                ("dlq_consumer", b"toy")])
    finally:
        await producer.stop()
    return ids


def replayed_ids(records: list[Any]) -> list[str]:
    return [header_map(r.headers)["ce_id"] for r in records]


def test_replayed_dead_letters_are_no_longer_listed_as_pending(toy_settings: Settings) -> None:
    topic = toy_settings.topic(MemberErased.topic)
    first, second, third = asyncio.run(dead_letters(toy_settings, topic, 3))
    assert listed(toy_settings, topic) == [first, second, third]

    # one replayed on its own, out of order: it leaves the list, the two others stay
    done = smart(toy_settings, "dlq", "replay", topic, "--event-id", second)
    assert (done.returncode, done.stdout.strip()) == (0, f"replayed 1 dead letter(s) to {topic}")
    assert listed(toy_settings, topic) == [first, third]

    # the rest replayed: nothing pending, and each event went back to its topic once
    done = smart(toy_settings, "dlq", "replay", topic)
    assert (done.returncode, done.stdout.strip()) == (0, f"replayed 2 dead letter(s) to {topic}")
    assert listed(toy_settings, topic) == []
    done = smart(toy_settings, "dlq", "replay", topic)
    assert done.stdout.strip() == f"replayed 0 dead letter(s) to {topic}"
    back = asyncio.run(read_topic(toy_settings.kafka_bootstrap_servers, topic))
    assert sorted(replayed_ids(back)) == sorted([first, second, third])
    assert all("dlq_error" not in header_map(r.headers) for r in back)


def test_replaying_a_dead_letter_that_is_not_pending_is_refused_in_one_line(
    toy_settings: Settings,
) -> None:
    topic = toy_settings.topic(MemberErased.topic)
    (only,) = asyncio.run(dead_letters(toy_settings, topic, 1))
    assert smart(toy_settings, "dlq", "replay", topic, "--event-id", only).returncode == 0
    done = smart(toy_settings, "dlq", "replay", topic, "--event-id", only)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [f"smart dlq: no pending dead letter {only} in {topic}.dlq"]
    back = asyncio.run(read_topic(toy_settings.kafka_bootstrap_servers, topic))
    assert replayed_ids(back) == [only]


def test_listing_the_dead_letters_of_a_topic_that_does_not_exist_says_so_in_one_line(
    toy_settings: Settings,
) -> None:
    topic = toy_settings.topic("smart.nowhere.v1")
    done = smart(toy_settings, "dlq", "list", topic)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        f"smart dlq: there is no topic {topic}.dlq on {toy_settings.kafka_bootstrap_servers}"]
