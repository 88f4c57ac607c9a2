"""The clients' credits a consumer batch reads cost what they hold, not what the branch issued.

Every batch of completed contracts reads the credit of its clients at once; almost no invoice
holds credit, so the read must go to the partial index of those that do.
"""

from __future__ import annotations

import pytest
from billing.store import INVOICES, holding_credit

from .conftest import Billing

pytestmark = pytest.mark.integration

ISSUED = 600


async def test_a_batch_reads_its_clients_credit_from_the_partial_index_not_the_whole_branch(
        billing: Billing) -> None:
    invoices = billing.db[INVOICES]
    await invoices.insert_many([
        {"_id": f"credit-plan-{n:04d}", "branch": "BE", "number": f"CREDIT-PLAN-{n:04d}",
         "contract_id": f"credit-plan-contract-{n:04d}", "issue_date": "2026-11-02",
         "client": {"client_key": f"BE-credit-plan-{n % 200:03d}"},
         "holds_credit": n in (7, 407)}
        for n in range(ISSUED)])
    clients = [("BE", f"BE-credit-plan-{n:03d}") for n in range(0, 200, 3)] + [
        ("BE", "BE-credit-plan-007")]

    explained = await billing.db.command(
        "explain", {"find": INVOICES, "filter": holding_credit(clients),
                    "sort": {"issue_date": 1, "_id": 1}}, verbosity="executionStats")

    stats = explained["executionStats"]
    assert [doc["_id"] async for doc in invoices.find(holding_credit(clients))] == [
        "credit-plan-0007", "credit-plan-0407"]
    assert stats["nReturned"] == 2
    assert stats["totalKeysExamined"] <= 2 + len(clients)
    assert "client_credits" in str(explained["queryPlanner"]["winningPlan"])
