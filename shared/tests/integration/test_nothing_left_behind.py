"""A test run leaves nothing behind: the private deployments it set up are forgotten at its end,
and nothing else is."""

from __future__ import annotations

from datetime import UTC, datetime

from aiokafka.admin import AIOKafkaAdminClient
from smart_shared.clock import CLOCK_DATABASE, CLOCK_DOCUMENT
from smart_shared.events import TOPICS
from smart_shared.mongo import connect
from smart_shared.service import create_topics
from smart_testing import Infrastructure, _forget_all, eventually, isolated_settings


async def test_a_private_deployment_is_forgotten_database_topics_and_clock_and_no_other(
        infrastructure: Infrastructure) -> None:
    mine, other = isolated_settings("toy"), isolated_settings("toy")
    client = connect(infrastructure.mongodb_uri)
    admin = AIOKafkaAdminClient(bootstrap_servers=infrastructure.kafka_bootstrap_servers)
    await admin.start()
    try:
        for deployment in (mine, other):
            await client[deployment.database_name]["invoices"].insert_one({"_id": "x"})
            await client[CLOCK_DATABASE][CLOCK_DOCUMENT].insert_one(
                {"_id": deployment.clock_id, "offset_seconds": 0, "at": datetime.now(UTC)})
            await create_topics(infrastructure.kafka_bootstrap_servers,
                                *(deployment.topic(t) for t in TOPICS))

        everything = {d.topic(t) for d in (mine, other) for t in TOPICS}

        async def topics_created() -> bool:  # and known to the broker answering the listing
            return everything <= set(await admin.list_topics())

        await eventually(topics_created, timeout=30)
        await _forget_all(infrastructure.mongodb_uri, infrastructure.kafka_bootstrap_servers,
                          [mine])

        databases = await client.list_database_names()
        clocks = await client[CLOCK_DATABASE][CLOCK_DOCUMENT].distinct("_id")
        assert mine.database_name not in databases and mine.clock_id not in clocks
        assert other.database_name in databases and other.clock_id in clocks

        async def topics_deleted() -> set[str]:  # the broker deletes topics asynchronously
            topics = set(await admin.list_topics())
            assert {other.topic(t) for t in TOPICS} <= topics
            return topics if not {mine.topic(t) for t in TOPICS} & topics else set()

        await eventually(topics_deleted, timeout=30)
    finally:
        await _forget_all(infrastructure.mongodb_uri, infrastructure.kafka_bootstrap_servers,
                          [other])
        await admin.close()
        await client.close()
