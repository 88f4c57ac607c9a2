"""Loans through real Kafka and MongoDB: a member applies, the fund weighs what it knows of them,
staff approve or decline."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from smart_shared.events import (
    Activity,
    DebtWrittenOff,
    InvoiceIssued,
    LoanApplied,
    LoanApproved,
    LoanDeclined,
    LoanDisbursed,
    MemberActivated,
    PayoutDetails,
)
from smart_shared.ids import new_id
from smart_shared.money import Money
from smart_testing import eventually

from .conftest import Fund

pytestmark = pytest.mark.integration

TODAY = datetime.now(UTC).date()


def activated(member_id: str, since: date) -> MemberActivated:
    return MemberActivated(
        branch="BE", version=2, occurred_at=datetime(since.year, since.month, since.day, 9,
                                                     tzinfo=UTC),
        member_id=member_id,
        activities=[Activity(name="musician", kind="artistic", joint_committee="304")],
        payout=PayoutDetails(iban="BE71096123456769", holder_name="Zoë Dupont"))


def invoice(member_id: str, amount: str, issued: date) -> InvoiceIssued:
    return InvoiceIssued(
        branch="BE", version=1, occurred_at=datetime.now(UTC), invoice_id=new_id(),
        contract_id=new_id(), member_id=member_id, number="BE-2026-000001", issue_date=issued,
        due_date=issued + timedelta(days=30), client_key="k", client_kind="business",
        amount_excl_vat=Money(amount=amount), vat_rate=Decimal("0.21"),
        vat_amount=Money(amount="0.00"), total=Money(amount=amount), reverse_charge=False)


async def member_in_good_standing(fund: Fund) -> str:
    """A member active for a year with 4,000.00 invoiced in the last months."""
    member_id = new_id()
    await fund.send(activated(member_id, TODAY - timedelta(days=400)))
    await fund.send(invoice(member_id, "2500.00", TODAY - timedelta(days=60)))
    await fund.send(invoice(member_id, "1500.00", TODAY - timedelta(days=30)))
    await fund.send(invoice(member_id, "9000.00", TODAY - timedelta(days=500)))  # too old
    return member_id


def microcredit(amount: str = "3000.00", months: int = 12) -> dict[str, object]:
    return {"financing": "microcredit", "amount": {"amount": amount, "currency": "EUR"},
            "months": months, "purpose": "A new instrument"}


async def apply_once_known(fund: Fund, member_id: str, body: dict[str, object],
                           refusals: list[str]) -> dict[str, object]:
    """Apply until the fund has consumed the member's events (their refusals are as expected)."""
    async def applied() -> dict[str, object] | None:
        response = await fund.http.post("/v1/loans", json=body,
                                        headers=fund.token("member", member_id=member_id))
        assert response.status_code == 201, response.text
        loan: dict[str, object] = response.json()
        return loan if loan["refusals"] == refusals else None

    return await eventually(applied)  # type: ignore[no-any-return]


def loan_events(fund: Fund, kind: type, loan_id: object) -> list[object]:
    return [e for e in fund.wire.events(kind) if e.loan_id == loan_id]


async def test_a_member_in_good_standing_borrows_with_a_schedule_to_the_cent(fund: Fund) -> None:
    member_id = await member_in_good_standing(fund)
    loan = await apply_once_known(fund, member_id, microcredit(), [])
    assert loan["status"] == "applied"
    [applied] = await fund.wire.wait_for(LoanApplied, 1,
                                         where=lambda e: e.loan_id == loan["loan_id"])
    assert applied.refusals == [] and applied.amount.amount == Decimal("3000.00")

    response = await fund.http.post(f"/v1/loans/{loan['loan_id']}/decision",
                                    json={"decision": "approve"}, headers=fund.token())
    assert response.status_code == 200, response.text
    decided = response.json()
    assert decided["status"] == "approved" and len(decided["schedule"]) == 12
    [approved] = await fund.wire.wait_for(LoanApproved, 1,
                                          where=lambda e: e.loan_id == loan["loan_id"])
    assert approved.version == 2
    capital = sum(i.capital.amount for i in approved.schedule)
    interest = sum(i.interest.amount for i in approved.schedule)
    assert capital == Decimal("3000.00")
    assert approved.total_repayable.amount == capital + interest
    assert approved.total_cost.amount == interest  # no fee in the BE pack
    assert Decimal("0.05") < approved.apr < Decimal("0.0525")
    assert approved.schedule[0].due_date > TODAY

    again = await fund.http.post(f"/v1/loans/{loan['loan_id']}/decision",
                                 json={"decision": "approve"}, headers=fund.token())
    assert again.status_code == 409
    assert len(loan_events(fund, LoanApproved, loan["loan_id"])) == 1


async def test_an_approval_is_refused_while_the_packs_conditions_fail(fund: Fund) -> None:
    member_id = new_id()
    await fund.send(activated(member_id, TODAY - timedelta(days=30)))
    await fund.send(DebtWrittenOff(
        branch="BE", version=9, occurred_at=datetime.now(UTC), invoice_id=new_id(),
        contract_id=new_id(), case_id=new_id(), member_id=member_id,
        amount=Money(amount="800.00"), reason="client insolvent",
        written_off_on=TODAY - timedelta(days=10)))
    loan = await apply_once_known(
        fund, member_id, microcredit("12000.00"),
        ["amount_above_maximum", "not_active_long_enough", "turnover_too_low",
         "recent_write_off"])

    response = await fund.http.post(f"/v1/loans/{loan['loan_id']}/decision",
                                    json={"decision": "approve"}, headers=fund.token())
    assert response.status_code == 409
    assert response.json()["refusals"] == loan["refusals"]
    assert "turnover_too_low" in response.json()["detail"]

    declined = await fund.http.post(
        f"/v1/loans/{loan['loan_id']}/decision",
        json={"decision": "decline", "reason": "Too soon after a write-off"},
        headers=fund.token())
    assert declined.status_code == 200 and declined.json()["status"] == "declined"
    [event] = await fund.wire.wait_for(LoanDeclined, 1,
                                       where=lambda e: e.loan_id == loan["loan_id"])
    assert event.reason == "Too soon after a write-off"
    assert not loan_events(fund, LoanApproved, loan["loan_id"])


async def test_a_second_loan_waits_for_the_first_to_be_repaid(fund: Fund) -> None:
    member_id = await member_in_good_standing(fund)
    first = await apply_once_known(fund, member_id, microcredit("1000.00", 6), [])
    response = await fund.http.post(f"/v1/loans/{first['loan_id']}/decision",
                                    json={"decision": "approve"}, headers=fund.token())
    assert response.status_code == 200, response.text
    second = await fund.http.post("/v1/loans", json=microcredit("1000.00", 6),
                                  headers=fund.token("member", member_id=member_id))
    assert second.json()["refusals"] == ["loan_outstanding"]


async def test_a_lease_names_its_item_supplier_and_residual(fund: Fund) -> None:
    member_id = await member_in_good_standing(fund)
    token = fund.token("member", member_id=member_id)
    lease = {"financing": "leasing", "amount": {"amount": "4000.00"}, "months": 24,
             "purpose": "A camera for the season", "item": "Camera body and two lenses",
             "supplier_iban": "BE71 0961 2345 6769"}
    missing = await fund.http.post("/v1/loans", json=lease, headers=token)
    assert missing.status_code == 400
    assert missing.json()["errors"][0]["field"] == "supplier"

    bad_iban = await fund.http.post("/v1/loans", headers=token, json={
        **lease, "supplier": "Photo Hall", "supplier_iban": "BE00 0000 0000 0000",
        "residual": {"amount": "200.00"}})
    assert bad_iban.json()["errors"][0]["field"] == "supplier_iban"
    loan = await apply_once_known(fund, member_id, {**lease, "supplier": "Photo Hall",
                                                    "residual": {"amount": "200.00"}}, [])
    response = await fund.http.post(f"/v1/loans/{loan['loan_id']}/decision",
                                    json={"decision": "approve"}, headers=fund.token())
    assert response.status_code == 200, response.text
    schedule = response.json()["schedule"]
    assert schedule[-1]["balance_after"]["amount"] == "200.00"


async def test_bad_applications_are_refused_naming_the_field_and_change_nothing(
        fund: Fund) -> None:
    member_id = new_id()
    token = fund.token("member", member_id=member_id)
    cases = [
        ({**microcredit(), "amount": {"amount": "-5.00"}}, "amount"),
        ({**microcredit(), "months": 0}, "months"),
        ({**microcredit(), "financing": "mortgage"}, "financing"),
        ({**microcredit(), "residual": {"amount": "10.00"}}, "residual"),
        ({**microcredit(), "amount": {"amount": "100.00", "currency": "USD"}},
         "amount.currency"),
    ]
    for body, field in cases:
        response = await fund.http.post("/v1/loans", json=body, headers=token)
        assert response.status_code == 400, (body, response.text)
        assert any(field in e["field"] for e in response.json()["errors"]), response.text
    listed = await fund.http.get("/v1/loans", headers=token)
    assert listed.json()["items"] == []

    fr = await fund.http.post("/v1/loans", json=microcredit(),
                              headers=fund.token("member", branch="FR", member_id=member_id))
    assert fr.status_code == 409 and "does not lend" in fr.json()["title"]

    staff_applies = await fund.http.post("/v1/loans", json=microcredit(), headers=fund.token())
    assert staff_applies.status_code == 403
    decline_without_reason = await fund.http.post(
        f"/v1/loans/{new_id()}/decision", json={"decision": "decline"}, headers=fund.token())
    assert decline_without_reason.status_code == 400


async def test_a_member_sees_only_their_own_loans(fund: Fund) -> None:
    member_id = await member_in_good_standing(fund)
    loan = await apply_once_known(fund, member_id, microcredit("800.00", 6), [])
    mine = await fund.http.get(f"/v1/loans/{loan['loan_id']}",
                               headers=fund.token("member", member_id=member_id))
    assert mine.status_code == 200 and mine.json()["purpose"] == "A new instrument"
    other = fund.token("member", member_id=new_id())
    assert (await fund.http.get(f"/v1/loans/{loan['loan_id']}", headers=other)).status_code == 404
    assert (await fund.http.get("/v1/loans", headers=other)).json()["items"] == []
    decide_as_other_branch = await fund.http.post(
        f"/v1/loans/{loan['loan_id']}/decision", json={"decision": "approve"},
        headers=fund.token(branch="FR"))
    assert decide_as_other_branch.status_code == 404
    queue = await fund.http.get("/v1/loans", params={"status": "applied"}, headers=fund.token())
    assert loan["loan_id"] in [item["loan_id"] for item in queue.json()["items"]]


async def approved_loan(fund: Fund, amount: str = "2000.00") -> dict[str, object]:
    member_id = await member_in_good_standing(fund)
    loan = await apply_once_known(fund, member_id, microcredit(amount, 10), [])
    response = await fund.http.post(f"/v1/loans/{loan['loan_id']}/decision",
                                    json={"decision": "approve"}, headers=fund.token())
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def fund_position(fund: Fund) -> dict[str, Decimal]:
    body = (await fund.http.get("/v1/fund", headers=fund.token())).json()
    return {name: Decimal(body[name]["amount"])
            for name in ("free_balance", "loans", "lendable")}


async def test_an_approved_loan_is_booked_paid_out_by_sepa_and_confirmed_once(fund: Fund) -> None:
    loan = await approved_loan(fund)
    before = await fund_position(fund)
    headers = {**fund.token(), "Idempotency-Key": f"payout-{loan['loan_id']}"}
    response = await fund.http.post("/v1/loan-disbursements", json={}, headers=headers)
    assert response.status_code == 201, response.text
    file = response.json()
    assert loan["loan_id"] in file["loan_ids"]
    after = await fund_position(fund)
    paid = Decimal(file["total"]["amount"])
    assert after["loans"] == before["loans"] + paid
    assert after["free_balance"] == before["free_balance"] - paid

    again = await fund.http.post("/v1/loan-disbursements", json={}, headers=headers)
    assert again.json() == file  # the same key books nothing more
    assert await fund_position(fund) == after

    xml = await fund.http.get(file["file"], headers=fund.token())
    assert xml.status_code == 200 and "pain.001.001.09" in xml.text
    assert str(loan["loan_id"]).replace("-", "") in xml.text
    assert "BE71096123456769" in xml.text  # the member's payout account

    shown = (await fund.http.get(f"/v1/loans/{loan['loan_id']}", headers=fund.token())).json()
    assert shown["status"] == "paying_out"
    confirmed = await fund.http.post(f"/v1/loan-disbursements/{file['disbursement_id']}"
                                     "/confirmation", headers=fund.token())
    assert confirmed.status_code == 200, confirmed.text
    [event] = await fund.wire.wait_for(LoanDisbursed, 1,
                                       where=lambda e: e.loan_id == loan["loan_id"])
    assert event.amount.amount == Decimal("2000.00") and event.paid_to == "member"
    assert event.version == 3
    twice = await fund.http.post(f"/v1/loan-disbursements/{file['disbursement_id']}"
                                 "/confirmation", headers=fund.token())
    assert twice.status_code == 409
    shown = (await fund.http.get(f"/v1/loans/{loan['loan_id']}", headers=fund.token())).json()
    assert shown["status"] == "disbursed"

    check = await fund.http.get("/v1/fund/check", headers=fund.token())
    assert check.json()["ok"] is True, check.text

    nothing = await fund.http.post("/v1/loan-disbursements", json={}, headers=fund.token())
    assert nothing.status_code == 409
