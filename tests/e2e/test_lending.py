"""Lending end to end, six service processes on the genuine Kafka and mongod: a member borrows,
the fund pays out, three salaries each withhold an instalment, a month without salary leaves
the last one due until the fund collects it by SEPA direct debit, and the loan ends repaid;
another member's loan defaults, goes to collection as a case, and is lost to the fund only
when staff write it off. The fund's ledger balances at every step."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta
from decimal import Decimal

import httpx
import pytest
import pytest_asyncio

from tests.e2e.lending import ACTIVE_LONG_ENOUGH, Lending, amount_of
from tests.platform import PlatformProcesses

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

SALARY = Decimal("2000.00")  # a net of about 1,140: a fifth of it covers an instalment


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def lending(platform: PlatformProcesses) -> AsyncIterator[Lending]:
    # a fresh connection per call: a kept-alive one may be closed by the service while the
    # clock moves, just as the next call reuses it
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_keepalive_connections=0),
                                 ) as http:
        yield Lending(platform, http)


async def test_a_loan_is_repaid_by_three_salaries_and_a_direct_debit_and_another_is_lost(
        lending: Lending) -> None:
    lena = await lending.member("Lena", "BE71096123456769")
    tom = await lending.member("Tom", "BE62510007547061")
    for member in (lena, tom):  # a year's turnover the pack asks of a borrower
        salary = await lending.contract_done(member, Decimal("3000.00"))
        await lending.invoice_paid(salary["contract_id"])
    await lending.move_to(await lending.today() + ACTIVE_LONG_ENOUGH)
    await lending.ledger_checks()

    before = await lending.fund()
    repaid, lost = await lending.loans_paid_out(
        await lending.loan_applied(lena, "600.00", 4),
        await lending.loan_applied(tom, "600.00", 3))
    assert repaid["status"] == lost["status"] == "disbursed"
    assert repaid["mandate_id"] and repaid["mandate_signed_on"]
    after = await lending.fund()
    assert amount_of(after["free_balance"]) == amount_of(before["free_balance"]) - Decimal(1200)
    await lending.ledger_checks()

    schedule = repaid["schedule"]
    for number in (1, 2, 3):  # a salary after each due date withholds that instalment
        await lending.move_to(date.fromisoformat(schedule[number - 1]["due_date"]))
        salary = await lending.contract_done(lena, SALARY)
        assert (amount_of(salary["breakdown"]["loan_withheld"])
                == amount_of(schedule[number - 1]["amount"]))
        loan = await lending.instalment_paid(repaid["loan_id"], number)
        assert loan["schedule"][number - 1]["withheld_from"] == [salary["salary_id"]]
        await lending.invoice_paid(salary["contract_id"])
        await lending.ledger_checks()

    # no salary in the fourth month: ten days after its due date the fund debits the member
    last_due = date.fromisoformat(schedule[3]["due_date"])
    await lending.move_to(last_due + timedelta(days=10))
    await lending.ledger_checks()
    api = lending.api
    file = (await api.call("POST", "fund", "/v1/loan-collections", lending.staff, json={})).json()
    [debit] = file["debits"]
    assert debit["loan_id"] == repaid["loan_id"] and debit["number"] == 4
    assert amount_of(debit["amount"]) == amount_of(schedule[3]["amount"])
    xml = await api.call("GET", "fund", file["file"], lending.staff)
    assert b"urn:iso:std:iso:20022:tech:xsd:pain.008.001.02" in xml.content
    assert lena.iban.encode() in xml.content and repaid["mandate_id"].encode() in xml.content
    await api.call("POST", "fund", f"/v1/loan-collections/{file['collection_id']}/confirmation",
                   lending.staff, json={})
    loan = await lending.instalment_paid(repaid["loan_id"], 4)
    loan = await lending.poll_loan(repaid["loan_id"], "repaid")
    assert amount_of(loan["balance"]) == 0
    await lending.ledger_checks()

    # Tom repaid nothing: three instalments missed, the loan defaults and goes to collection
    defaulted = await lending.poll_loan(lost["loan_id"], "defaulted")
    assert defaulted["lost"] is None
    position = await lending.fund()
    assert position["losses"] == after["losses"]  # no loss while collection has the case
    case = await lending.loan_case_of(tom)
    assert amount_of(case["outstanding"]) == Decimal("600.00") + sum(
        amount_of(i["interest"]) for i in lost["schedule"])
    assert case["steps"][0]["level"] == "default_notice"
    await api.call("POST", "collection", f"/v1/loan-cases/{case['case_id']}/write-off",
                   lending.staff, json={"reason": "the member cannot be reached"})
    written_off = await lending.poll_loan(lost["loan_id"], "written_off")
    assert amount_of(written_off["lost"]) == Decimal("600.00")
    final = await lending.fund()
    assert amount_of(final["losses"]) - amount_of(after["losses"]) == Decimal("600.00")
    await lending.ledger_checks()
