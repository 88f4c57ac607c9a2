"""The clients' credits a consumer batch reads cost what they hold, not what the branch issued.

Every batch of completed contracts reads the credit of its clients at once. Almost no invoice
holds credit, so on a young collection MongoDB's planner finds the branch's index as quick as the
partial index of the invoices holding credit; the read names the partial index, so it stays cheap
when the branch has issued thousands of invoices.
"""

from __future__ import annotations

from typing import Any

import pytest
from billing.store import INVOICES, invoices_holding_credit
from smart_shared.mongo import UnitOfWork

from .conftest import Billing

pytestmark = pytest.mark.integration

ISSUED = 600


def issued(n: int, holds_credit: bool = False) -> dict[str, Any]:
    return {"_id": f"credit-plan-{n:04d}", "branch": "BE", "number": f"CREDIT-PLAN-{n:04d}",
            "contract_id": f"credit-plan-contract-{n:04d}", "issue_date": "2026-11-02",
            "client": {"client_key": f"BE-credit-plan-{n % 200:03d}"},
            "holds_credit": holds_credit}


async def test_a_batch_reads_its_clients_credit_from_the_partial_index_not_the_whole_branch(
        billing: Billing) -> None:
    db = billing.db
    platform = billing.service.platform
    assert platform is not None

    async def read(clients: list[tuple[str, str]]) -> list[str]:
        async def work(uow: UnitOfWork) -> list[str]:
            return [doc["_id"] for doc in await invoices_holding_credit(uow, clients)]
        return await platform.database.transaction(work)

    # the branch's first batch: its client's credit read, its invoice issued
    async def first_batch(uow: UnitOfWork) -> list[str]:
        found = [doc["_id"] for doc in await invoices_holding_credit(
            uow, [("BE", "BE-credit-plan-000")])]
        await uow.db[INVOICES].insert_one(issued(ISSUED), session=uow.session)
        return found

    assert await platform.database.transaction(first_batch) == []
    await db[INVOICES].insert_many(
        [issued(n, holds_credit=n in (7, 407)) for n in range(ISSUED)])
    clients = [("BE", f"BE-credit-plan-{n:03d}") for n in range(0, 200, 3)] + [
        ("BE", "BE-credit-plan-007")]

    await db.command("profile", 2)
    try:
        batch = await read(clients)
        one = await read([("BE", "BE-credit-plan-007")])
    finally:
        await db.command("profile", 0)
    reads = [p async for p in db["system.profile"].find(
        {"ns": f"{db.name}.{INVOICES}", "op": "query"}).sort("ts", 1)]

    assert batch == ["credit-plan-0007", "credit-plan-0407"]
    assert one == ["credit-plan-0007", "credit-plan-0407"]
    assert [p["keysExamined"] for p in reads] == [2, 2]
    # named, the planner cannot settle on another (which of two plans finding nothing on a young
    # collection it keeps is not something a test can count on)
    assert [p["command"].get("hint") for p in reads] == ["client_credits", "client_credits"]
    # the partial index by client, never the branch's index of all its invoices
    assert all(p["planSummary"].startswith("IXSCAN { branch: 1, client.client_key: 1")
               and "_id: 1 }" not in p["planSummary"] for p in reads)
