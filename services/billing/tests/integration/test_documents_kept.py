import hashlib

import pytest
from smart_shared.events.catalogue import CreditNoteIssued, InvoicePaid
from smart_shared.ids import new_id

from .conftest import Billing, an_invoice
from .test_payments import payment

pytestmark = pytest.mark.integration


async def test_an_invoice_pdf_is_kept_when_first_needed_and_served_unchanged_after_payment(
    billing: Billing,
) -> None:
    invoice = await an_invoice(billing)
    async with billing.client() as http:
        before = await http.get(f"/v1/invoices/{invoice['_id']}/pdf")
        kept = await billing.db["issued_documents"].find_one({"_id": f"invoice:{invoice['_id']}"})
        assert kept is not None and kept["media_type"] == "application/pdf"
        assert kept["sha256"] == hashlib.sha256(kept["content"]).hexdigest()
        booked = await http.post("/v1/payments", json=payment("1210.00",
                                                              invoice_id=invoice["_id"]),
                                 headers={"Idempotency-Key": new_id()})
        assert booked.status_code == 201, booked.text
        await billing.wait_for(InvoicePaid, invoice["_id"])
        after = await http.get(f"/v1/invoices/{invoice['_id']}.pdf")
    assert before.status_code == after.status_code == 200
    assert before.content == after.content == bytes(kept["content"])
    assert after.headers["etag"] == f'"{kept["sha256"]}"'


async def test_a_credit_note_has_its_pdf_kept_and_its_ubl_served(billing: Billing) -> None:
    invoice = await an_invoice(billing)
    async with billing.client() as http:
        credited = await http.post(f"/v1/invoices/{invoice['_id']}/credit-notes",
                                   json={"reason": "Concert cancelled"},
                                   headers={"Idempotency-Key": new_id()})
        assert credited.status_code == 201, credited.text
        credit_note_id = credited.json()["credit_note_id"]
        await billing.wait_for(CreditNoteIssued, invoice["_id"])
        pdf = await http.get(f"/v1/invoices/{invoice['_id']}/credit-notes/{credit_note_id}/pdf")
        ubl = await http.get(f"/v1/invoices/{invoice['_id']}/credit-notes/{credit_note_id}/ubl")
        unknown = await http.get(f"/v1/invoices/{invoice['_id']}/credit-notes/nope/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    assert ubl.status_code == 200 and b"<cbc:CreditNoteTypeCode>381<" in ubl.content
    assert unknown.status_code == 404
