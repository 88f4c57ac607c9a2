"""Belgian business clients receive their invoices and credit notes through Peppol (the labelled
access-point simulator here), with each delivery's status on the invoice; the others by e-mail."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from typing import Any

import pytest
from billing.access_point_simulator import SimulatedAccessPoint
from billing.einvoicing import deliver_einvoices
from smart_shared.events.catalogue import InvoiceDelivered, InvoiceDeliveryRejected
from smart_shared.ids import new_id
from smart_testing import eventually, isolated_settings

from .conftest import (
    Billing,
    a_client,
    contract_signed,
    invoice_of,
    running_billing,
    work_completed,
)

pytestmark = pytest.mark.integration

CBC = "{urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2}"
NOT_ON_PEPPOL = "BE0999999922"  # a valid Belgian VAT number the simulator's directory lacks


@pytest.fixture(scope="module")
async def billing(infrastructure: Any) -> AsyncIterator[Billing]:
    settings = isolated_settings("billing", SMART_EINVOICE_RETRY_SECONDS=0.2,
                                 SMART_SCHEDULER_INTERVAL=0.2)
    async with running_billing(settings) as running:
        yield running


def simulator(billing: Billing) -> SimulatedAccessPoint:
    assert billing.service.platform is not None
    access_point = billing.service.platform.extras["access_point"]
    assert isinstance(access_point, SimulatedAccessPoint)
    return access_point


async def issue(billing: Billing, vat_number: str | None = "BE0417497106", kind: str = "business",
                country: str = "BE") -> dict[str, Any]:
    contract_id = new_id()
    client = a_client(kind, country, vat_number)
    await billing.send(contract_signed(contract_id, client=client))
    await billing.send(work_completed(contract_id))
    return await eventually(lambda: invoice_of(billing, contract_id))  # type: ignore[no-any-return]


async def delivery_shown(billing: Billing, invoice_id: str, status: str) -> dict[str, Any]:
    """The invoice as the API shows it, once its delivery reached ``status``."""
    async def shown() -> dict[str, Any] | None:
        async with billing.client() as http:
            answer = await http.get(f"/v1/invoices/{invoice_id}")
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body if body["delivery"]["status"] == status else None

    return await eventually(shown, timeout=30)  # type: ignore[no-any-return]


async def attempted(billing: Billing, contract_id: str, times: int) -> dict[str, Any] | None:
    """The contract's invoice once the access point failed to take it ``times`` times."""
    doc = await invoice_of(billing, contract_id)
    return doc if doc and doc["delivery"]["attempts"] >= times else None


async def set_outage(billing: Billing, failing: bool) -> None:
    async with billing.client() as http:
        answer = await http.put("/v1/peppol-simulator", json={"failing": failing})
    assert answer.status_code == 200, answer.text


async def test_a_belgian_business_invoice_is_delivered_through_peppol_and_mailed_as_a_copy(
    billing: Billing,
) -> None:
    invoice = await issue(billing)
    shown = await delivery_shown(billing, invoice["_id"], "delivered")
    delivery = shown["delivery"]
    assert delivery["channel"] == "peppol" and delivery["receiver"] == "9925:BE0417497106"
    assert delivery["transmission_id"].startswith("SIM-")
    assert delivery["sent_at"] and delivery["delivered_at"] and delivery["reason"] is None
    [event] = await billing.wait_for(InvoiceDelivered, invoice["_id"])
    assert (event.document, event.document_id, event.number) == (
        "invoice", invoice["_id"], invoice["number"])
    assert event.transmission_id == delivery["transmission_id"]
    assert event.version == 2  # InvoiceIssued was 1
    sent = await simulator(billing).transmissions_of(f"invoice:{invoice['_id']}")
    assert sent is not None and sent["receiver"] == "9925:BE0417497106"
    ubl = ET.fromstring(sent["ubl"])
    assert ubl.findtext(f"{CBC}ID") == invoice["number"]
    # the client's accounts get the e-invoice; the person who pays still gets the mail
    assert await billing.db["mail_outbox"].find_one({"_id": f"invoice-issued:{invoice['_id']}"})


async def test_a_client_peppol_does_not_know_is_rejected_with_the_reason_and_keeps_the_mail(
    billing: Billing,
) -> None:
    invoice = await issue(billing, NOT_ON_PEPPOL)
    shown = await delivery_shown(billing, invoice["_id"], "rejected")
    assert "is not registered on Peppol" in shown["delivery"]["reason"]
    assert shown["delivery"]["rejected_at"]
    [event] = await billing.wait_for(InvoiceDeliveryRejected, invoice["_id"])
    assert event.reason == shown["delivery"]["reason"]
    assert event.receiver == f"9925:{NOT_ON_PEPPOL}"
    assert await billing.db["mail_outbox"].find_one({"_id": f"invoice-issued:{invoice['_id']}"})
    assert await simulator(billing).transmissions_of(f"invoice:{invoice['_id']}") is None


async def test_an_access_point_outage_is_retried_with_backoff_then_the_invoice_is_delivered(
    billing: Billing,
) -> None:
    await set_outage(billing, True)
    try:
        invoice = await issue(billing)

        waiting = (await eventually(lambda: attempted(billing, invoice["contract_id"], 2),
                                    timeout=30))["delivery"]
        assert waiting["status"] == "queued"
        assert "outage" in waiting["last_error"]
    finally:
        await set_outage(billing, False)
    shown = await delivery_shown(billing, invoice["_id"], "delivered")
    assert shown["delivery"]["attempts"] >= 2
    sent = await simulator(billing).transmissions_of(f"invoice:{invoice['_id']}")
    assert sent is not None and sent["sends"] == 1


async def test_an_invoice_is_never_delivered_twice_whatever_runs_at_once(
    billing: Billing,
) -> None:
    await set_outage(billing, True)
    try:
        invoice = await issue(billing)
        await billing.send(work_completed(invoice["contract_id"]))  # a redelivered completion
        await eventually(lambda: attempted(billing, invoice["contract_id"], 1), timeout=30)
        # due again at once, so that the scheduler and three runs of the job race for it
        await billing.db["invoices"].update_one(
            {"_id": invoice["_id"]}, {"$set": {"delivery.next_attempt_at": invoice["created_at"]}})
    finally:
        await set_outage(billing, False)
    platform = billing.service.platform
    assert platform is not None
    await asyncio.gather(*(deliver_einvoices(platform) for _ in range(3)))
    await delivery_shown(billing, invoice["_id"], "delivered")
    await asyncio.sleep(1.5)  # what a second delivery would need to show
    assert len(billing.of(InvoiceDelivered, invoice["_id"])) == 1
    sent = await simulator(billing).transmissions_of(f"invoice:{invoice['_id']}")
    assert sent is not None and sent["sends"] == 1
    assert await billing.db["invoices"].count_documents(
        {"contract_id": invoice["contract_id"]}) == 1


async def test_a_credit_note_of_a_peppol_invoice_goes_through_peppol_too(
    billing: Billing,
) -> None:
    invoice = await issue(billing)
    await delivery_shown(billing, invoice["_id"], "delivered")
    async with billing.client() as http:
        answer = await http.post(f"/v1/invoices/{invoice['_id']}/credit-notes",
                                 headers={"Idempotency-Key": new_id()},
                                 json={"reason": "Concert shortened by the organiser",
                                       "amount": {"amount": "121.00", "currency": "EUR"}})
    assert answer.status_code == 201, answer.text
    credit_note = answer.json()
    assert credit_note["delivery"]["status"] == "queued"
    delivered = await billing.wait_for(InvoiceDelivered, invoice["_id"], count=2)
    [event] = [e for e in delivered if e.document == "credit_note"]
    assert (event.document, event.document_id, event.number) == (
        "credit_note", credit_note["credit_note_id"], credit_note["number"])
    shown = await delivery_shown(billing, invoice["_id"], "delivered")
    [listed] = shown["credit_notes"]
    assert listed["delivery"]["status"] == "delivered"
    sent = await simulator(billing).transmissions_of(
        f"credit_note:{credit_note['credit_note_id']}")
    assert sent is not None and ET.fromstring(sent["ubl"]).tag.endswith("CreditNote")


@pytest.mark.parametrize(("kind", "country", "vat_number"), [
    ("consumer", "BE", None), ("business", "DE", "DE136695976")])
async def test_consumers_and_foreign_clients_get_their_invoice_by_mail_only(
    billing: Billing, kind: str, country: str, vat_number: str | None,
) -> None:
    invoice = await issue(billing, vat_number, kind, country)
    assert invoice["delivery"] == {"channel": "email"}
    assert await billing.db["mail_outbox"].find_one({"_id": f"invoice-issued:{invoice['_id']}"})
    async with billing.client() as http:
        shown = (await http.get(f"/v1/invoices/{invoice['_id']}")).json()
    assert shown["delivery"]["channel"] == "email" and shown["delivery"]["status"] is None
