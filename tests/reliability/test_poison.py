"""Poison and bad events on a platform topic, read by the real service processes.

A message without CloudEvents headers lands in the topic's ``.dlq`` once per service reading the
topic; malformed JSON and an invalid body under a known ``ce_type`` once per service that handles
that type (a service with no use for a type does not even parse it), each with the reason; the
services carry on (their groups catch up to the end and a real contract still goes through). An
unknown ``ce_type`` (a newer producer) and another branch's event are skipped by design and
counted in ``smart_events_skipped_total``, never dead-lettered.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from smart_shared.events import WorkCompleted, encode
from smart_shared.ids import new_id

from tests.platform import PlatformProcesses
from tests.reliability.saga import (
    POISON_HEADER,
    Saga,
    Tally,
    dead_letters,
    eventually,
    metrics,
    quiesce,
    total,
)

pytestmark = pytest.mark.integration

TOPIC = WorkCompleted.topic
CONSUMERS = ("billing", "payroll", "fund")  # every service reading the contracts topic
HANDLERS = ("billing", "payroll")  # those handling WorkCompleted


def completed(contract_id: str, branch: str = "BE") -> WorkCompleted:
    return WorkCompleted(contract_id=contract_id, member_id="m-poison", branch=branch, version=3,
                         occurred_at=datetime.now(UTC), last_work_day=date.today(),
                         completed_at=datetime.now(UTC))


def headers_of(event_id: str, ce_type: str, subject: str) -> list[tuple[str, bytes]]:
    return [(k, v.encode()) for k, v in {
        "ce_specversion": "1.0", "ce_id": event_id, "ce_source": "/smart/BE/contracts",
        "ce_type": ce_type, "ce_time": datetime.now(UTC).isoformat(), "ce_subject": subject,
        "content-type": "application/json", POISON_HEADER: "1",
    }.items()]


async def skipped(http: httpx.AsyncClient, platform: PlatformProcesses, reason: str) -> float:
    found = 0.0
    for name in CONSUMERS:
        found += total(await metrics(http, platform.urls[name]), "smart_events_skipped",
                       f'reason="{reason}"')
    return found


async def test_poison_is_dead_lettered_with_its_reason_and_skips_are_counted(
    platform: PlatformProcesses, http: httpx.AsyncClient, tally: Tally,
) -> None:
    topic = platform.env["SMART_TOPIC_NAMESPACE"] + TOPIC
    ce_type = WorkCompleted.ce_type()
    before = {reason: await skipped(http, platform, reason)
              for reason in ("unknown_type", "other_branch")}

    malformed_id, missing_id, invalid_id = new_id(), new_id(), new_id()
    key, good_body, _ = encode(completed("c-poison"), new_id())
    other_branch = completed("c-other-branch", branch="LU")
    ob_key, ob_body, ob_headers = encode(other_branch, new_id())
    producer = AIOKafkaProducer(bootstrap_servers=platform.env["KAFKA_BOOTSTRAP_SERVERS"],
                                enable_idempotence=True)
    await producer.start()
    try:
        # malformed JSON under a known type
        await producer.send_and_wait(topic, b'{"contract_id": "c-1", "branch": ', key=b"c-1",
                                     headers=headers_of(malformed_id, ce_type, "c-1"))
        # a valid body without any CloudEvents header
        await producer.send_and_wait(topic, good_body, key=key,
                                     headers=[(POISON_HEADER, b"1"),
                                              ("x-missing-id", missing_id.encode())])
        # a known type whose body is not that type (fields missing, wrong types)
        await producer.send_and_wait(topic, b'{"contract_id": "c-2", "version": "three"}',
                                     key=b"c-2", headers=headers_of(invalid_id, ce_type, "c-2"))
        # skipped by design: a newer producer's type, and an event of a branch not served here
        await producer.send_and_wait(
            topic, b'{"contract_id": "c-3", "branch": "BE"}', key=b"c-3",
            headers=headers_of(new_id(), "coop.smart.contracts.contract.renegotiated.v9", "c-3"))
        await producer.send_and_wait(topic, ob_body, key=ob_key, headers=ob_headers)
    finally:
        await producer.stop()
    tally.faults["poison messages sent"] += 3
    tally.faults["skippable events sent"] += 2

    async def all_dead_lettered() -> list[dict[str, str]] | None:
        mine = [h for h in await dead_letters(platform)
                if h.get("ce_id") in (malformed_id, invalid_id)
                or h.get("x-missing-id") == missing_id]
        return mine if len(mine) >= len(CONSUMERS) + 2 * len(HANDLERS) else None

    letters = await eventually(all_dead_lettered, timeout=90, what="poison dead-lettered")
    for consumer in CONSUMERS:
        by = [h for h in letters if h["dlq_consumer"] == consumer]
        reasons = {h.get("ce_id") or "missing": h["dlq_error"] for h in by}
        assert len(by) == (3 if consumer in HANDLERS else 1), by
        assert "missing CloudEvents headers" in reasons["missing"]
        if consumer in HANDLERS:
            assert f"invalid {ce_type} body" in reasons[invalid_id]
            assert reasons[malformed_id], "a malformed body is dead-lettered with a reason"
        assert all(h["dlq_original_topic"] == topic for h in by)
    # nothing of the skipped ones in a dead-letter topic
    assert not [h for h in await dead_letters(platform)
                if h.get("ce_subject") in ("c-3", "c-other-branch")]

    async def counted() -> bool:
        return (await skipped(http, platform, "unknown_type") >= before["unknown_type"] + 2
                and await skipped(http, platform, "other_branch") >= before["other_branch"] + 2)

    await eventually(counted, timeout=60, what="skips counted in smart_events_skipped_total")

    # the consumers went on: their groups reach the end of the topics, and a real contract
    # signed now still gets its guarantee and its invoice
    await quiesce(platform)
    saga = Saga(platform, http)
    await saga.register()
    await saga.contract(await saga.today() + timedelta(days=1))
    await platform.advance_clock(timedelta(days=4))
    invoices = await eventually(saga.invoices, timeout=90, what="invoice after poison")
    assert len(invoices) == 1
