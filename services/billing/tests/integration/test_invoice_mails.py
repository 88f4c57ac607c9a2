"""The client gets the invoice by e-mail with its PDF and UBL attached, and a receipt when it is
paid, in their language (read back from a genuine Mailpit)."""

from __future__ import annotations

import asyncio
import re
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from smart_shared.events.catalogue import Address, Client
from smart_shared.ids import new_id
from smart_shared.links import capability_ident
from smart_shared.mail import MAILS
from smart_testing import Mailpit, eventually, isolated_settings, unique_name

from .conftest import Billing, contract_signed, invoice_of, running_billing, today, work_completed

pytestmark = pytest.mark.integration

UBL = "{urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2}"


STAFF = f"{unique_name('staff')}-{{branch}}@smart.test"


@pytest.fixture(scope="module")
async def billing(infrastructure: Any, mailpit: Mailpit) -> AsyncIterator[Billing]:
    settings = isolated_settings("billing", SMART_STAFF_MAILBOX=STAFF, **mailpit.settings())
    async with running_billing(settings) as running:
        yield running


def a_client(email: str) -> Client:
    return Client(client_key="BE0417497106", name="Atelier Lumière SA", kind="business",
                  country="BE", email=email, vat_number="BE0417497106", language="nl",
                  address=Address(street="Wetstraat 16", postal_code="1000", city="Brussel",
                                  country="BE"))


async def test_the_issued_invoice_reaches_the_client_once_with_its_pdf_and_ubl(
    billing: Billing, mailpit: Mailpit,
) -> None:
    email = f"{unique_name('accounts')}@lumiere.example"
    contract_id = new_id()
    await billing.send(contract_signed(contract_id, client=a_client(email)))
    await billing.send(work_completed(contract_id))
    invoice = await eventually(lambda: invoice_of(billing, contract_id))

    [summary] = await mailpit.wait_for(email)
    mail = await mailpit.message(summary["ID"])
    assert mail["Subject"] == f"Factuur {invoice['number']} van SMart"
    assert invoice["structured_reference"] in mail["Text"]
    assert "€\xa01.210,00" in mail["Text"]
    # the link to the invoice's page, made when sent: the outbox never held its token
    [link] = re.findall(r"https?://\S+/invoice/(\S+)", mail["Text"])
    assert capability_ident("invoice", link, billing.settings.link_secret) == invoice["_id"]
    assert billing.service.platform is not None
    kept = await billing.service.platform.db[MAILS].find_one(
        {"_id": f"invoice-issued:{invoice['_id']}"})
    assert kept is not None and link not in str(kept)
    files = {a["FileName"]: a for a in mail["Attachments"]}
    assert set(files) == {f"{invoice['number']}.pdf", f"{invoice['number']}.xml"}
    pdf = await mailpit.attachment(summary["ID"], files[f"{invoice['number']}.pdf"]["PartID"])
    async with billing.client() as http:
        served = await http.get(f"/v1/invoices/{invoice['_id']}/pdf")
    # the invoice's own PDF (only its creation time may differ from one rendering to the next)
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert len(pdf) == len(served.content)
    ubl = ET.fromstring(await mailpit.attachment(summary["ID"],
                                                 files[f"{invoice['number']}.xml"]["PartID"]))
    assert ubl.findtext(f"{UBL}ID") == invoice["number"]

    await billing.send(work_completed(contract_id))  # a redelivery mails nothing more
    async with billing.client() as http:
        paid = await http.post("/v1/payments", headers={"Idempotency-Key": new_id()}, json={
            "amount": {"amount": invoice["total"], "currency": "EUR"},
            "received_on": today().isoformat(), "invoice_id": invoice["_id"],
            "payer_iban": "BE71096123456769"})
        assert paid.status_code == 201, paid.text
    receipts = await mailpit.wait_for(email, subject="Ontvangstbewijs")
    assert len(receipts) == 1
    assert len(await mailpit.messages(email)) == 2


async def test_the_branch_staff_get_one_digest_a_day_of_the_payments_waiting_for_them(
    billing: Billing, mailpit: Mailpit,
) -> None:
    async with billing.client() as http:
        parked = await http.post("/v1/payments", headers={"Idempotency-Key": new_id()}, json={
            "amount": {"amount": "42.00", "currency": "EUR"},
            "received_on": today().isoformat(), "payer_iban": "BE71096123456769",
            "structured_reference": "+++000/0000/00097+++"})
        assert parked.json()["outcome"] == "unmatched"
    platform = billing.service.platform
    assert platform is not None and platform.scheduler is not None
    await platform.clock.advance(timedelta(days=1))  # type: ignore[attr-defined]
    await platform.scheduler.tick()
    await platform.scheduler.tick()  # the same day again: no second digest

    staff = STAFF.format(branch="be")
    [digest] = await mailpit.wait_for(staff)
    mail = await mailpit.message(digest["ID"])
    assert mail["Subject"].startswith("SMart billing : ce qui vous attend le")
    assert "- 1 paiements reçus qui ne correspondent à aucune facture" in mail["Text"]
    await asyncio.sleep(1.5)
    assert len(await mailpit.messages(staff)) == 1
