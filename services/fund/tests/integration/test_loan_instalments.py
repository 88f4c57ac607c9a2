"""A loan repaid through the salaries, by the platform clock: instalments fall due, payroll's
withholdings are booked once each, the loan ends repaid; a loan never repaid ends defaulted,
handed to collection, and is lost only once collection writes it off."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from smart_shared.clock import SharedClock
from smart_shared.events import (
    InstalmentDue,
    InstalmentPaid,
    InstalmentWithheld,
    LoanDefaulted,
    LoanPaymentCollected,
    LoanRepaid,
    LoanWrittenOff,
)
from smart_shared.ids import new_id
from smart_shared.money import Money
from smart_testing import eventually

from .conftest import Fund
from .test_loans import apply_once_known, member_in_good_standing, microcredit

pytestmark = pytest.mark.integration


async def disbursed_loan(fund: Fund, amount: str, months: int) -> dict[str, object]:
    member_id = await member_in_good_standing(fund)
    loan = await apply_once_known(fund, member_id, microcredit(amount, months), [])
    decided = await fund.http.post(f"/v1/loans/{loan['loan_id']}/decision",
                                   json={"decision": "approve"}, headers=fund.token())
    assert decided.status_code == 200, decided.text
    return decided.json()  # type: ignore[no-any-return]


async def pay_out_all(fund: Fund) -> None:
    file = await fund.http.post("/v1/loan-disbursements", json={}, headers=fund.token())
    assert file.status_code == 201, file.text
    confirmed = await fund.http.post(
        f"/v1/loan-disbursements/{file.json()['disbursement_id']}/confirmation",
        headers=fund.token())
    assert confirmed.status_code == 200, confirmed.text


def withheld(loan: dict[str, object], number: int, amount: Decimal,
             salary_id: str) -> InstalmentWithheld:
    return InstalmentWithheld(
        branch="BE", version=2, occurred_at=datetime.now(UTC), salary_id=salary_id,
        contract_id=new_id(), member_id=str(loan["member_id"]), loan_id=str(loan["loan_id"]),
        number=number, amount=Money.of(amount))


async def due(fund: Fund, loan: dict[str, object], number: int) -> InstalmentDue:
    [event] = await fund.wire.wait_for(
        InstalmentDue, 1, where=lambda e: e.loan_id == loan["loan_id"] and e.number == number)
    return event  # type: ignore[no-any-return]


async def paid(fund: Fund, loan: dict[str, object], count: int) -> list[InstalmentPaid]:
    return await fund.wire.wait_for(  # type: ignore[no-any-return]
        InstalmentPaid, count, where=lambda e: e.loan_id == loan["loan_id"])


async def ledger_checks(fund: Fund) -> None:
    check = await fund.http.get("/v1/fund/check", headers=fund.token())
    assert check.json()["ok"] is True, check.text


async def test_a_loan_is_repaid_through_the_salaries_and_a_forgotten_one_defaults(
        fund: Fund) -> None:
    repaid = await disbursed_loan(fund, "900.00", 3)
    forgotten = await disbursed_loan(fund, "600.00", 3)
    await pay_out_all(fund)
    assert fund.service.platform is not None
    clock = fund.service.platform.clock
    assert isinstance(clock, SharedClock)
    schedule = repaid["schedule"]
    assert isinstance(schedule, list)

    await clock.advance(timedelta(days=32))
    first = await due(fund, repaid, 1)
    assert first.amount.amount == Decimal(schedule[0]["amount"]["amount"])
    assert first.max_withholding_share == Decimal("0.20")
    salary = new_id()
    await fund.send(withheld(repaid, 1, first.amount.amount, salary))
    await fund.send(withheld(repaid, 1, first.amount.amount, salary))  # redelivered by payroll
    [one] = await paid(fund, repaid, 1)
    assert one.instalment_outstanding.amount == Decimal("0.00")
    assert one.capital.amount + one.interest.amount == first.amount.amount

    await clock.advance(timedelta(days=31))
    second = await due(fund, repaid, 2)
    await fund.send(withheld(repaid, 2, Decimal("10.00"), new_id()))  # a small salary's share
    partly = (await paid(fund, repaid, 2))[1]
    assert partly.amount.amount == Decimal("10.00")
    assert partly.interest.amount == Decimal(schedule[1]["interest"]["amount"])  # interest first
    assert partly.instalment_outstanding.amount == second.amount.amount - Decimal("10.00")
    await fund.send(withheld(repaid, 2, partly.instalment_outstanding.amount, new_id()))
    await paid(fund, repaid, 3)

    await clock.advance(timedelta(days=31))
    third = await due(fund, repaid, 3)
    await fund.send(withheld(repaid, 3, third.amount.amount, new_id()))
    [end] = await fund.wire.wait_for(LoanRepaid, 1,
                                     where=lambda e: e.loan_id == repaid["loan_id"])
    last = (await paid(fund, repaid, 4))[-1]
    assert last.balance.amount == Decimal("0.00")
    assert sum(p.capital.amount for p in await paid(fund, repaid, 4)) == Decimal("900.00")
    await ledger_checks(fund)

    before = (await fund.http.get("/v1/fund", headers=fund.token())).json()
    await clock.advance(timedelta(days=31))
    [defaulted] = await fund.wire.wait_for(LoanDefaulted, 1,
                                           where=lambda e: e.loan_id == forgotten["loan_id"])
    assert defaulted.missed == 3 and defaulted.balance.amount == Decimal("600.00")
    interest = sum(Decimal(i["interest"]["amount"]) for i in forgotten["schedule"])  # type: ignore[attr-defined]
    assert defaulted.outstanding is not None
    assert defaulted.outstanding.amount == Decimal("600.00") + interest
    assert defaulted.transfer_id is None
    after = (await fund.http.get("/v1/fund", headers=fund.token())).json()
    assert after["losses"] == before["losses"]  # collection has the case: no loss yet
    shown = (await fund.http.get(f"/v1/loans/{forgotten['loan_id']}",
                                 headers=fund.token())).json()
    assert shown["status"] == "defaulted"
    assert end.version > 1
    await ledger_checks(fund)

    # the member pays part of it to collection, the rest is written off: only that is lost
    case = dict(branch="BE", occurred_at=datetime.now(UTC), loan_id=str(forgotten["loan_id"]),
                member_id=str(forgotten["member_id"]), case_id=new_id())
    payment = LoanPaymentCollected(
        **case, version=2, payment_id=new_id(), amount=Money.of(interest + Decimal("100.00")),
        outstanding=Money.of(Decimal("500.00")), received_on=clock.today())
    await fund.send(payment)
    await fund.send(payment)  # redelivered: booked once
    await fund.send(LoanWrittenOff(**case, version=3, amount=Money.of(Decimal("500.00")),
                                   reason="unreachable", written_off_on=clock.today()))

    async def written_off() -> dict[str, object] | None:
        loan = (await fund.http.get(f"/v1/loans/{forgotten['loan_id']}",
                                    headers=fund.token())).json()
        return loan if loan["status"] == "written_off" else None  # type: ignore[no-any-return]
    shown = await eventually(written_off)
    assert shown["lost"] == {"amount": "500.00", "currency": "EUR"}
    assert shown["recovered"] == {"amount": str(interest + Decimal("100.00")), "currency": "EUR"}
    final = (await fund.http.get("/v1/fund", headers=fund.token())).json()
    assert (Decimal(final["losses"]["amount"]) - Decimal(before["losses"]["amount"])
            == Decimal("500.00"))
    await ledger_checks(fund)


async def test_an_early_repayment_is_priced_by_the_pack_and_booked_once(fund: Fund) -> None:
    loan = await disbursed_loan(fund, "1000.00", 6)
    await pay_out_all(fund)
    member = fund.token("member", member_id=str(loan["member_id"]))
    quote = await fund.http.get(f"/v1/loans/{loan['loan_id']}/early-repayment", headers=member)
    assert quote.status_code == 200, quote.text
    price = {name: Decimal(quote.json()[name]["amount"])
             for name in ("balance", "interest_due", "indemnity", "total")}
    assert price["balance"] == Decimal("1000.00")
    assert price["indemnity"] == Decimal("5.00")  # 0.5 % of the capital repaid early (BE pack)
    assert price["total"] == price["balance"] + price["interest_due"] + price["indemnity"]

    before = (await fund.http.get("/v1/fund", headers=fund.token())).json()
    headers = {**fund.token(), "Idempotency-Key": f"early-{loan['loan_id']}"}
    for _ in range(2):  # the same key again books nothing more
        repaid = await fund.http.post(f"/v1/loans/{loan['loan_id']}/early-repayment",
                                      headers=headers)
        assert repaid.status_code == 200, repaid.text
        assert repaid.json() == quote.json()
    after = (await fund.http.get("/v1/fund", headers=fund.token())).json()
    assert (Decimal(after["free_balance"]["amount"]) - Decimal(before["free_balance"]["amount"])
            == price["total"])
    [event] = await fund.wire.wait_for(LoanRepaid, 1,
                                       where=lambda e: e.loan_id == loan["loan_id"])
    assert event.repaid_on
    again = await fund.http.post(f"/v1/loans/{loan['loan_id']}/early-repayment",
                                 headers={**fund.token(), "Idempotency-Key": "another"})
    assert again.status_code == 409
    await ledger_checks(fund)


async def test_the_check_catches_a_loan_whose_balance_differs_from_its_transfers(
        fund: Fund) -> None:
    loan = await disbursed_loan(fund, "700.00", 3)
    await pay_out_all(fund)
    await ledger_checks(fund)
    db = fund.service.platform.db  # type: ignore[union-attr]
    await db["loans"].update_one({"_id": loan["loan_id"]}, {"$set": {"balance": "650.00"}})
    check = (await fund.http.get("/v1/fund/check", headers=fund.token())).json()
    assert check["ok"] is False
    assert {"loan_id": loan["loan_id"], "field": "balance", "loan": "650.00",
            "from_transfers": "700.00"} in check["mismatches"]
    await db["loans"].update_one({"_id": loan["loan_id"]}, {"$set": {"balance": "700.00"}})
    await ledger_checks(fund)
