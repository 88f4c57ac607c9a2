"""One member's unpayable payout details never stop the branch's payment run."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from datetime import date

import pytest
import sepaxml
import xmlschema
from smart_shared.ids import new_id

from .harness import Payroll, guaranteed_work, member_activated, member_updated

pytestmark = pytest.mark.integration

NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"}
SCHEMA = os.path.join(os.path.dirname(sepaxml.__file__), "schemas", "pain.001.001.09.xsd")
EXCLUDED_FOR_THE_NAME = 'smart_payroll_salaries_excluded_total{branch="BE",reason="holder_name"}'


async def salary_of(payroll: Payroll, member_id: str, last_day: date, amount: str) -> str:
    contract_id = new_id()
    await payroll.send(*guaranteed_work(contract_id, member_id, last_day, amount))
    [salary] = await payroll.salary_due(contract_id)
    return str(salary.salary_id)


async def test_a_holder_name_with_a_nul_and_a_bidi_override_is_left_out_and_paid_once_corrected(
    payroll: Payroll,
) -> None:
    anna, bert, mallory = new_id(), new_id(), new_id()
    await payroll.send(
        member_activated(anna, "BE71096123456769", holder="Anna Lefèvre-Núñez"),
        member_activated(bert, "FR7630006000011234567890189", holder="Bert Martens"),
        member_activated(mallory, "NL91ABNA0417164300", holder="Mallory Peeters"),
        # an older member record, as MemberUpdated still carries it from before the text policy
        member_updated(mallory, "NL91ABNA0417164300", version=2,
                       holder="Mallory\x00 Peeters\u202e"),
    )
    await payroll.member_projected(mallory, 2)
    paid_to_anna = await salary_of(payroll, anna, date(2026, 3, 2), "1000.00")
    paid_to_bert = await salary_of(payroll, bert, date(2026, 3, 3), "2000.00")
    held_back = await salary_of(payroll, mallory, date(2026, 3, 4), "1500.00")
    excluded_before = await payroll.metric(EXCLUDED_FOR_THE_NAME)

    async with payroll.client("staff", "BE") as staff:
        opened = await staff.post("/v1/payment-runs", json={"pay_date": "2026-03-31"})
        assert opened.status_code == 201, opened.text
        run = opened.json()
        assert {item["salary_id"] for item in run["items"]} == {paid_to_anna, paid_to_bert}
        [excluded] = run["excluded"]
        assert excluded["salary_id"] == held_back
        assert excluded["member_id"] == mallory
        assert excluded["code"] == "holder_name"
        assert "U+0000" in excluded["reason"]
        assert "U+202E RIGHT-TO-LEFT OVERRIDE" in excluded["reason"]
        assert await payroll.metric(EXCLUDED_FOR_THE_NAME) == excluded_before + 1
        shown = await staff.get(f"/v1/payment-runs/{run['payment_run_id']}")
        assert shown.json()["excluded"] == run["excluded"]

        file = await staff.get(f"/v1/payment-runs/{run['payment_run_id']}/pain.001.xml")
        xmlschema.XMLSchema(SCHEMA).validate(file.text)
        names = {tx.findtext("p:PmtId/p:EndToEndId", namespaces=NS):
                 tx.findtext("p:Cdtr/p:Nm", namespaces=NS)
                 for tx in ET.fromstring(file.content).iterfind(".//p:CdtTrfTxInf", NS)}
        assert names == {paid_to_anna.replace("-", ""): "Anna Lefevre-Nunez",
                         paid_to_bert.replace("-", ""): "Bert Martens"}
        confirmed = await staff.post(f"/v1/payment-runs/{run['payment_run_id']}/confirm")
        assert confirmed.status_code == 200
        await payroll.salary_paid(paid_to_anna)
        await payroll.salary_paid(paid_to_bert)

        still_due = await staff.get(f"/v1/salaries/{held_back}")
        assert still_due.json()["status"] == "due"
        nothing_else = await staff.post("/v1/payment-runs", json={"pay_date": "2026-03-31"})
        assert nothing_else.status_code == 409
        assert [e["salary_id"] for e in nothing_else.json()["excluded"]] == [held_back]

        await payroll.send(member_updated(mallory, "NL91ABNA0417164300", version=3,
                                          holder="Mallory Peeters"))
        await payroll.member_projected(mallory, 3)
        later = await staff.post("/v1/payment-runs", json={"pay_date": "2026-03-31"})
        assert later.status_code == 201, later.text
        assert [item["salary_id"] for item in later.json()["items"]] == [held_back]
        assert later.json()["excluded"] == []
        await staff.post(f"/v1/payment-runs/{later.json()['payment_run_id']}/confirm")

    [paid] = await payroll.salary_paid(held_back)
    assert paid.payment_run_id == later.json()["payment_run_id"]  # type: ignore[attr-defined]
