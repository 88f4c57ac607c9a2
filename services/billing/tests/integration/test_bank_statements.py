"""camt.053 imports on the genuine MongoDB and Kafka: a file is reconciled and booked whole, or
refused whole; accounts belong to one branch; a line is booked once whatever statement brings it."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sample_statements import (
    ARABIC_INDIC_121,
    BE_ACCOUNT,
    FR_ACCOUNT,
    FULLWIDTH_121,
    document,
    entry,
    statement,
    stmt,
)
from smart_shared.events.catalogue import (
    InvoiceDelivered,
    InvoiceDeliveryRejected,
    PaymentReceived,
)
from smart_shared.ids import new_id
from smart_shared.mongo import OUTBOX

from .conftest import Billing, an_invoice

pytestmark = pytest.mark.integration
XML = {"Content-Type": "application/xml"}


def staff_of(billing: Billing, branch: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=billing.url, timeout=30, headers={
        "Authorization": f"Bearer {billing.token('staff', branch=branch)}", **XML})


async def everything_booked(billing: Billing) -> tuple[int, ...]:
    """What an import writes: payments, parked payments, statements, events to publish (not
    the e-invoices' deliveries, which go on meanwhile)."""
    booked = [await billing.db[name].count_documents({}) for name in (
        "payments", "unmatched_payments", "bank_statements")]
    events = await billing.db[OUTBOX].count_documents({"ce_type": {"$nin": [
        InvoiceDelivered.ce_type(), InvoiceDeliveryRejected.ce_type()]}})
    return (*booked, events)


async def balance_of(billing: Billing, invoice: dict[str, Any]) -> str:
    doc = await billing.db["invoices"].find_one({"_id": invoice["_id"]})
    assert doc is not None
    return str(doc["balance_due"])


def a_ref() -> str:
    return f"R{new_id()[-10:]}"


async def refused(billing: Billing, content: bytes, status: int, field: str,
                  branch: str = "BE") -> dict[str, Any]:
    """Post ``content``, expect a problem document naming ``field``, and that nothing changed."""
    before = await everything_booked(billing)
    async with staff_of(billing, branch) as http:
        answer = await http.post("/v1/bank-statements", content=content)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    problem: dict[str, Any] = answer.json()
    assert problem["errors"][0]["field"] == field, problem
    assert await everything_booked(billing) == before
    return problem


async def test_an_entry_of_ten_euros_whose_details_say_ninety_nine_thousand_books_nothing(
    billing: Billing,
) -> None:
    invoice = await an_invoice(billing, "100.00")
    reference = invoice["structured_reference"]
    content = statement(f"STMT-{new_id()[-12:]}", [
        entry(a_ref(), "21.00", reference),
        entry(a_ref(), "10.00", reference, details=["99999.00", "88888.00"]),
    ])
    problem = await refused(billing, content, 400, "Stmt[1]/Ntry[2]/Amt")
    assert "188887.00" in problem["detail"]
    assert await balance_of(billing, invoice) == "121.00"


async def test_a_statement_whose_balances_do_not_add_up_books_nothing(billing: Billing) -> None:
    invoice = await an_invoice(billing, "100.00")
    content = statement(f"STMT-{new_id()[-12:]}", [
        entry(a_ref(), "121.00", invoice["structured_reference"]),
    ], balances=("1000.00", "1999.00"))
    problem = await refused(billing, content, 400, "Stmt[1]/Bal")
    assert "1121.00" in problem["detail"] and "1999.00" in problem["detail"]
    assert await balance_of(billing, invoice) == "121.00"


async def test_a_file_of_several_statements_is_booked_statement_by_statement(
    billing: Billing,
) -> None:
    first, second = await an_invoice(billing, "100.00"), await an_invoice(billing, "100.00")
    day_1, day_2 = f"DAY-{new_id()[-12:]}", f"DAY-{new_id()[-12:]}"
    content = document(new_id()[-12:], [
        stmt(day_1, [entry(a_ref(), "121.00", first["structured_reference"])],
             balances=("500.00", "621.00")),
        stmt(day_2, [entry(a_ref(), "21.00", second["structured_reference"]),
                     entry(a_ref(), "9.99", None, credit=False)],
             balances=("621.00", "632.01")),
    ])
    async with staff_of(billing, "BE") as http:
        answer = await http.post("/v1/bank-statements", content=content)
    assert answer.status_code == 201, answer.text
    report = answer.json()
    assert [(s["statement_id"], s["account"], s["summary"]) for s in report["statements"]] == [
        (day_1, BE_ACCOUNT, {"matched": 1}),
        (day_2, BE_ACCOUNT, {"partially_paid": 1, "not_a_credit": 1})]
    assert report["summary"] == {"matched": 1, "partially_paid": 1, "not_a_credit": 1}
    assert [line["statement_id"] for line in report["lines"]] == [day_1, day_2, day_2]
    assert (await balance_of(billing, first), await balance_of(billing, second)) == (
        "0.00", "100.00")


async def test_one_statement_that_does_not_add_up_refuses_the_whole_file(
    billing: Billing,
) -> None:
    first, second = await an_invoice(billing, "100.00"), await an_invoice(billing, "100.00")
    content = document(new_id()[-12:], [
        stmt(f"DAY-{new_id()[-12:]}", [entry(a_ref(), "121.00", first["structured_reference"])],
             balances=("0.00", "121.00")),
        stmt(f"DAY-{new_id()[-12:]}", [entry(a_ref(), "121.00", second["structured_reference"])],
             balances=("121.00", "121.00")),
    ])
    await refused(billing, content, 400, "Stmt[2]/Bal")
    assert (await balance_of(billing, first), await balance_of(billing, second)) == (
        "121.00", "121.00")


async def test_a_statement_of_another_branchs_account_is_refused_to_its_staff(
    billing: Billing,
) -> None:
    content = statement(f"STMT-{new_id()[-12:]}", [entry(a_ref(), "10.00", None)],
                        account=FR_ACCOUNT)
    problem = await refused(billing, content, 403, "Stmt[1]/Acct/Id/IBAN")
    assert "branch FR" in problem["detail"]


async def test_a_statement_of_an_account_that_is_no_branchs_is_refused(billing: Billing) -> None:
    content = document(new_id()[-12:], [
        stmt(f"STMT-{new_id()[-12:]}", [entry(a_ref(), "10.00", None)]),
        stmt(f"STMT-{new_id()[-12:]}", [entry(a_ref(), "10.00", None)], account="BE62510007547061"),
    ])
    problem = await refused(billing, content, 400, "Stmt[2]/Acct/Id/IBAN")
    assert "BE62510007547061 is no branch's collection account" in problem["detail"]


async def test_fr_staff_cannot_block_the_genuine_statement_of_be(billing: Billing) -> None:
    invoice = await an_invoice(billing, "100.00")
    bank_reference = a_ref()
    genuine = statement(f"STMT-{new_id()[-12:]}", [
        entry(bank_reference, "121.00", invoice["structured_reference"])])
    forged = statement(f"STMT-{new_id()[-12:]}", [
        entry(bank_reference, "121.00", invoice["structured_reference"])])
    await refused(billing, forged, 403, "Stmt[1]/Acct/Id/IBAN", branch="FR")
    async with staff_of(billing, "BE") as http:
        answer = await http.post("/v1/bank-statements", content=genuine)
    assert answer.status_code == 201, answer.text
    assert [line["outcome"] for line in answer.json()["lines"]] == ["matched"]
    assert await balance_of(billing, invoice) == "0.00"


async def test_the_same_line_under_a_new_statement_id_is_recognised_not_booked_again(
    billing: Billing,
) -> None:
    invoice = await an_invoice(billing, "100.00")
    reference = invoice["structured_reference"]
    line = entry("1", "21.00", None, unstructured=f"facture {reference}", bank_reference=False)
    later = entry("2", "50.00", reference, booked="2026-03-03", bank_reference=False)
    async with staff_of(billing, "BE") as http:
        daily = await http.post("/v1/bank-statements",
                                content=statement(f"DAILY-{new_id()[-12:]}", [line]))
        assert daily.status_code == 201, daily.text
        assert [x["outcome"] for x in daily.json()["lines"]] == ["partially_paid"]
        monthly = await http.post("/v1/bank-statements",
                                  content=statement(f"MONTHLY-{new_id()[-12:]}", [line, later]))
    assert monthly.status_code == 201, monthly.text
    assert [x["outcome"] for x in monthly.json()["lines"]] == ["already_booked", "partially_paid"]
    assert await balance_of(billing, invoice) == "50.00"
    received = await billing.wait_for(PaymentReceived, invoice["_id"], count=2)
    assert [str(e.amount.amount) for e in received] == ["21.00", "50.00"]


async def test_two_identical_lines_without_bank_reference_in_one_statement_are_both_booked(
    billing: Billing,
) -> None:
    invoice = await an_invoice(billing, "100.00")
    line = entry("1", "21.00", invoice["structured_reference"], bank_reference=False)
    content = statement(f"STMT-{new_id()[-12:]}", [line, line])
    async with staff_of(billing, "BE") as http:
        first = await http.post("/v1/bank-statements", content=content)
        assert [x["outcome"] for x in first.json()["lines"]] == ["partially_paid"] * 2
        again = await http.post("/v1/bank-statements",
                                content=statement(f"STMT-{new_id()[-12:]}", [line, line]))
    assert [x["outcome"] for x in again.json()["lines"]] == ["already_booked"] * 2
    assert await balance_of(billing, invoice) == "79.00"


@pytest.mark.parametrize("amount", [
    "1E+3", "1e999999999", "9" * 30, ARABIC_INDIC_121, FULLWIDTH_121, "-121.00", "NaN"])
async def test_a_hostile_amount_is_a_problem_document_never_a_500(
    billing: Billing, amount: str,
) -> None:
    content = statement(f"STMT-{new_id()[-12:]}", [entry(a_ref(), amount, None)])
    await refused(billing, content, 400, "Stmt[1]/Ntry[1]/Amt")


async def test_a_statement_in_a_namespace_billing_does_not_read_is_refused(
    billing: Billing,
) -> None:
    content = statement(f"STMT-{new_id()[-12:]}", [entry(a_ref(), "1.00", None)]).replace(
        b"camt.053.001.02", b"camt.054.001.02")
    problem = await refused(billing, content, 400, "Document")
    assert "camt.054.001.02" in problem["detail"]
