"""What a consumer batch costs MongoDB: a constant number of commands, whatever its size.

The batch reads everything its events need at once and writes each collection once, just before
the commit, so fifty contracts cost what five cost.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal

import pytest
import pytest_asyncio
from fund import store
from fund.check import check_ledger
from fund.handlers import handlers
from smart_shared.events import Event, InvoiceIssued, InvoicePaid
from smart_shared.ids import new_id
from smart_shared.money import Money
from smart_testing import CountedConsumer, Infrastructure, counted_consumer

from .conftest import NOW, Fund, contract_signed, salary_due

pytestmark = pytest.mark.integration

# one prefetch, the inbox read, one write per collection (transfers, accounts, exposures,
# guarantees, invoices), the outbox and inbox inserts, the commit
MOST_COMMANDS_PER_BATCH = 10


@pytest_asyncio.fixture(loop_scope="session")
async def counted(fund: Fund, infrastructure: Infrastructure) -> AsyncIterator[CountedConsumer]:
    platform = fund.service.platform
    assert platform is not None
    async with counted_consumer(infrastructure.mongodb_uri, "fund", platform.database, handlers,
                                ["BE", "FR"]) as consumer:
        yield consumer


def invoice_issued(contract: str, member: str, invoice: str, amount: str) -> InvoiceIssued:
    return InvoiceIssued(
        branch="BE", version=1, occurred_at=NOW, invoice_id=invoice, contract_id=contract,
        member_id=member, number="BE-2026-000042", issue_date=date(2026, 3, 17),
        due_date=date(2026, 4, 16), client_key="k", client_kind="business",
        amount_excl_vat=Money(amount=amount), vat_rate=Decimal("0.21"),
        vat_amount=Money(amount="21.00"), total=Money(amount="121.00"), reverse_charge=False)


def invoice_paid(contract: str, member: str, invoice: str, amount: str) -> InvoicePaid:
    return InvoicePaid(
        branch="BE", version=3, occurred_at=NOW, invoice_id=invoice, contract_id=contract,
        member_id=member, amount_excl_vat=Money(amount=amount),
        total=Money(amount="121.00"), paid_on=date(2026, 4, 10))


async def a_life_in_batches(fund: Fund, counted: CountedConsumer, size: int) -> list[int]:
    """Sign, invoice, pay the salary of and get paid for ``size`` contracts, one batch each;
    the commands each batch cost."""
    client = "client-" + new_id()
    contracts = [(new_id(), new_id(), new_id(), new_id()) for _ in range(size)]
    batches: list[list[Event]] = [
        [contract_signed(c, m, client, "100.00") for c, m, _, _ in contracts],
        [invoice_issued(c, m, i, "100.00") for c, m, i, _ in contracts],
        [salary_due(c, m, s, "100.00", "6.50") for c, m, _, s in contracts],
        [invoice_paid(c, m, i, "100.00") for c, m, i, _ in contracts],
    ]
    totals = []
    for batch in batches:
        commands = await counted.handle(batch)
        totals.append(sum(commands.values()))
        assert totals[-1] <= MOST_COMMANDS_PER_BATCH, commands
    # 100.00 costs 93.50: reserved, advanced, then recovered, each contract once
    db = fund.service.platform.db  # type: ignore[union-attr]
    assert await db[store.GUARANTEES].count_documents({
        "_id": {"$in": [c for c, _, _, _ in contracts]}, "reservation": "posted",
        "advanced": "93.50", "recovered": "93.50", "invoice_paid": True, "version": 3,
    }) == size
    exposure = await db[store.EXPOSURES].find_one({"_id": f"BE:client:{client}"})
    assert exposure is not None and store.dec(exposure["amount"]) == Decimal("0.00")
    return totals


async def test_a_batch_of_fifty_contracts_costs_what_a_batch_of_five_costs(
        fund: Fund, counted: CountedConsumer) -> None:
    five = await a_life_in_batches(fund, counted, 5)
    fifty = await a_life_in_batches(fund, counted, 50)
    assert fifty == five
    report = await check_ledger(fund.service.platform.db, ["BE", "FR"])  # type: ignore[union-attr]
    assert report["ok"], report["mismatches"]
