"""Exactly-once effects over an at-least-once broker, against the genuine Kafka and mongod."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from smart_shared.auth import mint_token
from smart_shared.events import MemberErased, encode, header_map
from smart_shared.ids import new_id
from smart_shared.metrics import EVENTS_SKIPPED
from smart_shared.mongo import Database, connect
from smart_shared.settings import Settings
from smart_testing import create_topics, eventually, read_topic, serving
from toy_service import build, erasure

pytestmark = pytest.mark.integration

TOPIC = MemberErased.topic


async def effects(settings: Settings) -> dict[str, int]:
    client = connect(settings.mongodb_uri)
    try:
        docs = await client[settings.database_name].effects.find().to_list(None)
        return {d["_id"]: d["applied"] for d in docs}
    finally:
        await client.close()


async def send_raw(settings: Settings, messages: list[tuple[bytes | None, bytes | None,
                                                            list[tuple[str, bytes]]]]) -> None:
    await create_topics(settings.kafka_bootstrap_servers, settings.topic(TOPIC))
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers,
                                enable_idempotence=True)
    await producer.start()
    try:
        for key, value, headers in messages:
            await producer.send(settings.topic(TOPIC), value, key=key or b"k", headers=headers)
        await producer.flush()
    finally:
        await producer.stop()


async def read_all(settings: Settings, topic: str) -> list[Any]:
    return await read_topic(settings.kafka_bootstrap_servers, topic)


def token(settings: Settings) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(settings, 'staff', 'BE')}"}


async def test_a_trace_started_in_an_http_request_continues_in_the_consumer(
    toy_settings: Settings,
) -> None:
    service = build(toy_settings)  # installs the tracer provider
    spans = InMemorySpanExporter()
    provider = trace.get_tracer_provider()
    assert isinstance(provider, TracerProvider)
    provider.add_span_processor(SimpleSpanProcessor(spans))
    async with serving(service.app) as url, httpx.AsyncClient(base_url=url) as http:
        response = await http.post("/v1/erasures/", json={"member_ids": ["m-1", "m-2"]},
                                   headers=token(toy_settings))
        assert response.status_code == 201, response.text
        assert await eventually(lambda: _applied(toy_settings, {"m-1": 1, "m-2": 1}))
    finished = spans.get_finished_spans()
    http_span = next(s for s in finished if s.name.startswith("POST /v1/erasures"))
    processed = [s for s in finished if s.name == f"{MemberErased.ce_type()} process"
                 and s.attributes and s.attributes.get("smart.aggregate_id") in ("m-1", "m-2")]
    assert len(processed) == 2
    assert {s.context.trace_id for s in processed} == {http_span.context.trace_id}


async def _applied(settings: Settings, expected: dict[str, int]) -> bool:
    return await effects(settings) == expected


async def test_a_redelivered_event_changes_nothing(toy_settings: Settings) -> None:
    event_id = new_id()
    message = encode(erasure("m-dup"), event_id)
    await send_raw(toy_settings, [message, message])  # the same event delivered twice
    service = build(toy_settings)
    async with serving(service.app):
        assert await eventually(lambda: _applied(toy_settings, {"m-dup": 1}))
    # rewind the consumer group to the beginning: every event is delivered again
    consumer = AIOKafkaConsumer(bootstrap_servers=toy_settings.kafka_bootstrap_servers,
                                group_id=toy_settings.consumer_group, enable_auto_commit=False)
    await consumer.start()
    partitions = [TopicPartition(toy_settings.topic(TOPIC), p) for p in range(3)]
    consumer.assign(partitions)
    await consumer.seek_to_beginning(*partitions)
    await consumer.commit({tp: 0 for tp in partitions})
    await consumer.stop()
    await send_raw(toy_settings, [encode(erasure("m-after"), new_id())])
    service = build(toy_settings)
    async with serving(service.app):
        assert await eventually(lambda: _applied(toy_settings, {"m-dup": 1, "m-after": 1}))
        await asyncio.sleep(1)
    assert await effects(toy_settings) == {"m-dup": 1, "m-after": 1}


async def test_poison_messages_go_to_the_dead_letter_topic_and_the_consumer_moves_on(
    toy_settings: Settings,
) -> None:
    good_1 = encode(erasure("m-good-1"), new_id())
    key, value, headers = encode(erasure("m-x"), new_id())
    malformed_json = (key, b"{this is not json", headers)
    no_headers = (key, value, [("content-type", b"application/json")])
    poison = encode(erasure("poison-1"), new_id())
    unknown = (key, value, [(n, b"coop.smart.members.MemberErased.v9" if n == "ce_type" else v)
                            for n, v in headers])
    other_branch = encode(erasure("m-fr", branch="FR"), new_id())
    good_2 = encode(erasure("m-good-2"), new_id())
    skipped_before = {r: EVENTS_SKIPPED.labels("toy", r)._value.get()
                      for r in ("unknown_type", "other_branch")}
    await send_raw(toy_settings, [good_1, malformed_json, no_headers, poison, unknown,
                                  other_branch, good_2])
    service = build(toy_settings)
    async with serving(service.app):
        assert await eventually(
            lambda: _applied(toy_settings, {"m-good-1": 1, "m-good-2": 1}), timeout=60)
        dead = await eventually(lambda: _dead_letters(toy_settings, 3), timeout=30)
    reasons = sorted(header_map(r.headers)["dlq_error"].split(":")[0] for r in dead)
    assert reasons == ["ValueError", "invalid coop.smart.members.MemberErased.v1 body",
                       "missing CloudEvents headers"]
    for record in dead:
        h = header_map(record.headers)
        assert h["dlq_original_topic"] == toy_settings.topic(TOPIC)
        assert h["dlq_consumer"] == "toy"
    for reason in ("unknown_type", "other_branch"):
        assert EVENTS_SKIPPED.labels("toy", reason)._value.get() > skipped_before[reason]
    assert await effects(toy_settings) == {"m-good-1": 1, "m-good-2": 1}

    # after a fix is deployed, the dead letter is replayed and applied once
    import toy_service

    original = toy_service.apply_erasure.__code__
    poison_id = header_map(poison[2])["ce_id"]
    await _replay(toy_settings, poison_id)

    async def fixed(uow: Any, event: MemberErased) -> None:
        await uow.db.effects.update_one({"_id": event.member_id}, {"$inc": {"applied": 1}},
                                        upsert=True, session=uow.session)

    service = build(toy_settings)
    handler = service.handlers
    assert handler is not None
    handler._by_type[MemberErased.ce_type()] = fixed
    try:
        async with serving(service.app):
            assert await eventually(lambda: _applied(
                toy_settings, {"m-good-1": 1, "m-good-2": 1, "poison-1": 1}), timeout=60)
    finally:
        handler._by_type[MemberErased.ce_type()] = toy_service.apply_erasure
        assert toy_service.apply_erasure.__code__ is original


async def _dead_letters(settings: Settings, count: int) -> list[Any] | None:
    records = await read_all(settings, settings.topic(TOPIC) + ".dlq")
    return records if len(records) >= count else None


async def _replay(settings: Settings, event_id: str) -> None:
    import argparse
    import os

    from smart_shared.cli import cmd_dlq

    os.environ["SMART_DEPLOYMENT"] = settings.deployment
    try:
        await cmd_dlq(argparse.Namespace(action="replay", topic=settings.topic(TOPIC),
                                         event_id=event_id))
    finally:
        os.environ.pop("SMART_DEPLOYMENT", None)


async def test_the_outbox_commits_with_the_state_change_or_not_at_all(
    toy_settings: Settings,
) -> None:
    client = connect(toy_settings.mongodb_uri)
    database = Database(client, toy_settings.database_name, clock=None)  # type: ignore[arg-type]

    async def fails_after_publishing(uow: Any) -> None:
        await uow.db.members.insert_one({"_id": "m-1"}, session=uow.session)
        uow.publish(erasure("m-1"))
        raise RuntimeError("the use case failed after staging its event")

    with pytest.raises(RuntimeError):
        await database.transaction(fails_after_publishing)
    assert await client[toy_settings.database_name].outbox.count_documents({}) == 0
    assert await client[toy_settings.database_name].members.count_documents({}) == 0
    await client.close()


async def test_idempotency_keys_answer_the_first_result_again(toy_settings: Settings) -> None:
    from smart_shared.http import idempotent
    from smart_shared.problems import Problem

    client = connect(toy_settings.mongodb_uri)
    database = Database(client, toy_settings.database_name, clock=None)  # type: ignore[arg-type]
    calls = 0

    async def book(uow: Any) -> dict[str, Any]:
        nonlocal calls
        calls += 1
        await uow.db.payments.insert_one({"amount": "10.00"}, session=uow.session)
        return {"booked": "10.00"}

    body = {"amount": "10.00"}
    results = await asyncio.gather(*(idempotent(database, "key-1", "payments", body, book)
                                     for _ in range(5)))
    assert {json.dumps(r[0]) for r in results} == {'{"booked": "10.00"}'}
    assert await client[toy_settings.database_name].payments.count_documents({}) == 1
    with pytest.raises(Problem) as reused:
        await idempotent(database, "key-1", "payments", {"amount": "11.00"}, book)
    assert reused.value.status == 422
    with pytest.raises(Problem):
        await idempotent(database, None, "payments", body, book)
    await client.close()


async def test_a_service_serves_health_openapi_metrics_and_the_event_documentation(
    toy_settings: Settings,
) -> None:
    service = build(toy_settings)
    async with serving(service.app) as url, httpx.AsyncClient(base_url=url) as http:
        # ready once its consumer owns its partitions (a moment after start-up)
        ready = await eventually(lambda: _ready(http), timeout=30)
        assert ready["status"] == "ready"
        assert ready["checks"] | {"mongodb": "up", "kafka": "up"} == ready["checks"]
        assert ready["checks"]["consumer"] == "consuming"
        assert ready["checks"]["outbox_relay"] == "relaying"
        assert (await http.get("/health/live")).status_code == 200
        openapi = (await http.get("/schema/openapi.json")).json()
        assert "/v1/erasures" in openapi["paths"]
        assert "BearerToken" in openapi["components"]["securitySchemes"]
        docs = await http.get("/asyncapi")
        assert docs.headers["content-type"].startswith("text/html")
        assert "coop.smart.billing.InvoicePaid.v1" in docs.text
        assert (await http.get("/asyncapi.json")).json()["asyncapi"].startswith("3.")
        assert "smart_outbox_backlog" in (await http.get("/metrics")).text
        unauthenticated = await http.post("/v1/erasures/", json={"member_ids": ["m"]})
        assert unauthenticated.status_code == 401
        assert unauthenticated.headers["content-type"] == "application/problem+json"
        invalid = await http.post("/v1/erasures/", json={"member_ids": "m", "extra": 1},
                                  headers=token(toy_settings))
        assert invalid.status_code == 400
        assert invalid.json()["errors"][0]["field"] == "member_ids"


async def _ready(http: httpx.AsyncClient) -> dict[str, Any] | None:
    response = await http.get("/health/ready")
    return dict(response.json()) if response.status_code == 200 else None
