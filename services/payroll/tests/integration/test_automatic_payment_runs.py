"""Nobody touches a payment run: the platform clock moves, payroll opens the run the working day
before the pay date by itself (once, whatever the replicas), the bank's pain.002 report accepts
all but one transfer, every accepted salary is paid once and the rejected one is due again with
its reason, the member and the staff told (genuine Kafka, MongoDB and Mailpit)."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import pytest
from pain002_samples import status_report, transaction
from payroll.domain import working_day_before, working_days_after
from payroll.jobs import ScheduledRuns
from smart_shared.clock import SharedClock
from smart_shared.events import SalaryPaymentRejected
from smart_shared.events.catalogue import MemberContact
from smart_shared.ids import new_id
from smart_testing import Mailpit, eventually, isolated_settings, unique_name

from .harness import Payroll, guaranteed_work, member_activated, running_payroll

pytestmark = pytest.mark.integration

NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"}
IBANS = ["BE71096123456769", "BE62510007547061", "BE43068999999501", "NL91ABNA0417164300"]
XML = {"Content-Type": "application/xml"}


@pytest.fixture(scope="module")
def staff_mailbox() -> str:
    return unique_name("staff") + "-{branch}@smart.coop"


@pytest.fixture(scope="module")
async def payroll(infrastructure: object, mailpit: Mailpit,
                  staff_mailbox: str) -> AsyncIterator[Payroll]:
    settings = isolated_settings("payroll", SMART_BRANCHES="BE",
                                 SMART_STAFF_MAILBOX=staff_mailbox, **mailpit.settings())
    async with running_payroll(settings, automatic_runs=True) as running:
        yield running


async def move_to(payroll: Payroll, day: date) -> None:
    """The platform clock to ``day`` (the same time of day), and one scheduler round."""
    platform = payroll.service.platform
    assert platform is not None and platform.scheduler is not None
    assert isinstance(platform.clock, SharedClock)
    await platform.clock.advance(timedelta(days=(day - platform.clock.today()).days))
    assert platform.clock.today() == day
    await platform.scheduler.tick()


def scheduled_runs(payroll: Payroll) -> Any:
    return payroll.service.platform.db["payment_runs"].find(  # type: ignore[union-attr]
        {"opened_by": "scheduler"}).to_list(None)


async def test_nobody_opens_a_run_and_every_guaranteed_salary_is_paid_once_but_the_rejected(
    payroll: Payroll, mailpit: Mailpit, staff_mailbox: str,
) -> None:
    platform = payroll.service.platform
    assert platform is not None
    last_day = working_days_after(platform.clock.today(), 2, "BE")
    pay_date = working_days_after(last_day, 7, "BE")
    opens_on = working_day_before(pay_date, "BE")
    staff = staff_mailbox.format(branch="be")
    members = [new_id() for _ in IBANS]
    emails = [f"{unique_name('member')}@example.be" for _ in IBANS]
    for member_id, iban, email in zip(members, IBANS, emails, strict=True):
        await payroll.send(member_activated(member_id, iban).model_copy(update={
            "contact": MemberContact(name="Lotte Peeters", email=email, language="nl")}))
    salaries = []
    for member_id in members:
        contract_id = new_id()
        await payroll.send(*guaranteed_work(contract_id, member_id, last_day))
        [due] = await payroll.salary_due(contract_id)
        assert due.pay_date == pay_date  # type: ignore[attr-defined]
        salaries.append(str(due.salary_id))  # type: ignore[attr-defined]

    # the day before the working day before: nothing opens yet
    await move_to(payroll, opens_on - timedelta(days=1))
    assert await scheduled_runs(payroll) == []

    # the working day before: the run opens by itself, once, even with two replicas racing
    await move_to(payroll, opens_on)
    await asyncio.gather(ScheduledRuns(platform)(), ScheduledRuns(platform)())
    [run] = await scheduled_runs(payroll)
    assert run["pay_date"] == pay_date.isoformat() == run["execution_date"]
    assert sorted(item["salary_id"] for item in run["items"]) == sorted(salaries)
    [ready] = await mailpit.wait_for(staff)
    assert ready["Subject"].endswith("est prêt")  # BE staff are written to in the branch's French
    async with payroll.client("staff", "BE") as http:
        file = await http.get(f"/v1/payment-runs/{run['_id']}/pain.001.xml")
    document = ET.fromstring(file.content)
    message_id = document.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:MsgId", namespaces=NS)
    by_salary = {item["salary_id"]: item["end_to_end_id"] for item in run["items"]}
    refused = salaries[3]

    # the bank: accepted for the group, one transfer rejected on a closed account
    report = status_report(str(message_id),
                           transaction(by_salary[refused], "RJCT", "AC04", "Account closed"),
                           group_status="ACSC", message_id=unique_name("bank"))
    async with payroll.client("staff", "BE") as http:
        applied = await http.post("/v1/payment-status-reports", content=report, headers=XML)
        again = await http.post("/v1/payment-status-reports", content=report, headers=XML)
        back = (await http.get(f"/v1/salaries/{refused}")).json()
        ran = (await http.get(f"/v1/payment-runs/{run['_id']}")).json()
    assert applied.status_code == 200, applied.text
    outcome = applied.json()
    assert sorted(outcome["paid"]) == sorted(salaries[:3])
    assert [r["salary_id"] for r in outcome["rejected"]] == [refused]
    assert outcome["waiting"] == 0 and ran["status"] == "confirmed"
    assert again.status_code == 200 and again.json()["paid"] == again.json()["rejected"] == []
    assert back["status"] == "due" and back["payment_run_id"] is None
    assert back["rejection"]["code"] == "AC04"
    assert back["rejection"]["reason"] == "Account closed"

    for salary_id in salaries[:3]:
        await payroll.salary_paid(salary_id)
    await asyncio.sleep(1.5)
    for salary_id in salaries[:3]:
        assert len(payroll.salaries_paid(salary_id)) == 1
    assert payroll.salaries_paid(refused) == []
    # subscribers learn of the rejection once, with the bank's reason
    await payroll.wire.wait_for(SalaryPaymentRejected, where=lambda e: e.salary_id == refused)
    [told_subscribers] = [e for e in payroll.wire.events(SalaryPaymentRejected)
                          if e.salary_id == refused]
    assert (told_subscribers.code, told_subscribers.reason) == ("AC04", "Account closed")
    assert told_subscribers.payment_run_id == run["_id"]
    assert told_subscribers.version == 2

    [told] = await mailpit.wait_for(emails[3])
    member_mail = await mailpit.message(told["ID"])
    assert member_mail["Subject"] == "Uw loon kon niet worden betaald"
    assert "Account closed" in member_mail["Text"]
    assert "4300" in member_mail["Text"]  # the end of the account the bank refused
    for email in emails[:3]:
        [paid_mail] = await mailpit.wait_for(email)
        assert paid_mail["Subject"] == "Uw loon is betaald"
    staff_mails = await mailpit.wait_for(staff, count=2)
    rejected_mail = next(m for m in staff_mails if m["ID"] != ready["ID"])
    assert refused in (await mailpit.message(rejected_mail["ID"]))["Text"]

    # the pay date: the rejected salary is at risk, on /metrics and in the staff digest; the
    # next run does not send it to the closed account again
    await move_to(payroll, pay_date)
    await platform.scheduler.tick()  # type: ignore[union-attr]
    assert await payroll.metric('smart_payroll_salaries_at_risk{branch="BE"}') == 1
    assert await payroll.metric(
        'smart_payroll_salaries_excluded_total{branch="BE",reason="rejected_by_bank"}') >= 1
    assert len(await scheduled_runs(payroll)) == 1
    digest = await eventually(lambda: _digest(mailpit, staff))
    assert "1 salaires garantis qui risquent de manquer leur date de paie" in digest


async def _digest(mailpit: Mailpit, to: str) -> str | None:
    for summary in await mailpit.messages(to):
        if "ce qui vous attend" in summary["Subject"]:
            return str((await mailpit.message(summary["ID"]))["Text"])
    return None


async def test_a_report_on_an_unknown_run_or_transfer_is_refused_naming_the_field(
    payroll: Payroll,
) -> None:
    async with payroll.client("staff", "BE") as http:
        unknown_run = await http.post("/v1/payment-status-reports", headers=XML,
                                      content=status_report("NO-SUCH-FILE", transaction("E1")))
        hostile = await http.post("/v1/payment-status-reports", headers=XML, content=(
            b'<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><Document>&x;</Document>'))
        empty = await http.post("/v1/payment-status-reports", headers=XML, content=b"")
    async with payroll.client("member", "BE", member_id=new_id()) as http:
        member = await http.post("/v1/payment-status-reports", headers=XML,
                                 content=status_report("X", transaction("E1")))
    assert unknown_run.status_code == 400
    assert unknown_run.headers["content-type"].startswith("application/problem+json")
    assert unknown_run.json()["errors"][0]["field"] == (
        "CstmrPmtStsRpt/OrgnlGrpInfAndSts/OrgnlMsgId")
    assert hostile.status_code == 400 and hostile.json()["errors"][0]["field"] == "report"
    assert empty.status_code == 400
    assert member.status_code == 403

    runs = payroll.service.platform.db["payment_runs"]  # type: ignore[union-attr]
    run = await runs.find_one({"opened_by": "scheduler"})
    if run is None:
        pytest.skip("needs the run of the first test")
    async with payroll.client("staff", "BE") as http:
        unknown_transfer = await http.post(
            "/v1/payment-status-reports", headers=XML,
            content=status_report(run["message_id"], transaction("NOTOURS", "RJCT", "AC01")))
    assert unknown_transfer.status_code == 400
    assert unknown_transfer.json()["errors"][0]["field"] == (
        "CstmrPmtStsRpt/OrgnlPmtInfAndSts[1]/TxInfAndSts[1]/OrgnlEndToEndId")


async def test_a_group_status_alone_returns_every_transfer_of_a_staff_run_with_its_reason(
    payroll: Payroll,
) -> None:
    platform = payroll.service.platform
    assert platform is not None
    last_day = working_days_after(platform.clock.today(), 2, "BE")
    pay_date = working_days_after(last_day, 7, "BE")
    salaries = []
    for iban in IBANS[:2]:
        member_id, contract_id = new_id(), new_id()
        await payroll.send(member_activated(member_id, iban))
        await payroll.send(*guaranteed_work(contract_id, member_id, last_day))
        [due] = await payroll.salary_due(contract_id)
        salaries.append(str(due.salary_id))  # type: ignore[attr-defined]
    async with payroll.client("staff", "BE") as http:
        opened = await http.post("/v1/payment-runs", json={"pay_date": pay_date.isoformat()})
        assert opened.status_code == 201, opened.text
        run_id = opened.json()["payment_run_id"]
        file = await http.get(f"/v1/payment-runs/{run_id}/pain.001.xml")
        message_id = ET.fromstring(file.content).findtext(
            "p:CstmrCdtTrfInitn/p:GrpHdr/p:MsgId", namespaces=NS)
        report = status_report(str(message_id), version="10", group_status="RJCT",
                               group_reason="<StsRsnInf><Rsn><Cd>FF01</Cd></Rsn></StsRsnInf>",
                               message_id=unique_name("bank"))
        applied = await http.post("/v1/payment-status-reports", content=report, headers=XML)
        back = [(await http.get(f"/v1/salaries/{s}")).json() for s in salaries]
    assert applied.status_code == 200, applied.text
    assert sorted(r["salary_id"] for r in applied.json()["rejected"]) == sorted(salaries)
    assert applied.json()["paid"] == []
    for salary in back:
        assert salary["status"] == "due"
        assert salary["rejection"]["code"] == "FF01"
        assert salary["rejection"]["reason"] == "the file format is invalid"
        assert salary["rejection"]["account_unusable"] is False  # the next run pays it again
