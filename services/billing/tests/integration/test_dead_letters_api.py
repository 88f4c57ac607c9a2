"""A branch's admins see what billing could not handle and replay one letter once its cause is
fixed; nobody else sees them."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from smart_shared.auth import mint_token
from smart_shared.events.catalogue import CONTRACTS_TOPIC
from smart_shared.ids import new_id
from smart_testing import eventually

from .conftest import Billing

pytestmark = pytest.mark.integration


async def poison(billing: Billing, branch: str) -> str:
    """A WorkCompleted whose body is no WorkCompleted: billing dead-letters it at once."""
    event_id = new_id()
    headers = {"ce_specversion": "1.0", "ce_id": event_id,
               "ce_source": f"/smart/{branch}/contracts",
               "ce_type": "coop.smart.contracts.WorkCompleted.v1",
               "ce_time": datetime.now(UTC).isoformat(), "ce_subject": "contract-x",
               "content-type": "application/json"}
    producer = AIOKafkaProducer(bootstrap_servers=billing.settings.kafka_bootstrap_servers)
    await producer.start()
    try:
        await producer.send_and_wait(
            billing.settings.topic(CONTRACTS_TOPIC), json.dumps({"contract": "?"}).encode(),
            key=b"contract-x", headers=[(k, v.encode()) for k, v in headers.items()])
    finally:
        await producer.stop()
    return event_id


def as_(billing: Billing, role: str, branch: str = "BE") -> httpx.AsyncClient:
    token = mint_token(billing.settings, role, branch)  # type: ignore[arg-type]
    return httpx.AsyncClient(base_url=billing.url, timeout=30,
                             headers={"Authorization": f"Bearer {token}"})


async def test_an_admin_lists_and_replays_their_branchs_dead_letter_once(
        billing: Billing) -> None:
    mine = await poison(billing, "BE")
    async with as_(billing, "admin") as admin, as_(billing, "staff") as staff, \
            as_(billing, "admin", "FR") as other:

        async def listed() -> list[dict[str, str]]:
            items = (await admin.get("/v1/dead-letters")).json()["items"]
            return [item for item in items if item["event_id"] == mine]

        (letter,) = await eventually(listed)
        assert letter["branch"] == "BE" and letter["type"].endswith("WorkCompleted.v1")
        assert letter["error"] and letter["topic"] == CONTRACTS_TOPIC
        assert (await staff.get("/v1/dead-letters")).status_code == 403
        theirs = (await other.get("/v1/dead-letters")).json()["items"]
        assert mine not in {item["event_id"] for item in theirs}
        assert (await other.post(f"/v1/dead-letters/{mine}/replay")).status_code == 404

        replayed = await admin.post(f"/v1/dead-letters/{mine}/replay")
        assert replayed.status_code == 200, replayed.text
        assert replayed.json()["event_id"] == mine
        # still poison, it died again as a new letter; the replayed one is no longer pending

        async def died_again() -> list[dict[str, str]]:
            found = await listed()
            return found if found and found[0]["offset"] != letter["offset"] else []

        (again,) = await eventually(died_again)
    assert (again["partition"], again["offset"]) != (letter["partition"], letter["offset"])
