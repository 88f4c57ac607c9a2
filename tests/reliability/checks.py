"""The end-state guarantees of the saga, checked against APIs, databases and Kafka."""

from __future__ import annotations

import re
from collections import defaultdict
from decimal import Decimal
from typing import Any

from smart_shared.mongo import connect

from tests.reliability.saga import (
    Published,
    Saga,
    database_names,
    list_all,
    published,
    staff,
    unintended_dead_letters,
)

NUMBER = re.compile(r"^(?P<branch>[A-Z]{2})-(?P<year>\d{4})-(?P<seq>\d{6})$")


def assert_gapless(numbers: list[str]) -> None:
    """Invoice numbers ``{branch}-{year}-{seq:06}``: each series is exactly 1..n."""
    series: dict[tuple[str, str], list[int]] = defaultdict(list)
    for number in numbers:
        match = NUMBER.match(number)
        assert match, f"unexpected invoice number {number}"
        series[(match["branch"], match["year"])].append(int(match["seq"]))
    for key, seqs in series.items():
        assert sorted(seqs) == list(range(1, len(seqs) + 1)), f"gaps or repeats in {key}: {seqs}"


async def fund_transfers(saga: Saga) -> dict[str, Decimal]:
    client = connect(saga.platform.env["MONGODB_URI"])
    try:
        db = client[database_names(saga.platform)["fund"]]
        docs = await db["transfers"].find({"contract_id": {"$in": saga.contracts}}).to_list(None)
        return {d["_id"]: Decimal(str(d["amount"].to_decimal() if hasattr(d["amount"], "to_decimal")
                                      else d["amount"])) for d in docs}
    finally:
        await client.close()


async def assert_saga_completed(
    saga: Saga, paid_invoices: set[str],
) -> tuple[Published, dict[str, Any]]:
    """Every guarantee of issue 11's crash run, for the contracts of ``saga``.

    Returns what was published and a summary for the report."""
    http, platform = saga.http, saga.platform
    headers = staff(platform)
    mine = set(saga.contracts)

    # every contract reached its final state
    contracts = [c for c in await list_all(http, saga.url("contracts", "/v1/contracts"), headers)
                 if c["contract_id"] in mine]
    assert len(contracts) == len(mine)
    not_done = {c["contract_id"]: c["status"] for c in contracts if c["status"] != "completed"}
    assert not not_done, f"contracts not completed: {not_done}"

    # exactly one invoice per completed contract, numbers gapless over the whole branch
    everything = await list_all(http, saga.url("billing", "/v1/invoices"), headers)
    per_contract: dict[str, int] = defaultdict(int)
    for invoice in everything:
        per_contract[invoice["contract_id"]] += 1
    assert all(per_contract[c] == 1 for c in mine), {c: per_contract[c] for c in mine
                                                     if per_contract[c] != 1}
    assert_gapless([i["number"] for i in everything])
    statuses = {i["contract_id"]: i["status"] for i in everything if i["contract_id"] in mine}
    assert {c for c, s in statuses.items() if s == "paid"} == paid_invoices

    events = await published(platform)
    issued = events.per_contract("InvoiceIssued")
    wrong = {c: issued[c] for c in mine if issued[c] != 1}
    assert not wrong, f"InvoiceIssued events per contract: {wrong} (topic records {events.records})"

    # exactly one SalaryDue per contract, at most one SalaryPaid
    due = events.per_contract("SalaryDue")
    paid = events.per_contract("SalaryPaid")
    assert all(due[c] == 1 for c in mine), {c: due[c] for c in mine if due[c] != 1}
    assert all(paid[c] <= 1 for c in mine), {c: paid[c] for c in mine if paid[c] > 1}
    salaries = [s for s in await list_all(http, saga.url("payroll", "/v1/salaries"), headers)
                if s["contract_id"] in mine]
    assert len(salaries) == len(mine)
    assert {s["contract_id"] for s in salaries if s["status"] == "paid"} == {
        c for c in mine if paid[c] == 1}

    # the fund's ledger balances and matches the events, contract by contract
    check = (await http.get(saga.url("fund", "/v1/fund/check"), headers=headers)).json()
    assert check["ok"], check
    transfers = await fund_transfers(saga)
    pairs = {"GuaranteeGranted": "reserve", "AdvancePaid": "advance",
             "AdvanceRecovered": "recover", "LossAbsorbed": "loss"}
    for ce_type, kind in pairs.items():
        amounts = {e.contract_id: Decimal(e.amount.amount)
                   for e in events.distinct(ce_type).values() if e.contract_id in mine}
        counts = events.per_contract(ce_type)
        assert all(counts[c] <= 1 for c in mine), f"{ce_type} more than once for a contract"
        booked = {tid.split(":", 1)[1]: amount for tid, amount in transfers.items()
                  if tid.startswith(f"{kind}:")}
        expected = {c: a for c, a in amounts.items() if a > 0}
        assert booked == expected, f"{kind} transfers differ from {ce_type} events"
    granted = events.per_contract("GuaranteeGranted")
    declined = {e.contract_id: e.reason for e in events.distinct("GuaranteeDeclined").values()}
    assert all(granted[c] == 1 for c in mine), (
        "every contract guaranteed once", {c: (granted[c], declined.get(c)) for c in mine
                                           if granted[c] != 1})

    # nothing dead-lettered that was not sent as poison on purpose
    assert await unintended_dead_letters(platform) == []
    return events, {
        "contracts": len(mine),
        "invoices": len(mine),
        "salaries_due": sum(due[c] for c in mine),
        "salaries_paid": sum(paid[c] for c in mine),
        "records_on_topics": events.records,
        "redelivered_copies_on_topics": events.redelivered_copies,
    }
