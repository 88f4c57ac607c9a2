"""The HTTP API: simulations by the same code, salaries and payslips, problems on bad input."""

from __future__ import annotations

from datetime import date

import pytest
from payroll.domain import compute_salary, salary_rules
from smart_shared.events import SalaryBreakdown
from smart_shared.ids import new_id
from smart_shared.money import Money
from smart_testing import eventually

from .harness import (
    Payroll,
    guaranteed_work,
    member_activated,
)

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("branch", "kind", "amount", "expenses"),
    [("BE", "artistic", "1000.00", "0.00"), ("BE", "other", "3210.55", "120.10"),
     ("FR", "manual", "4800.00", "35.00")],
)
async def test_a_simulation_answers_what_the_salary_computation_gives(
    payroll: Payroll, branch: str, kind: str, amount: str, expenses: str
) -> None:
    async with payroll.client("member", branch, member_id=new_id()) as member:
        answer = await member.post("/v1/simulations", json={
            "branch": branch, "activity_kind": kind, "on": "2026-04-01",
            "amount_excl_vat": {"amount": amount, "currency": "EUR"},
            "expenses": {"amount": expenses, "currency": "EUR"},
        })

    assert answer.status_code == 200, answer.text
    expected = compute_salary(salary_rules(branch, date(2026, 4, 1)), Money.of(amount),
                              Money.of(expenses), kind)  # type: ignore[arg-type]
    assert SalaryBreakdown.model_validate(answer.json()) == expected
    if (branch, kind, amount) == ("BE", "artistic", "1000.00"):
        assert answer.json()["net"] == {"amount": "490.90", "currency": "EUR"}
        assert [line["name"] for line in answer.json()["employer_lines"]][:4] == [
            "basic_employer_contribution", "wage_moderation", "holiday_pay_quarterly",
            "holiday_pay_yearly"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount_excl_vat": {"amount": 1000.0}}, "amount_excl_vat"),  # a float
        ({"amount_excl_vat": {"amount": "-5.00"}}, "amount_excl_vat"),
        ({"amount_excl_vat": {"amount": "10.005"}}, "amount_excl_vat"),
        ({"expenses": {"amount": "990.00"}}, "expenses"),  # more than the amount less the fee
        ({"expenses": {"amount": "-1.00"}}, "expenses"),
        ({"branch": "XX"}, "branch"),  # no rule pack
        ({"branch": "belgium"}, "branch"),
        ({"activity_kind": "juggling"}, "activity_kind"),
        ({"salary": "high"}, "salary"),  # unknown field
        ({"amount_excl_vat": {"amount": "100.00", "currency": "USD"}}, "amount_excl_vat"),
    ],
)
async def test_a_bad_simulation_is_a_400_problem_naming_the_field(
    payroll: Payroll, body: dict[str, object], field: str
) -> None:
    request: dict[str, object] = {"branch": "BE", "activity_kind": "artistic",
                                  "amount_excl_vat": {"amount": "1000.00"}, **body}
    async with payroll.client("member", "BE", member_id=new_id()) as member:
        answer = await member.post("/v1/simulations", json=request)

    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    problem = answer.json()
    assert any(field in e["field"] for e in problem["errors"]), problem


async def test_a_simulation_needs_a_login(payroll: Payroll) -> None:
    async with payroll.client("member", "BE", member_id=new_id()) as member:
        del member.headers["Authorization"]
        answer = await member.post("/v1/simulations", json={})

    assert answer.status_code == 401


async def test_a_member_sees_their_own_salary_and_payslip_but_not_anothers(
    payroll: Payroll,
) -> None:
    member_id, contract_id = new_id(), new_id()
    last_day = date(2026, 3, 2)
    await payroll.send(
        member_activated(member_id, "BE71096123456769"),
        *guaranteed_work(contract_id, member_id, last_day),
    )

    [salary_due] = await payroll.salary_due(contract_id)
    salary_id = salary_due.salary_id  # type: ignore[attr-defined]

    async with payroll.client("member", "BE", member_id=member_id) as member:
        own = await member.get(f"/v1/salaries/{salary_id}")
        listed = await member.get("/v1/salaries")
        payslip = await member.get(f"/v1/salaries/{salary_id}/payslip.pdf")
        not_theirs = await member.get("/v1/salaries", params={"member_id": new_id()})
    async with payroll.client("member", "BE", member_id=new_id()) as stranger:
        hidden = await stranger.get(f"/v1/salaries/{salary_id}")
        hidden_payslip = await stranger.get(f"/v1/salaries/{salary_id}/payslip.pdf")
    async with payroll.client("staff", "FR") as other_branch:
        elsewhere = await other_branch.get(f"/v1/salaries/{salary_id}")

    assert own.status_code == 200
    assert own.json()["pay_date"] == "2026-03-11"
    assert own.json()["status"] == "due"
    assert own.json()["breakdown"]["paid"] == {"amount": "490.90", "currency": "EUR"}
    assert [s["salary_id"] for s in listed.json()["items"]] == [salary_id]
    assert payslip.status_code == 200
    assert payslip.headers["content-type"] == "application/pdf"
    assert payslip.content.startswith(b"%PDF")
    assert not_theirs.status_code == 400
    assert hidden.status_code == 404
    assert hidden_payslip.status_code == 404
    assert elsewhere.status_code == 404


async def test_staff_pages_through_their_branchs_salaries(payroll: Payroll) -> None:
    member_id = new_id()
    contracts = [new_id() for _ in range(3)]
    last_day = date(2026, 3, 2)
    for contract_id in contracts:
        await payroll.send(*guaranteed_work(contract_id, member_id, last_day))

    async def all_due() -> bool:
        return all(payroll.salaries_due(c) for c in contracts)

    await eventually(all_due)
    seen: list[str] = []
    cursor = None
    async with payroll.client("staff", "BE") as staff:
        while True:
            params = {"member_id": member_id, "limit": "2"}
            if cursor:
                params["cursor"] = cursor
            page = (await staff.get("/v1/salaries", params=params)).json()
            seen += [s["contract_id"] for s in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        bad_limit = await staff.get("/v1/salaries", params={"limit": "0"})
        bad_cursor = await staff.get("/v1/salaries", params={"cursor": "???"})

    assert sorted(seen) == sorted(contracts)
    assert bad_limit.status_code == 400
    assert bad_cursor.status_code == 400


async def test_an_unknown_salary_or_run_is_a_404_problem(payroll: Payroll) -> None:
    async with payroll.client("staff", "BE") as staff:
        salary = await staff.get(f"/v1/salaries/{new_id()}")
        run = await staff.get(f"/v1/payment-runs/{new_id()}/pain.001.xml")
        bad_date = await staff.post("/v1/payment-runs", json={"pay_date": "31/03/2026"})

    assert salary.status_code == 404
    assert run.status_code == 404
    assert bad_date.status_code == 400
    assert bad_date.json()["errors"][0]["field"].endswith("pay_date")
