"""Payment runs: a pain.001.001.09 file of the due salaries, confirmed once."""

from __future__ import annotations

import asyncio
import os
import xml.etree.ElementTree as ET
from datetime import date
from decimal import Decimal

import pytest
import sepaxml
import xmlschema
from smart_shared.ids import new_id
from smart_shared.money import Money
from smart_testing import links_to, recorded_spans, trace_id_of

from .harness import (
    Payroll,
    guaranteed_work,
    member_activated,
    member_erased,
    member_updated,
)

pytestmark = pytest.mark.integration

NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"}
SCHEMA = os.path.join(os.path.dirname(sepaxml.__file__), "schemas", "pain.001.001.09.xsd")


async def guaranteed_salary(payroll: Payroll, member_id: str, last_day: date,
                            amount: str, branch: str = "FR") -> str:
    contract_id = new_id()
    await payroll.send(*guaranteed_work(contract_id, member_id, last_day, amount, branch))

    [salary] = await payroll.salary_due(contract_id)
    return str(salary.salary_id)  # type: ignore[attr-defined]


async def test_a_payment_run_pays_each_due_salary_once_and_a_second_run_excludes_them(
    payroll: Payroll,
) -> None:
    anna, bert, erased = new_id(), new_id(), new_id()
    await payroll.send(
        member_activated(anna, "FR7630006000011234567890189", branch="FR", holder="Anna Lefèvre"),
        # a newer payout first, then a stale copy of the older one: the newer one stays
        member_updated(bert, "DE89370400440532013000", version=2, branch="FR"),
        member_activated(bert, "NL91ABNA0417164300", branch="FR", version=1),
        member_activated(erased, "BE62510007547061", branch="FR"),
        member_erased(erased, version=2, branch="FR"),
    )
    first = await guaranteed_salary(payroll, anna, date(2026, 3, 2), "1000.00")
    second = await guaranteed_salary(payroll, bert, date(2026, 3, 4), "2500.00")
    unpayable = await guaranteed_salary(payroll, erased, date(2026, 3, 4), "800.00")
    later = await guaranteed_salary(payroll, anna, date(2026, 5, 29), "600.00")
    salaries = payroll.service.platform.db["salaries"]  # type: ignore[union-attr]
    paid = {s: Money.model_validate((await salaries.find_one({"_id": s}))["breakdown"]["paid"])
            for s in (first, second)}

    async with payroll.client("staff", "FR") as staff:
        opened = await staff.post("/v1/payment-runs", json={"pay_date": "2026-03-31"})
        assert opened.status_code == 201, opened.text
        run = opened.json()
        assert {i["salary_id"] for i in run["items"]} == {first, second}
        assert run["excluded"] == [{
            "salary_id": unpayable, "member_id": erased, "code": "erased_member",
            "reason": "the member was erased; the cooperative needs new payout details to pay them",
        }]

        file = await staff.get(f"/v1/payment-runs/{run['payment_run_id']}/pain.001.xml")
        assert file.status_code == 200
        assert file.headers["content-type"].startswith("application/xml")
        xmlschema.XMLSchema(SCHEMA).validate(file.text)
        document = ET.fromstring(file.content)
        header = document.find("p:CstmrCdtTrfInitn/p:GrpHdr", NS)
        assert header is not None
        assert header.findtext("p:NbOfTxs", namespaces=NS) == "2"
        total = sum((m.amount for m in paid.values()), Decimal(0))
        assert Decimal(header.findtext("p:CtrlSum", namespaces=NS) or "") == total
        assert document.findtext(".//p:DbtrAcct/p:Id/p:IBAN", namespaces=NS) == (
            "FR1420041010050500013M02606")
        transfers = {
            tx.findtext("p:PmtId/p:EndToEndId", namespaces=NS): (
                tx.findtext("p:CdtrAcct/p:Id/p:IBAN", namespaces=NS),
                Decimal(tx.findtext("p:Amt/p:InstdAmt", namespaces=NS) or ""),
            )
            for tx in document.iterfind(".//p:CdtTrfTxInf", NS)
        }
        assert transfers == {
            first.replace("-", ""): ("FR7630006000011234567890189", paid[first].amount),
            second.replace("-", ""): ("DE89370400440532013000", paid[second].amount),
        }

        confirmed = await staff.post(f"/v1/payment-runs/{run['payment_run_id']}/confirm")
        assert confirmed.status_code == 200
        assert confirmed.json()["status"] == "confirmed"
        for salary_id in (first, second):
            [event] = await payroll.salary_paid(salary_id)
            assert event.amount == paid[salary_id]  # type: ignore[attr-defined]
            assert event.version == 2  # type: ignore[attr-defined]
            assert event.payment_run_id == run["payment_run_id"]  # type: ignore[attr-defined]

        again = await staff.post(f"/v1/payment-runs/{run['payment_run_id']}/confirm")
        assert again.status_code == 200
        await asyncio.sleep(2)
        assert len(payroll.salaries_paid(first)) == 1
        assert len(payroll.salaries_paid(second)) == 1

        nothing_left = await staff.post("/v1/payment-runs", json={"pay_date": "2026-03-31"})
        assert nothing_left.status_code == 409
        assert nothing_left.headers["content-type"].startswith("application/problem+json")

        next_run = await staff.post("/v1/payment-runs", json={"pay_date": "2026-06-30"})
        assert next_run.status_code == 201
        assert [i["salary_id"] for i in next_run.json()["items"]] == [later]

        listed = await staff.get("/v1/salaries", params={"member_id": anna})
        assert listed.status_code == 200, listed.text
        statuses = {s["salary_id"]: s["status"] for s in listed.json()["items"]}
        assert statuses == {first: "paid", later: "in_run"}

    async with payroll.client("staff", "BE") as other_branch:
        hidden = await other_branch.get(f"/v1/payment-runs/{run['payment_run_id']}")
        assert hidden.status_code == 404


async def test_two_runs_opened_at_once_never_share_a_salary(payroll: Payroll) -> None:
    member = new_id()
    await payroll.send(member_activated(member, "BE71096123456769", branch="BE"))
    salaries = [await guaranteed_salary(payroll, member, date(2026, 2, 2), "900.00", "BE")
                for _ in range(4)]

    async with payroll.client("staff", "BE") as staff:
        answers = await asyncio.gather(*(
            staff.post("/v1/payment-runs", json={"pay_date": "2026-02-27"}) for _ in range(3)
        ))
    runs = [a.json() for a in answers if a.status_code == 201]
    assert all(a.status_code in (201, 409) for a in answers)
    claimed = [i["salary_id"] for run in runs for i in run["items"]]
    assert sorted(claimed) == sorted(salaries)


async def test_the_same_idempotency_key_answers_the_same_run(payroll: Payroll) -> None:
    member = new_id()
    await payroll.send(member_activated(member, "BE71096123456769", branch="BE"))
    salary = await guaranteed_salary(payroll, member, date(2026, 1, 5), "700.00", "BE")

    async with payroll.client("staff", "BE") as staff:
        key = {"Idempotency-Key": new_id()}
        first = await staff.post("/v1/payment-runs", json={"pay_date": "2026-01-20"}, headers=key)
        replay = await staff.post("/v1/payment-runs", json={"pay_date": "2026-01-20"}, headers=key)

    assert first.status_code == 201
    assert replay.json() == first.json()
    assert [i["salary_id"] for i in first.json()["items"]] == [salary]


async def test_members_may_not_open_payment_runs(payroll: Payroll) -> None:
    async with payroll.client("member", "BE", member_id=new_id()) as member:
        refused = await member.post("/v1/payment-runs", json={"pay_date": "2026-03-31"})

    assert refused.status_code == 403


async def test_staff_list_the_payment_runs_of_their_own_branch(payroll: Payroll) -> None:
    member = new_id()
    await payroll.send(member_activated(member, "FR7630006000011234567890189", branch="FR",
                                        holder="Chloé Martin"))
    await guaranteed_salary(payroll, member, date(2026, 6, 1), "700.00")
    async with payroll.client("staff", "FR") as staff:
        opened = await staff.post("/v1/payment-runs", json={"pay_date": "2026-06-30"})
        assert opened.status_code == 201, opened.text
        listed = await staff.get("/v1/payment-runs", params={"limit": 500})
    assert listed.status_code == 200
    runs = {r["payment_run_id"]: r for r in listed.json()["items"]}
    assert runs[opened.json()["payment_run_id"]]["status"] == "open"
    assert {r["branch"] for r in runs.values()} == {"FR"}
    async with payroll.client("staff", "BE") as other_branch:
        theirs = (await other_branch.get("/v1/payment-runs", params={"limit": 500})).json()
    assert opened.json()["payment_run_id"] not in {r["payment_run_id"] for r in theirs["items"]}


async def test_a_payment_run_starts_its_own_trace_and_links_each_salary_to_its_contracts(
    payroll: Payroll,
) -> None:
    member = new_id()
    await payroll.send(member_activated(member, "FR7630006000011234567890189", branch="FR"))
    salary_id = await guaranteed_salary(payroll, member, date(2026, 3, 3), "900.00")
    salary = await payroll.service.platform.db["salaries"].find_one(  # type: ignore[union-attr]
        {"_id": salary_id})
    with recorded_spans() as spans:
        async with payroll.client("staff", "FR") as staff:
            opened = await staff.post("/v1/payment-runs", json={"pay_date": "2026-03-31"})
            assert opened.status_code == 201, opened.text
            run_id = opened.json()["payment_run_id"]
            confirmed = await staff.post(f"/v1/payment-runs/{run_id}/confirm")
            assert confirmed.status_code == 200, confirmed.text
        [paid] = await payroll.salary_paid(salary_id)
        finished = spans.get_finished_spans()
    [run] = [s for s in finished if s.name == "payment run"
             and (s.attributes or {}).get("smart.payment_run_id") == run_id]
    [pay] = [s for s in finished if s.name == "salary paid"
             and (s.attributes or {}).get("smart.salary_id") == salary_id]
    assert run.parent is None
    assert run.context.trace_id != trace_id_of(salary["traceparent"])
    assert pay.context.trace_id == run.context.trace_id
    assert links_to(pay, salary["traceparent"])
    headers = next(h for h, e in payroll.wire.published if e is paid)
    assert trace_id_of(headers["traceparent"]) == run.context.trace_id
