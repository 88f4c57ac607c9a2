from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sample_statements import entry, statement
from smart_shared.clock import PLATFORM_TZ
from smart_shared.events.catalogue import (
    CreditNoteIssued,
    DebtWrittenOff,
    InvoicePaid,
    PaymentReceived,
)
from smart_shared.ids import new_id
from smart_shared.money import Money
from smart_testing import eventually

from .conftest import Billing, an_invoice, invoice_of, today

pytestmark = pytest.mark.integration
IBAN = "BE71096123456769"


def payment(amount: str, **match: str) -> dict[str, Any]:
    return {"amount": {"amount": amount, "currency": "EUR"},
            "received_on": datetime.now(PLATFORM_TZ).date().isoformat(), "payer_iban": IBAN,
            **match}


async def stored(billing: Billing) -> tuple[int, int]:
    return (await billing.db["payments"].count_documents({}),
            await billing.db["unmatched_payments"].count_documents({}))


async def test_a_payment_in_two_parts_is_received_twice_then_paid_once(billing: Billing) -> None:
    invoice = await an_invoice(billing)  # 1210.00 incl. VAT
    async with billing.client() as http:
        first = await http.post("/v1/payments", json=payment("210.00", invoice_id=invoice["_id"]),
                                headers={"Idempotency-Key": new_id()})
        assert first.status_code == 201, first.text
        assert first.json()["outcome"] == "partially_paid"
        assert first.json()["balance_due"] == "1000.00"
        second = await http.post(
            "/v1/payments",
            json=payment("1000.00", structured_reference=invoice["structured_reference"]),
            headers={"Idempotency-Key": new_id()})
        assert second.json()["outcome"] == "matched", second.text
    paid = await billing.wait_for(InvoicePaid, invoice["_id"])
    received = billing.of(PaymentReceived, invoice["_id"])
    assert [str(e.amount.amount) for e in received] == ["210.00", "1000.00"]
    assert [str(e.balance_due.amount) for e in received] == ["1000.00", "0.00"]
    assert [e.version for e in received] == [2, 3] and paid[0].version == 4
    assert str(paid[0].total.amount) == "1210.00"
    doc = await invoice_of(billing, invoice["contract_id"])
    assert doc is not None and doc["status"] == "paid" and doc["balance_due"] == "0.00"


async def test_the_same_idempotency_key_books_once(billing: Billing) -> None:
    invoice = await an_invoice(billing)
    key = new_id()
    async with billing.client() as http:
        body = payment("100.00", invoice_id=invoice["_id"])
        first = await http.post("/v1/payments", json=body, headers={"Idempotency-Key": key})
        again = await http.post("/v1/payments", json=body, headers={"Idempotency-Key": key})
        assert first.json() == again.json()
        assert again.headers["Idempotent-Replayed"] == "true"
        other = await http.post("/v1/payments", json=payment("1.00", invoice_id=invoice["_id"]),
                                headers={"Idempotency-Key": key})
        assert other.status_code == 422
        detail = (await http.get(f"/v1/invoices/{invoice['_id']}")).json()
    assert len(detail["payments"]) == 1 and detail["balance_due"] == "1110.00"


async def test_an_overpayment_stays_as_credit_and_an_unknown_reference_is_parked(
    billing: Billing,
) -> None:
    invoice = await an_invoice(billing, "100.00")
    async with billing.client() as http:
        over = await http.post("/v1/payments", json=payment("150.00", invoice_id=invoice["_id"]),
                               headers={"Idempotency-Key": new_id()})
        assert (over.json()["outcome"], over.json()["credit"]) == ("overpaid", "29.00")
        unknown = await http.post(
            "/v1/payments", json=payment("42.00", structured_reference="+++000/0000/00097+++"),
            headers={"Idempotency-Key": new_id()})
        assert unknown.json()["outcome"] == "unmatched"
        parked = (await http.get("/v1/payments/unmatched")).json()["items"]
        assert unknown.json()["payment_id"] in {p["payment_id"] for p in parked}


async def test_a_camt053_statement_is_booked_line_by_line_and_only_once(billing: Billing) -> None:
    exact = await an_invoice(billing, "100.00")
    partial = await an_invoice(billing, "100.00")
    over = await an_invoice(billing, "100.00")
    content = statement(f"STMT-{new_id()[-12:]}", [
        entry(f"A{new_id()[-8:]}", Decimal("121.00"), exact["structured_reference"]),
        entry(f"B{new_id()[-8:]}", Decimal("21.00"), None,
              unstructured=f"facture {partial['structured_reference']}"),
        entry(f"C{new_id()[-8:]}", Decimal("200.00"), over["structured_reference"]),
        entry(f"D{new_id()[-8:]}", Decimal("55.55"), "+++000/0000/00097+++"),
        entry(f"E{new_id()[-8:]}", Decimal("9.99"), None, credit=False),
    ])
    async with billing.client() as http:
        headers = {"Content-Type": "application/xml"}
        first = await http.post("/v1/bank-statements", content=content, headers=headers)
        assert first.status_code == 201, first.text
        outcomes = [line["outcome"] for line in first.json()["lines"]]
        assert outcomes == ["matched", "partially_paid", "overpaid", "unmatched", "not_a_credit"]
        booked = await stored(billing)
        again = await http.post("/v1/bank-statements", content=content, headers=headers)
        assert [line["outcome"] for line in again.json()["lines"]] == [
            "already_booked"] * 4 + ["not_a_credit"]
        assert await stored(billing) == booked
    for invoice, balance, credit in ((exact, "0.00", "0.00"), (partial, "100.00", "0.00"),
                                     (over, "0.00", "79.00")):
        doc = await invoice_of(billing, invoice["contract_id"])
        assert doc is not None and (doc["balance_due"], doc["credit"]) == (balance, credit)
    paid = await billing.wait_for(InvoicePaid, over["_id"])
    assert len(paid) == 1


async def test_bad_inputs_are_refused_naming_the_field_and_store_nothing(
    billing: Billing,
) -> None:
    invoice = await an_invoice(billing)
    before = await stored(billing)
    cases = [
        ({**payment("10.00", invoice_id=invoice["_id"]),
          "amount": {"amount": 10.5, "currency": "EUR"}}, "amount"),
        (payment("-5.00", invoice_id=invoice["_id"]), "amount"),
        (payment("10.001", invoice_id=invoice["_id"]), "amount"),
        ({**payment("10.00", invoice_id=invoice["_id"]), "payer_iban": "BE00 1234"},
         "payer_iban"),
        (payment("10.00", structured_reference="+++123/4567/89003+++"), "structured_reference"),
        (payment("10.00"), "invoice_id"),
        ({**payment("10.00", invoice_id=invoice["_id"]), "received_on": "2026-02-30"},
         "received_on"),
        ({**payment("10.00", invoice_id=invoice["_id"]), "surprise": 1}, "surprise"),
    ]
    async with billing.client() as http:
        for body, field in cases:
            answer = await http.post("/v1/payments", json=body,
                                     headers={"Idempotency-Key": new_id()})
            assert answer.status_code == 400, (field, answer.text)
            assert answer.headers["content-type"].startswith("application/problem+json")
            assert any(field in e["field"] for e in answer.json()["errors"]), (field, answer.text)
        missing_key = await http.post("/v1/payments", json=payment("1.00",
                                                                   invoice_id=invoice["_id"]))
        assert missing_key.status_code == 400
        assert missing_key.json()["errors"][0]["field"] == "Idempotency-Key"
        bad_xml = await http.post("/v1/bank-statements", content=b"<!DOCTYPE x []><Document/>",
                                  headers={"Content-Type": "application/xml"})
        assert bad_xml.status_code == 400 and bad_xml.json()["errors"][0]["field"] == "statement"
        too_much = await http.post(f"/v1/invoices/{invoice['_id']}/credit-notes",
                                   json={"amount": {"amount": "5000.00"}, "reason": "oops"},
                                   headers={"Idempotency-Key": new_id()})
        assert too_much.status_code == 400 and too_much.json()["errors"][0]["field"] == "amount"
    async with billing.client("member", member_id="member-1") as http:
        forbidden = await http.post("/v1/payments", json=payment("1.00", invoice_id=invoice["_id"]),
                                    headers={"Idempotency-Key": new_id()})
        assert forbidden.status_code == 403
    assert await stored(billing) == before
    assert await billing.db["credit_notes"].count_documents({"invoice_id": invoice["_id"]}) == 0


async def test_a_staff_credit_note_then_a_write_off_recovers_the_vat_without_cancelling_the_debt(
    billing: Billing,
) -> None:
    invoice = await an_invoice(billing)  # 1210.00 incl. VAT, a Belgian business client
    key = new_id()
    async with billing.client() as http:
        body = {"amount": {"amount": "210.00", "currency": "EUR"}, "reason": "Discount agreed"}
        url = f"/v1/invoices/{invoice['_id']}/credit-notes"
        partial = await http.post(url, json=body, headers={"Idempotency-Key": key})
        replay = await http.post(url, json=body, headers={"Idempotency-Key": key})
        assert partial.status_code == 201, partial.text
        assert partial.json() == replay.json()
        assert partial.json()["number"].startswith(f"BE-CN-{today().year}-")
    written_off = DebtWrittenOff(
        branch="BE", version=7, occurred_at=datetime.now(UTC), invoice_id=invoice["_id"],
        contract_id=invoice["contract_id"], case_id="case-1", member_id="member-1",
        amount=Money(amount=Decimal("1000.00")), reason="collection failed",
        written_off_on=today())
    await billing.send(written_off)
    await billing.send(written_off)  # redelivered: recorded once
    doc = await eventually(lambda: _written_off(billing, invoice["contract_id"]))
    # VAT Code art. 77 §1 7°: the VAT in the 1,000.00 lost is recovered; the claim stays due
    assert (doc["status"], doc["balance_due"]) == ("written_off", "1000.00")
    assert (doc["write_off"]["lost_excl_vat"], doc["write_off"]["vat_recovered"]) == (
        "826.45", "173.55")
    assert doc["write_off"]["vat_correction_number"] == f"BE-VC-{today().year}-000001"
    [staff] = billing.of(CreditNoteIssued, invoice["_id"])  # the write-off is no credit note
    assert str(staff.balance_due.amount) == "1000.00"
    correction = await billing.db["issued_documents"].find_one(
        {"_id": f"vat_correction:{doc['_id']}"})
    text = pdf_text(correction["content"])
    assert "VAT to be repaid to the State to the extent that it was initially deducted" in text
    assert "It does not cancel the claim" in text
    mail = await billing.db["mail_outbox"].find_one({"_id": f"vat-correction:{doc['_id']}"})
    assert mail is not None and mail["template"] == "vat_correction"

    async with billing.client() as http:  # the client pays after all: that VAT is due again
        late = await http.post("/v1/payments", json=payment("121.00", invoice_id=doc["_id"]),
                               headers={"Idempotency-Key": new_id()})
        assert late.status_code in (200, 201), late.text
        rest = await http.post("/v1/payments", json=payment("879.00", invoice_id=doc["_id"]),
                               headers={"Idempotency-Key": new_id()})
        assert rest.status_code in (200, 201), rest.text
    doc = await invoice_of(billing, invoice["contract_id"])
    assert doc is not None and (doc["status"], doc["balance_due"]) == ("paid", "0.00")
    assert doc["write_off"]["vat_due_again"] == "173.55"
    await billing.wait_for(InvoicePaid, doc["_id"])


def pdf_text(content: bytes) -> str:
    import io

    import pypdf

    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(content)).pages)
    return " ".join(text.split())


async def _written_off(billing: Billing, contract_id: str) -> dict[str, Any] | None:
    doc = await invoice_of(billing, contract_id)
    return doc if doc and doc.get("write_off") else None


async def test_a_consumers_lost_debt_recovers_its_vat_and_sends_no_document(
    billing: Billing,
) -> None:
    from .conftest import a_client, contract_signed, work_completed

    contract_id = new_id()
    await billing.send(contract_signed(contract_id, amount="100.00",
                                       client=a_client("consumer", vat_number=None)))
    await billing.send(work_completed(contract_id))
    invoice = await eventually(lambda: invoice_of(billing, contract_id))
    await billing.send(DebtWrittenOff(
        branch="BE", version=7, occurred_at=datetime.now(UTC), invoice_id=invoice["_id"],
        contract_id=contract_id, case_id="case-2", member_id="member-1",
        amount=Money(amount=Decimal("121.00")), reason="collection failed",
        written_off_on=today()))
    doc = await eventually(lambda: _written_off(billing, contract_id))
    assert (doc["write_off"]["vat_recovered"], doc["write_off"]["vat_correction_number"]) == (
        "21.00", None)
    assert await billing.db["issued_documents"].find_one(
        {"_id": f"vat_correction:{doc['_id']}"}) is None


async def test_a_parked_payment_is_assigned_once_and_stays_parked_when_refused(
    billing: Billing,
) -> None:
    invoice = await an_invoice(billing, "100.00")
    async with billing.client() as http:
        parked = await http.post(
            "/v1/payments", json=payment("121.00", structured_reference="+++000/0000/00097+++"),
            headers={"Idempotency-Key": new_id()})
        payment_id = parked.json()["payment_id"]
        url = f"/v1/payments/unmatched/{payment_id}/assign"
        wrong = await http.post(url, json={"invoice_id": new_id()})
        assert wrong.status_code == 400 and wrong.json()["errors"][0]["field"] == "invoice_id"
        doc = await billing.db["unmatched_payments"].find_one({"_id": payment_id})
        assert doc is not None and doc["status"] == "parked" and "invoice_id" not in doc
        assigned = await http.post(url, json={"invoice_id": invoice["_id"]})
        assert assigned.status_code == 201, assigned.text
        assert (assigned.json()["outcome"], assigned.json()["balance_due"]) == ("matched", "0.00")
        again = await http.post(url, json={"invoice_id": invoice["_id"]})
        assert again.status_code == 409
        unknown = await http.post(f"/v1/payments/unmatched/{new_id()}/assign",
                                  json={"invoice_id": invoice["_id"]})
        assert unknown.status_code == 404
    doc = await billing.db["unmatched_payments"].find_one({"_id": payment_id})
    assert doc is not None and (doc["status"], doc["invoice_id"]) == ("assigned", invoice["_id"])
    await billing.wait_for(InvoicePaid, invoice["_id"])


async def test_a_bank_reference_repeated_in_one_statement_is_booked_once(
    billing: Billing,
) -> None:
    invoice = await an_invoice(billing, "100.00")
    reference = f"R{new_id()[-8:]}"
    content = statement(f"STMT-{new_id()[-12:]}", [
        entry(reference, Decimal("21.00"), invoice["structured_reference"]),
        entry(reference, Decimal("21.00"), invoice["structured_reference"]),
    ])
    async with billing.client() as http:
        answer = await http.post("/v1/bank-statements", content=content,
                                 headers={"Content-Type": "application/xml"})
        assert answer.status_code == 201, answer.text
        assert [line["outcome"] for line in answer.json()["lines"]] == [
            "partially_paid", "already_booked"]
    doc = await invoice_of(billing, invoice["contract_id"])
    assert doc is not None and doc["balance_due"] == "100.00"


async def test_a_payment_dated_before_its_invoice_in_1900_or_in_the_future_is_refused(
    billing: Billing,
) -> None:
    invoice = await an_invoice(billing)
    issued = date.fromisoformat(invoice["issue_date"])
    tomorrow = datetime.now(PLATFORM_TZ).date() + timedelta(days=1)
    before = await stored(billing)
    async with billing.client() as http:
        answers = [await http.post("/v1/payments", headers={"Idempotency-Key": new_id()},
                                   json={**payment("10.00", invoice_id=invoice["_id"]),
                                         "received_on": day.isoformat()})
                   for day in (issued - timedelta(days=1), date(1900, 1, 1), tomorrow)]
        # money without a matching invoice is parked whatever the day it arrived
        parked = await http.post("/v1/payments", headers={"Idempotency-Key": new_id()}, json={
            **payment("10.00", structured_reference="+++000/0000/00097+++"),
            "received_on": (issued - timedelta(days=1)).isoformat()})

    for answer in answers:
        assert answer.status_code == 400, answer.text
        assert [e["field"] for e in answer.json()["errors"]] == ["received_on"], answer.text
    assert f"before invoice {invoice['number']} was issued" in answers[0].json()["detail"]
    assert "before branch BE invoiced anything" in answers[1].json()["detail"]
    assert "in the future" in answers[2].json()["detail"]
    assert parked.status_code == 201 and parked.json()["outcome"] == "unmatched", parked.text
    assert await stored(billing) == (before[0], before[1] + 1)


@pytest.mark.parametrize("booked", ["2999-01-01", "1900-01-01"])
async def test_a_statement_with_an_entry_booked_in_the_future_or_in_1900_books_nothing(
    billing: Billing, booked: str,
) -> None:
    invoice = await an_invoice(billing, "100.00")
    content = statement(new_id()[-12:], [
        entry(f"A{new_id()[-8:]}", Decimal("121.00"), invoice["structured_reference"]),
        entry(f"B{new_id()[-8:]}", Decimal("5.00"), None, booked=booked),
    ])
    before = await stored(billing)
    async with billing.client() as http:
        answer = await http.post("/v1/bank-statements", content=content,
                                 headers={"Content-Type": "application/xml"})

    assert answer.status_code == 400, answer.text
    assert answer.json()["errors"][0]["field"] == "Stmt[1]/Ntry/BookgDt"
    assert f"booked on {booked}" in answer.json()["detail"]
    assert await stored(billing) == before


async def test_an_overpayment_is_deducted_from_the_same_clients_next_invoice_as_prepaid(
    billing: Billing,
) -> None:
    from billing.documents import invoice_ubl
    from billing.store import Invoice
    from smart_shared.events.catalogue import CreditApplied

    from .conftest import a_client, contract_signed, work_completed

    client = a_client(vat_number="BE0403170701")
    client = client.model_copy(update={"client_key": f"BE0403170701-{new_id()}"})
    first = new_id()
    await billing.send(contract_signed(first, client=client))
    await billing.send(work_completed(first))
    earlier = await eventually(lambda: invoice_of(billing, first))
    async with billing.client() as http:
        paid = await http.post("/v1/payments", json=payment("1310.00", invoice_id=earlier["_id"]),
                               headers={"Idempotency-Key": new_id()})
        assert paid.json()["outcome"] == "overpaid" and paid.json()["credit"] == "100.00"
    second = new_id()
    await billing.send(contract_signed(second, amount="500.00", client=client))
    await billing.send(work_completed(second))
    later = await eventually(lambda: invoice_of(billing, second))
    assert (later["prepaid"], later["balance_due"], later["status"]) == ("100.00", "505.00",
                                                                         "open")
    assert later["prepaid_from"] == [{"invoice_id": earlier["_id"], "number": earlier["number"],
                                      "amount": "100.00"}]
    assert b"<cbc:PrepaidAmount currencyID=\"EUR\">100.00</cbc:PrepaidAmount>" in invoice_ubl(
        Invoice.model_validate(later))
    earlier = await invoice_of(billing, first)
    assert earlier is not None
    assert (earlier["credit"], earlier["holds_credit"], earlier["balance_due"]) == (
        "0.00", False, "0.00")
    [applied] = await billing.wait_for(CreditApplied, earlier["_id"])
    assert (applied.to_number, str(applied.amount.amount)) == (later["number"], "100.00")
    third = new_id()  # the credit is used up: the next invoice deducts nothing
    await billing.send(contract_signed(third, amount="100.00", client=client))
    await billing.send(work_completed(third))
    last = await eventually(lambda: invoice_of(billing, third))
    assert (last.get("prepaid", "0.00"), last["balance_due"]) == ("0.00", "121.00")


async def test_an_overpayment_is_refunded_to_the_payers_account_once_another_person_approves(
    billing: Billing,
) -> None:
    from smart_shared.auth import mint_token
    from smart_shared.events.catalogue import OverpaymentRefunded

    def staff(sub: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {mint_token(billing.settings, 'staff', 'BE', sub=sub)}"}

    invoice = await an_invoice(billing, "100.00")  # 121.00 incl. VAT
    async with billing.client() as http:
        nothing = await http.post(f"/v1/invoices/{invoice['_id']}/refunds", json={},
                                  headers=staff("ana"))
        assert nothing.status_code == 409, nothing.text
        await http.post("/v1/payments", json=payment("150.00", invoice_id=invoice["_id"],
                                                     payer_name="Atelier Lumière SA"),
                        headers={"Idempotency-Key": new_id()})
        bad = await http.post(f"/v1/invoices/{invoice['_id']}/refunds",
                              json={"payee_iban": "BE00123"}, headers=staff("ana"))
        assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "payee_iban"
        asked = await http.post(f"/v1/invoices/{invoice['_id']}/refunds", json={},
                                headers=staff("ana"))
        assert asked.status_code == 201, asked.text
        refund = asked.json()
        assert (refund["amount"]["amount"], refund["payee_iban"], refund["status"]) == (
            "29.00", IBAN, "requested")
        early = await http.post("/v1/refunds/file", headers=staff("ana"))
        assert early.status_code == 409  # nothing approved yet: no money moves
        decision = f"/v1/refunds/{refund['refund_id']}/decision"
        own = await http.post(decision, json={"decision": "approve"}, headers=staff("ana"))
        assert own.status_code == 409 and "someone other" in own.json()["detail"]
        approved = await http.post(decision, json={"decision": "approve"}, headers=staff("ben"))
        assert approved.status_code == 200 and approved.json()["status"] == "approved"
        again = await http.post(decision, json={"decision": "reject"}, headers=staff("ben"))
        assert again.status_code == 409
        file = await http.post("/v1/refunds/file", headers=staff("ben"))
        assert file.status_code == 201, file.text
        listed = await http.get("/v1/refunds", params={"status": "in_file"}, headers=staff("ben"))
    assert b"pain.001.001.09" in file.content and IBAN.encode() in file.content
    assert b"<InstdAmt Ccy=\"EUR\">29.00</InstdAmt>" in file.content
    assert [r["refund_id"] for r in listed.json()["items"]] == [refund["refund_id"]]
    [refunded] = await billing.wait_for(OverpaymentRefunded, invoice["_id"])
    assert (str(refunded.amount.amount), refunded.credit.is_zero) == ("29.00", True)
    doc = await invoice_of(billing, invoice["contract_id"])
    assert doc is not None and (doc["credit"], doc["holds_credit"], doc["status"]) == (
        "0.00", False, "paid")
