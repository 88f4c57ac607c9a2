"""The fund service through real Kafka and MongoDB: decisions, advances, recoveries, losses."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import date
from decimal import Decimal

import pytest
from fund import guarantees
from fund.store import ACCOUNTS_COLLECTION
from smart_shared.codec import decimal128
from smart_shared.events import (
    AdvancePaid,
    AdvanceRecovered,
    ContractCancelled,
    DebtWrittenOff,
    GuaranteeDeclined,
    GuaranteeGranted,
    InvoiceIssued,
    InvoicePaid,
    LossAbsorbed,
)
from smart_shared.ids import new_id
from smart_shared.money import Money
from smart_shared.mongo import UnitOfWork
from smart_testing import eventually

from .conftest import NOW, Fund, contract_signed, salary_due

pytestmark = pytest.mark.integration


async def position(fund: Fund, branch: str = "BE") -> dict:  # type: ignore[type-arg]
    response = await fund.http.get("/v1/fund", params={"branch": branch},
                                   headers=fund.token(branch=branch))
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def amount(doc: dict, name: str) -> Decimal:  # type: ignore[type-arg]
    return Decimal(doc[name]["amount"])


async def signed_and_decided(fund: Fund, contract_id: str, member: str, client: str,
                             value: str, **options: object) -> object:
    await fund.send(contract_signed(contract_id, member, client, value, **options))  # type: ignore[arg-type]

    async def decided() -> object:
        events = fund.of(GuaranteeGranted, contract_id) + fund.of(GuaranteeDeclined, contract_id)
        return events[0] if events else None

    return await eventually(decided)


def invoice_issued(contract_id: str, member: str, invoice_id: str) -> InvoiceIssued:
    return InvoiceIssued(
        branch="BE", version=1, occurred_at=NOW, invoice_id=invoice_id, contract_id=contract_id,
        member_id=member, number="BE-2026-000001", issue_date=date(2026, 3, 17),
        due_date=date(2026, 4, 16), client_key="k", client_kind="business",
        amount_excl_vat=Money(amount="1000.00"), vat_rate=Decimal("0.21"),
        vat_amount=Money(amount="210.00"), total=Money(amount="1210.00"), reverse_charge=False)


def invoice_paid(contract_id: str, member: str, invoice_id: str) -> InvoicePaid:
    return InvoicePaid(
        branch="BE", version=3, occurred_at=NOW, invoice_id=invoice_id, contract_id=contract_id,
        member_id=member, amount_excl_vat=Money(amount="1000.00"),
        total=Money(amount="1210.00"), paid_on=date(2026, 4, 10))


async def test_the_start_up_capital_is_booked_once(fund: Fund) -> None:
    before = await position(fund)
    assert amount(before, "capital") >= Decimal("100000.00")
    transfers = await fund.http.get("/v1/fund/transfers", headers=fund.token())
    seeds = [t for t in transfers.json()["items"] if t["transfer_id"] == "capital:BE:initial"]
    assert len(seeds) == 1


async def test_capital_injection_is_idempotent_and_admin_only(fund: Fund) -> None:
    before = await position(fund)
    body = {"amount": {"amount": "2500.00", "currency": "EUR"}, "note": "board decision 7"}
    key = {"Idempotency-Key": new_id()}
    first = await fund.http.post("/v1/fund/capital", json=body,
                                 headers={**fund.token("admin"), **key})
    again = await fund.http.post("/v1/fund/capital", json=body,
                                 headers={**fund.token("admin"), **key})
    assert first.status_code == 201, first.text
    assert again.json() == first.json()
    after = await position(fund)
    assert amount(after, "capital") - amount(before, "capital") == Decimal("2500.00")
    reused = await fund.http.post("/v1/fund/capital", json={**body, "note": "another one"},
                                  headers={**fund.token("admin"), **key})
    assert reused.status_code == 422
    staff = await fund.http.post("/v1/fund/capital", json=body,
                                 headers={**fund.token("staff"), "Idempotency-Key": new_id()})
    assert staff.status_code == 403


@pytest.mark.parametrize(("body", "headers", "field"), [
    ({"amount": {"amount": "abc"}, "note": "x long"}, {"Idempotency-Key": "k1"}, "amount"),
    ({"amount": {"amount": 10.5}, "note": "x long"}, {"Idempotency-Key": "k2"}, "amount"),
    ({"amount": {"amount": "-5.00"}, "note": "x long"}, {"Idempotency-Key": "k3"}, "amount"),
    ({"amount": {"amount": "5.00"}, "note": "x long", "extra": 1}, {"Idempotency-Key": "k4"},
     "extra"),
    ({"amount": {"amount": "5.00", "currency": "USD"}, "note": "x long"},
     {"Idempotency-Key": "k5"}, "amount.currency"),
    ({"amount": {"amount": "5.00"}, "note": "x long"}, {}, "Idempotency-Key"),
])
async def test_bad_capital_input_is_a_400_naming_the_field_and_changes_nothing(
    fund: Fund, body: dict, headers: dict, field: str,  # type: ignore[type-arg]
) -> None:
    before = await position(fund)
    response = await fund.http.post("/v1/fund/capital", json=body,
                                    headers={**fund.token("admin"), **headers})
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert any(field in error["field"] for error in response.json()["errors"]), response.json()
    assert await position(fund) == before


async def test_bad_queries_are_400s_and_other_branches_are_refused(fund: Fund) -> None:
    response = await fund.http.get("/v1/fund/transfers", params={"limit": 0},
                                   headers=fund.token())
    assert response.status_code == 400 and "limit" in response.text
    response = await fund.http.get("/v1/fund/transfers", params={"cursor": "%%%"},
                                   headers=fund.token())
    assert response.status_code == 400 and "cursor" in response.text
    assert (await fund.http.get("/v1/fund", params={"branch": "FR"},
                                headers=fund.token())).status_code == 403
    assert (await fund.http.get("/v1/fund", headers=fund.token("member", member_id="m"))
            ).status_code == 403
    assert (await fund.http.get("/v1/fund")).status_code == 401


async def test_grant_advance_recovery_books_each_step_once(fund: Fund) -> None:
    contract, member, invoice, salary = new_id(), new_id(), new_id(), new_id()
    before = await position(fund)
    signed = contract_signed(contract, member, "client-happy", "1000.00")
    event_id = await fund.send(signed)
    await fund.send(signed, event_id)  # redelivered
    await fund.send(signed)  # the same fact published again
    granted = await fund.wait_for(GuaranteeGranted, contract)
    assert granted[0].amount == Money(amount="935.00") and granted[0].version == 1
    reserved = await position(fund)
    assert amount(reserved, "reserved") - amount(before, "reserved") == Decimal("935.00")

    await fund.send(invoice_issued(contract, member, invoice))
    due = salary_due(contract, member, salary, "1000.00", "65.00")
    due_id = await fund.send(due)
    await fund.send(due, due_id)
    await fund.send(due)
    advance = (await fund.wait_for(AdvancePaid, contract))[0]
    assert advance.amount == Money(amount="935.00") and advance.salary_id == salary
    assert advance.transfer_id == f"advance:{contract}" and advance.version == 2

    paid = invoice_paid(contract, member, invoice)
    await fund.send(paid)
    await fund.send(paid)
    recovered = (await fund.wait_for(AdvanceRecovered, contract))[0]
    assert recovered.amount == Money(amount="935.00")
    assert recovered.contribution == Money(amount="10.00")
    await asyncio.sleep(1.5)
    assert len(fund.of(GuaranteeGranted, contract)) == 1
    assert len(fund.of(AdvancePaid, contract)) == 1
    assert len(fund.of(AdvanceRecovered, contract)) == 1

    after = await position(fund)
    assert amount(after, "free_balance") - amount(before, "free_balance") == Decimal("10.00")
    assert amount(after, "contributions") - amount(before, "contributions") == Decimal("10.00")
    transfers = (await fund.http.get("/v1/fund/transfers", params={"contract_id": contract},
                                     headers=fund.token())).json()["items"]
    assert sorted(t["kind"] for t in transfers) == ["advance", "contribution", "recover",
                                                    "reserve"]
    guarantee = (await fund.http.get(f"/v1/guarantees/{contract}",
                                     headers=fund.token("member", member_id=member))).json()
    assert guarantee["status"] == "granted" and guarantee["reservation"] == "posted"
    assert guarantee["outstanding_advance"]["amount"] == "0.00"
    assert (await fund.http.get(f"/v1/guarantees/{contract}",
                                headers=fund.token("member", member_id="someone-else"))
            ).status_code == 404


async def test_paid_before_the_salary_is_due_releases_and_never_advances(fund: Fund) -> None:
    contract, member, invoice = new_id(), new_id(), new_id()
    await signed_and_decided(fund, contract, member, "client-early", "1000.00")
    await fund.send(invoice_paid(contract, member, invoice))
    recovered = (await fund.wait_for(AdvanceRecovered, contract))[0]
    assert recovered.amount == Money.zero() and recovered.contribution == Money(amount="10.00")
    await fund.send(salary_due(contract, member, new_id(), "1000.00", "65.00"))
    await asyncio.sleep(2)
    assert fund.of(AdvancePaid, contract) == []
    guarantee = (await fund.http.get(f"/v1/guarantees/{contract}", headers=fund.token())).json()
    assert guarantee["reservation"] == "voided" and guarantee["reserved"]["amount"] == "0.00"


async def test_a_written_off_debt_becomes_the_funds_loss(fund: Fund) -> None:
    contract, member, invoice = new_id(), new_id(), new_id()
    before = await position(fund)
    await signed_and_decided(fund, contract, member, "client-lost", "1000.00")
    await fund.send(invoice_issued(contract, member, invoice))
    await fund.send(salary_due(contract, member, new_id(), "1000.00", "65.00"))
    await fund.wait_for(AdvancePaid, contract)
    written_off = DebtWrittenOff(
        branch="BE", version=6, occurred_at=NOW, invoice_id=invoice, contract_id=contract,
        case_id=new_id(), member_id=member, amount=Money(amount="1210.00"),
        reason="collection failed", written_off_on=date(2026, 10, 1))
    await fund.send(written_off)
    await fund.send(written_off)
    loss = (await fund.wait_for(LossAbsorbed, contract))[0]
    assert loss.amount == Money(amount="935.00") and loss.invoice_id == invoice
    await asyncio.sleep(1.5)
    assert len(fund.of(LossAbsorbed, contract)) == 1
    after = await position(fund)
    assert amount(after, "losses") - amount(before, "losses") == Decimal("935.00")
    assert amount(after, "free_balance") - amount(before, "free_balance") == Decimal("-935.00")
    assert amount(after, "advanced") == amount(before, "advanced")


async def test_a_cancelled_contract_releases_its_reservation(fund: Fund) -> None:
    contract, member = new_id(), new_id()
    before = await position(fund)
    await signed_and_decided(fund, contract, member, "client-cancel", "1000.00")
    await fund.send(ContractCancelled(branch="BE", version=4, occurred_at=NOW,
                                      contract_id=contract, member_id=member,
                                      reason="client withdrew", cancelled_at=NOW))

    async def released() -> bool:
        doc = (await fund.http.get(f"/v1/guarantees/{contract}", headers=fund.token())).json()
        return doc["reservation"] == "voided"

    await eventually(released)
    after = await position(fund)
    assert amount(after, "free_balance") == amount(before, "free_balance")
    assert amount(after, "reserved") == amount(before, "reserved")


async def test_unsigned_and_non_eu_clients_are_declined(fund: Fund) -> None:
    unsigned = await signed_and_decided(fund, new_id(), new_id(), "c-unsigned", "1000.00",
                                        client_signed=False)
    assert isinstance(unsigned, GuaranteeDeclined) and unsigned.reason == "client_not_signed"
    abroad = await signed_and_decided(fund, new_id(), new_id(), "c-swiss", "1000.00",
                                      country="CH")
    assert isinstance(abroad, GuaranteeDeclined) and abroad.reason == "client_outside_eu"


async def test_caps_hold_across_several_contracts(fund: Fund) -> None:
    # 10,000.00 excl. VAT costs 9,350.00: two fit under the client cap, not three
    client = "client-" + new_id()
    decisions = [await signed_and_decided(fund, new_id(), new_id(), client, "10000.00")
                 for _ in range(3)]
    assert [type(d).__name__ for d in decisions] == [
        "GuaranteeGranted", "GuaranteeGranted", "GuaranteeDeclined"]
    assert decisions[2].reason == "client_cap_exceeded"  # type: ignore[attr-defined]

    member = new_id()
    first = await signed_and_decided(fund, new_id(), member, "c-" + new_id(), "10000.00")
    second = await signed_and_decided(fund, new_id(), member, "c-" + new_id(), "10000.00")
    assert isinstance(first, GuaranteeGranted)
    assert isinstance(second, GuaranteeDeclined) and second.reason == "member_cap_exceeded"

    # the client pays the first contract: its exposure is freed for a new one
    paid_contract = decisions[0].contract_id  # type: ignore[attr-defined]
    await fund.send(invoice_paid(paid_contract, decisions[0].member_id, new_id()))  # type: ignore[attr-defined]
    await fund.wait_for(AdvanceRecovered, paid_contract)
    again = await signed_and_decided(fund, new_id(), new_id(), client, "10000.00")
    assert isinstance(again, GuaranteeGranted)


async def test_declined_when_the_fund_is_short(fund: Fund) -> None:
    # the FR fund of this deployment has no capital yet
    decision = await signed_and_decided(fund, new_id(), new_id(), "fr-client", "1000.00",
                                        branch="FR", country="FR")
    assert isinstance(decision, GuaranteeDeclined) and decision.reason == "fund_insufficient"


async def test_two_guarantees_racing_for_the_last_euros_cannot_both_be_granted(
    fund: Fund,
) -> None:
    response = await fund.http.post(
        "/v1/fund/capital", json={"amount": {"amount": "1000.00"}, "note": "race test"},
        headers={**fund.token("admin", branch="FR"), "Idempotency-Key": new_id()})
    assert response.status_code == 201, response.text
    free = Decimal(response.json()["fund"]["free_balance"]["amount"])
    assert free >= Decimal("915.00")
    assert free < Decimal("1830.00")  # room for one 915.00 guarantee, not two
    contracts = [new_id(), new_id()]
    database = fund.service.platform.database  # type: ignore[union-attr]

    async def decide(contract: str) -> None:
        event = contract_signed(contract, new_id(), "fr-" + contract, "1000.00",
                                branch="FR", country="FR")

        async def work(uow: UnitOfWork) -> None:
            await guarantees.decide(uow, event)

        await database.transaction(work)

    await asyncio.gather(*(decide(c) for c in contracts))
    statuses = sorted([
        (await fund.http.get(f"/v1/guarantees/{c}", headers=fund.token(branch="FR"))
         ).json()["status"] for c in contracts])
    assert statuses == ["declined", "granted"]
    after = await position(fund, "FR")
    assert Decimal(after["free_balance"]["amount"]) == free - Decimal("915.00")


async def test_zz_the_ledger_reconciles_and_the_check_finds_tampering(fund: Fund) -> None:
    await asyncio.sleep(1)
    report = (await fund.http.get("/v1/fund/check", headers=fund.token())).json()
    assert report["ok"], report["mismatches"]
    env = {**os.environ, "SMART_MONGODB_DATABASE": fund.settings.mongodb_database,
           "SMART_BRANCHES": '["BE", "FR"]'}
    command = subprocess.run([sys.executable, "-m", "fund.check"], env=env,
                             capture_output=True, text=True, timeout=60)
    assert command.returncode == 0, command.stdout + command.stderr

    await fund.service.platform.db[ACCOUNTS_COLLECTION].update_one(  # type: ignore[union-attr]
        {"_id": "BE:free"}, {"$inc": {"balance": decimal128(Decimal("0.01"))}})
    report = (await fund.http.get("/v1/fund/check", headers=fund.token())).json()
    assert not report["ok"]
    assert {"branch": "BE", "account": "free", "field": "balance"}.items() <= \
        report["mismatches"][0].items()
    command = subprocess.run([sys.executable, "-m", "fund.check"], env=env,
                             capture_output=True, text=True, timeout=60)
    assert command.returncode == 1
