"""The member gets "your salary is paid" with the payslip attached when the payment run is
confirmed, once, in their language (read back from a genuine Mailpit)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date

import pytest
from smart_shared.events.catalogue import MemberContact
from smart_shared.ids import new_id
from smart_testing import Mailpit, isolated_settings, unique_name

from .harness import Payroll, guaranteed_work, member_activated, running_payroll

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def payroll(infrastructure: object, mailpit: Mailpit) -> AsyncIterator[Payroll]:
    async with running_payroll(isolated_settings("payroll", **mailpit.settings())) as running:
        yield running


async def test_a_confirmed_run_tells_each_member_their_salary_is_paid_with_the_payslip(
    payroll: Payroll, mailpit: Mailpit,
) -> None:
    member_id, contract_id = new_id(), new_id()
    email = f"{unique_name('zoe')}@example.be"
    activated = member_activated(member_id, "BE71096123456769").model_copy(update={
        "contact": MemberContact(name="Zoë Dupont", email=email, language="nl")})
    await payroll.send(activated)
    await payroll.send(*guaranteed_work(contract_id, member_id, date(2026, 3, 2), "1000.00",
                                        "BE"))
    [due] = await payroll.salary_due(contract_id)
    async with payroll.client("staff", "BE") as staff:
        run = (await staff.post("/v1/payment-runs", json={"pay_date": "2026-03-31"})).json()
        confirm = f"/v1/payment-runs/{run['payment_run_id']}/confirm"
        assert (await staff.post(confirm)).status_code == 200
        assert (await staff.post(confirm)).status_code == 200
        served = await staff.get(f"/v1/salaries/{due.salary_id}/payslip.pdf")  # type: ignore[attr-defined]

    [summary] = await mailpit.wait_for(email)
    mail = await mailpit.message(summary["ID"])
    assert mail["Subject"] == "Uw loon is betaald"
    assert "€\xa0490,90" in mail["Text"]  # the worked example of the payroll README
    [payslip] = mail["Attachments"]
    pdf = await mailpit.attachment(summary["ID"], payslip["PartID"])
    assert payslip["FileName"] == f"payslip-{due.salary_id}.pdf"  # type: ignore[attr-defined]
    assert pdf.startswith(b"%PDF-") and len(pdf) == len(served.content)
    await asyncio.sleep(1.5)
    assert len(await mailpit.messages(email)) == 1
