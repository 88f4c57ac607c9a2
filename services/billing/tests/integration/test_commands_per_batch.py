"""What billing costs MongoDB: a consumer batch a constant number of commands, whatever its size.

The batch reads its contracts at once and writes each collection once, just before the commit, so
fifty completed contracts cost what five cost.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
from billing.domain.camt053 import BankStatement, StatementFile, StatementLine, parse_statements
from billing.handlers import handlers
from billing.payments import IncomingPayment, receive_payment
from billing.statements import import_statements
from sample_statements import BE_ACCOUNT, document, entry, stmt
from smart_shared.events import Event
from smart_shared.events.catalogue import ContractCancelled
from smart_shared.http import idempotent
from smart_shared.ids import new_id
from smart_shared.mongo import UnitOfWork
from smart_testing import CountedConsumer, Infrastructure, counted_consumer

from .conftest import Billing, contract_signed, invoice_of, today, work_completed

pytestmark = pytest.mark.integration

# the inbox read, the contracts read, the clients' credits read, the counter taken and its
# block added, the contracts written, the invoices, the invoice mails, outbox and inbox
# inserts, the commit
MOST_COMMANDS_PER_BATCH = 11
# the idempotency key read, the invoice read, the payment insert, the invoice update, the key
# insert, the outbox insert, the commit
MOST_COMMANDS_PER_PAYMENT = 7


@pytest.fixture(scope="module")
async def counted(billing: Billing, infrastructure: Infrastructure
                  ) -> AsyncIterator[CountedConsumer]:
    platform = billing.service.platform
    assert platform is not None
    async with counted_consumer(infrastructure.mongodb_uri, "billing", platform.database,
                                handlers, ["BE", "FR"]) as consumer:
        yield consumer


def contract_cancelled(contract_id: str) -> ContractCancelled:
    signed = contract_signed(contract_id)
    return ContractCancelled(branch="BE", version=6, occurred_at=signed.occurred_at,
                             contract_id=contract_id, member_id=signed.member_id,
                             reason="client withdrew", cancelled_at=signed.occurred_at)


async def contracts_in_batches(billing: Billing, counted: CountedConsumer, size: int) -> list[int]:
    """Sign then complete ``size`` contracts, complete then sign as many in one batch, and
    cancel, sign and complete as many more: what each batch cost."""
    invoiced = [new_id() for _ in range(size)]
    signed_late = [new_id() for _ in range(size)]
    cancelled = [new_id() for _ in range(size)]
    batches: list[list[Event]] = [
        [contract_signed(c) for c in invoiced],
        [work_completed(c) for c in invoiced],
        [event for c in signed_late for event in (work_completed(c), contract_signed(c))],
        [contract_cancelled(c) for c in cancelled],
        [event for c in cancelled for event in (contract_signed(c), work_completed(c))],
    ]
    totals = []
    for batch in batches:
        commands = await counted.handle(batch)
        totals.append(sum(commands.values()))
        assert totals[-1] <= MOST_COMMANDS_PER_BATCH, commands
    invoices = billing.db["invoices"]
    assert await invoices.count_documents({"contract_id": {"$in": invoiced + signed_late}}) == (
        2 * size)
    assert await invoices.count_documents({"contract_id": {"$in": cancelled}}) == 0
    contract = await billing.db["contracts"].find_one({"_id": signed_late[0]})
    invoice = await invoice_of(billing, signed_late[0])
    assert contract is not None and invoice is not None
    assert (contract["branch"], contract["member_id"], contract["version"]) == (
        "BE", "member-1", 5)
    assert contract["invoice_id"] == invoice["_id"]
    assert contract["signed"]["contract_id"] == signed_late[0]
    assert contract["completed"]["version"] == 5
    contract = await billing.db["contracts"].find_one({"_id": cancelled[0]})
    assert contract is not None and "invoice_id" not in contract
    assert (contract["version"], contract["cancelled"]["version"]) == (6, 6)
    return totals


async def test_a_batch_of_fifty_completed_contracts_costs_what_a_batch_of_five_costs(
    billing: Billing, counted: CountedConsumer,
) -> None:
    five = await contracts_in_batches(billing, counted, 5)
    fifty = await contracts_in_batches(billing, counted, 50)
    assert fifty == five
    docs = await billing.db["invoices"].find({"branch": "BE"}, {"number": 1}).to_list(None)
    numbers = sorted(int(doc["number"].rsplit("-", 1)[1]) for doc in docs)
    assert numbers == list(range(1, len(numbers) + 1))


async def test_a_payment_request_costs_a_fixed_number_of_commands(
    billing: Billing, counted: CountedConsumer,
) -> None:
    contract_id = new_id()
    await counted.handle([contract_signed(contract_id), work_completed(contract_id)])
    invoice = await invoice_of(billing, contract_id)
    assert invoice is not None
    payment = IncomingPayment(
        branch="BE", amount=Decimal("100.00"), currency="EUR", received_on=today(),
        payer_iban=None, payer_name=None, reference=invoice["structured_reference"],
        source="api",
    )

    async def work(uow: UnitOfWork) -> dict[str, Any]:
        return await receive_payment(uow, payment, None)

    counted.counter.reset()
    result, replayed = await idempotent(counted.consumer.database, new_id(), "payment:BE",
                                        {"amount": "100.00"}, work)
    assert result["outcome"] == "partially_paid" and not replayed
    assert counted.counter.total <= MOST_COMMANDS_PER_PAYMENT, counted.counter.by_name


async def statement_of(billing: Billing, counted: CountedConsumer, size: int
                       ) -> tuple[BankStatement, list[dict[str, Any]]]:
    """``size`` invoices and a statement paying each in two halves (two lines per invoice)."""
    contracts = [new_id() for _ in range(size)]
    await counted.handle([e for c in contracts for e in (contract_signed(c), work_completed(c))])
    invoices: list[dict[str, Any]] = []
    lines = []
    for contract in contracts:
        invoice = await invoice_of(billing, contract)
        assert invoice is not None
        invoices.append(invoice)
        half = Decimal(invoice["total"]) / 2
        for part in (1, 2):
            lines.append(StatementLine(
                dedup_key=f"acct:{invoice['_id']}:{part}", amount=half, currency="EUR",
                credit=True, booked_on=today(), payer_name="Client", payer_iban=None,
                remittance=None, structured_reference=invoice["structured_reference"]))
    return BankStatement(new_id(), BE_ACCOUNT, tuple(lines)), invoices


async def test_a_statement_costs_the_same_few_commands_whatever_its_length(
    billing: Billing, counted: CountedConsumer,
) -> None:
    costs = []
    for size in (3, 30):
        statement, invoices = await statement_of(billing, counted, size)

        async def work(uow: UnitOfWork, statement: BankStatement = statement) -> dict[str, Any]:
            return await import_statements(uow, "BE", [statement])

        counted.counter.reset()
        report = await counted.consumer.database.transaction(work)
        costs.append(dict(counted.counter.by_name))
        # the second half of each invoice is booked on the invoice as the first half left it
        assert report["summary"] == {"partially_paid": size, "matched": size}
        for invoice in invoices:
            stored = await billing.db["invoices"].find_one({"_id": invoice["_id"]})
            assert stored is not None
            assert (stored["status"], stored["balance_due"], stored["version"]) == (
                "paid", "0.00", invoice["version"] + 3)
            assert await billing.db["payments"].count_documents(
                {"invoice_id": invoice["_id"]}) == 2
    # booked keys (payments, parked), the invoices read; payments, invoices, statement, outbox
    # and the receipts' mails written; the commit
    assert costs[0] == costs[1], costs
    assert sum(costs[1].values()) <= 9, costs[1]


async def a_file_of(billing: Billing, counted: CountedConsumer, statements: int, size: int
                    ) -> StatementFile:
    """A camt.053 file of ``statements`` statements, each paying ``size`` invoices and bringing
    as many payments of unknown references (parked)."""
    contracts = [new_id() for _ in range(statements * size)]
    await counted.handle([e for c in contracts for e in (contract_signed(c), work_completed(c))])
    entries = []
    for contract in contracts:
        invoice = await invoice_of(billing, contract)
        assert invoice is not None
        entries.append(entry(new_id()[-12:], invoice["total"], invoice["structured_reference"]))
        entries.append(entry(new_id()[-12:], "12.34", "+++000/0000/00097+++"))
    return parse_statements(document(new_id()[-12:], [
        stmt(new_id()[-12:], entries[n * 2 * size:(n + 1) * 2 * size]) for n in range(statements)]))


async def test_a_file_of_several_statements_with_parked_lines_costs_what_one_statement_costs(
    billing: Billing, counted: CountedConsumer,
) -> None:
    costs = []
    for statements, size in ((1, 3), (3, 10)):
        file = await a_file_of(billing, counted, statements, size)

        async def work(uow: UnitOfWork, file: StatementFile = file) -> dict[str, Any]:
            return await import_statements(uow, "BE", file.statements, file.message_id)

        counted.counter.reset()
        report = await counted.consumer.database.transaction(work)
        costs.append(dict(counted.counter.by_name))
        assert report["summary"] == {"matched": statements * size,
                                     "unmatched": statements * size}
    # booked keys (payments, parked), the invoices read; payments, parked payments, invoices,
    # statements, the receipts' mails, outbox written; the commit
    assert costs[0] == costs[1], costs
    assert sum(costs[1].values()) <= 10, costs[1]
