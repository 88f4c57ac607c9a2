"""Many events in one transaction, as the consumer handles a batch: what the transaction already
read or wrote is not read again, and it must give the same results as one event at a time."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from fund import contributions, guarantees, store
from fund.check import check_ledger
from fund.domain import FloorBreached, Transfer
from pymongo.errors import OperationFailure
from smart_shared.events import InvoiceIssued, InvoicePaid
from smart_shared.ids import new_id
from smart_shared.money import Money
from smart_shared.mongo import Database, UnitOfWork

from .conftest import NOW, Fund, contract_signed, salary_due

pytestmark = pytest.mark.integration


def database(fund: Fund) -> Database:
    return fund.service.platform.database  # type: ignore[union-attr,no-any-return]


async def guarantee(fund: Fund, contract: str, branch: str = "BE") -> dict:  # type: ignore[type-arg]
    response = await fund.http.get(f"/v1/guarantees/{contract}", headers=fund.token(branch=branch))
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def balances(fund: Fund, branch: str = "BE") -> dict[str, Decimal]:
    db = fund.service.platform.db  # type: ignore[union-attr]
    return {doc["account"]: store.dec(doc["balance"])
            async for doc in db[store.ACCOUNTS_COLLECTION].find({"branch": branch})}


async def assert_reconciled(fund: Fund) -> None:
    report = await check_ledger(fund.service.platform.db, ["BE", "FR"])  # type: ignore[union-attr]
    assert report["ok"], report["mismatches"]


def invoice_issued(contract: str, member: str, invoice: str) -> InvoiceIssued:
    return InvoiceIssued(
        branch="BE", version=1, occurred_at=NOW, invoice_id=invoice, contract_id=contract,
        member_id=member, number="BE-2026-000009", issue_date=date(2026, 3, 17),
        due_date=date(2026, 4, 16), client_key="k", client_kind="business",
        amount_excl_vat=Money(amount="10000.00"), vat_rate=Decimal("0.21"),
        vat_amount=Money(amount="2100.00"), total=Money(amount="12100.00"),
        reverse_charge=False)


def invoice_paid(contract: str, member: str, invoice: str) -> InvoicePaid:
    return InvoicePaid(
        branch="BE", version=3, occurred_at=NOW, invoice_id=invoice, contract_id=contract,
        member_id=member, amount_excl_vat=Money(amount="10000.00"),
        total=Money(amount="12100.00"), paid_on=date(2026, 4, 10))


async def test_caps_and_the_whole_life_of_a_guarantee_within_one_transaction(fund: Fund) -> None:
    client = "client-" + new_id()
    contracts = [new_id() for _ in range(4)]
    members = [new_id() for _ in range(4)]
    invoice, salary = new_id(), new_id()
    before = await balances(fund)

    async def batch(uow: UnitOfWork) -> None:
        # 10,000.00 excl. VAT costs 9,350.00: two fit under the 25,000.00 client cap, not three
        for contract, member in zip(contracts[:3], members[:3], strict=True):
            await guarantees.decide(
                uow, contract_signed(contract, member, client, "10000.00"))
        await guarantees.decide(  # the same fact again: decided already
            uow, contract_signed(contracts[0], members[0], client, "10000.00"))
        await guarantees.note_invoice(uow, invoice_issued(contracts[0], members[0], invoice))
        await guarantees.advance_salary_cost(
            uow, salary_due(contracts[0], members[0], salary, "10000.00", "650.00"))
        await contributions.recover_advance(uow, invoice_paid(contracts[0], members[0], invoice))
        await contributions.recover_advance(  # again
            uow, invoice_paid(contracts[0], members[0], invoice))
        # the client's exposure was freed by the payment: room for one more
        await guarantees.decide(
            uow, contract_signed(contracts[3], members[3], client, "10000.00"))
        assert uow.staged_events == 6

    await database(fund).transaction(batch)

    statuses = [(await guarantee(fund, c))["status"] for c in contracts]
    assert statuses == ["granted", "granted", "declined", "granted"]
    assert (await guarantee(fund, contracts[2]))["reason"] == "client_cap_exceeded"
    first = await guarantee(fund, contracts[0])
    assert first["reservation"] == "posted" and first["invoice_id"] == invoice
    assert first["advanced"]["amount"] == "9350.00"
    assert first["recovered"]["amount"] == "9350.00" and first["version"] == 3
    after = await balances(fund)
    assert after["reserved"] - before["reserved"] == Decimal("18700.00")
    assert after["advances"] == before["advances"]
    assert after["contributions"] - before["contributions"] == Decimal("100.00")
    assert after["free"] - before["free"] == Decimal("-18600.00")
    exposure = await fund.service.platform.db[store.EXPOSURES].find_one(  # type: ignore[union-attr]
        {"_id": f"BE:client:{client}"})
    assert store.dec(exposure["amount"]) == Decimal("18700.00")  # type: ignore[index]
    await assert_reconciled(fund)


async def test_the_free_balance_is_followed_within_one_transaction(fund: Fund) -> None:
    response = await fund.http.post(
        "/v1/fund/capital", json={"amount": {"amount": "1000.00"}, "note": "batch test"},
        headers={**fund.token("admin", branch="FR"), "Idempotency-Key": new_id()})
    assert response.status_code == 201, response.text
    free = Decimal(response.json()["fund"]["free_balance"]["amount"])
    assert Decimal("915.00") <= free < Decimal("1830.00")  # room for one 915.00 guarantee
    contracts = [new_id(), new_id()]

    async def batch(uow: UnitOfWork) -> None:
        for contract in contracts:
            await guarantees.decide(
                uow, contract_signed(contract, new_id(), "fr-" + contract, "1000.00",
                                     branch="FR", country="FR"))

    await database(fund).transaction(batch)
    decisions = [await guarantee(fund, c, "FR") for c in contracts]
    assert [d["status"] for d in decisions] == ["granted", "declined"]
    assert decisions[1]["reason"] == "fund_insufficient"
    assert (await balances(fund, "FR"))["free"] == free - Decimal("915.00")
    await assert_reconciled(fund)


async def test_a_retried_transaction_reads_everything_again(fund: Fund) -> None:
    contract, member = new_id(), new_id()
    signed = contract_signed(contract, member, "client-" + new_id(), "1000.00")
    before = await balances(fund)
    attempts = 0

    async def batch(uow: UnitOfWork) -> None:
        nonlocal attempts
        attempts += 1
        await guarantees.decide(uow, signed)
        await guarantees.decide(uow, signed)  # decided: books nothing more
        if attempts == 1:
            # what a write conflict with another replica looks like: the whole work runs again
            raise OperationFailure("simulated write conflict", 112,
                                   {"errorLabels": ["TransientTransactionError"]})

    await database(fund).transaction(batch)
    assert attempts == 2
    decided = await guarantee(fund, contract)
    assert decided["status"] == "granted" and decided["version"] == 1
    after = await balances(fund)
    assert after["reserved"] - before["reserved"] == Decimal("935.00")
    assert before["free"] - after["free"] == Decimal("935.00")
    await assert_reconciled(fund)


async def test_every_floor_holds_after_each_transfer_not_only_at_the_end(fund: Fund) -> None:
    before = await balances(fund)
    contract = new_id()
    huge = before["reserved"] + before["free"] + Decimal("1.00")
    # released then reserved again: the reserved account would end where it started, but it
    # would go below zero on the way
    transfers = [
        Transfer(id=f"release:{contract}", branch="BE", kind="release", amount=huge,
                 contract_id=contract),
        Transfer(id=f"reserve:{contract}", branch="BE", kind="reserve", amount=huge,
                 contract_id=contract),
    ]

    async def batch(uow: UnitOfWork) -> None:
        await store.book_all(uow, transfers)

    with pytest.raises(FloorBreached, match="BE reserved"):
        await database(fund).transaction(batch)
    assert await balances(fund) == before
    assert await fund.service.platform.db[store.TRANSFERS].count_documents(  # type: ignore[union-attr]
        {"contract_id": contract}) == 0

    async def twice(uow: UnitOfWork) -> None:
        capital = Transfer(id=f"capital:BE:{contract}", branch="BE", kind="capital",
                           amount=Decimal("5.00"))
        assert await store.book_all(uow, [capital, capital]) == [capital]
        assert await store.book(uow, capital) is False

    await database(fund).transaction(twice)
    after = await balances(fund)
    assert after["capital"] - before["capital"] == Decimal("5.00")
    assert after["free"] - before["free"] == Decimal("5.00")
    await assert_reconciled(fund)


async def test_an_invoice_fact_repeated_under_a_new_event_id_changes_nothing(fund: Fund) -> None:
    contract, member, invoice = new_id(), new_id(), new_id()
    issued = invoice_issued(contract, member, invoice)

    async def link_twice(uow: UnitOfWork) -> None:
        # the same fact published again (a new event id, the same version) in one batch
        await guarantees.note_invoice(uow, issued)
        await guarantees.note_invoice(uow, issued)

    await database(fund).transaction(link_twice)
    stored = await fund.service.platform.db[store.INVOICES].find_one(  # type: ignore[union-attr]
        {"_id": invoice})
    assert stored is not None
    assert (stored["contract_id"], stored["version"], stored["status"]) == (
        contract, issued.version, "issued")
