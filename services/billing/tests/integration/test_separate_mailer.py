"""With ``SMART_SEPARATE_MAILER`` billing only writes its mails to the outbox, and its mailer
(``python -m billing mailer``) renders and sends them, documents attached (a genuine Mailpit)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from smart_shared.mail import MAILS
from smart_testing import Mailpit, eventually, isolated_settings, serving, unique_name

from .conftest import Billing, an_invoice, running_billing
from .test_invoice_mails import a_client

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def billing(infrastructure: Any, mailpit: Mailpit) -> AsyncIterator[Billing]:
    settings = isolated_settings("billing", SMART_SEPARATE_MAILER="true", **mailpit.settings())
    async with running_billing(settings) as running:
        yield running


async def test_the_service_leaves_its_mails_to_its_mailer(
    billing: Billing, mailpit: Mailpit,
) -> None:
    email = f"{unique_name('accounts')}@lumiere.example"
    invoice = await an_invoice(billing, client=a_client(email))
    assert billing.service.platform is not None
    mails = billing.service.platform.db[MAILS]
    cause = f"invoice-issued:{invoice['_id']}"
    assert billing.service.platform.mail is None
    await asyncio.sleep(1.0)  # ten idle rounds of an in-process relay (0.1 s)
    row = await mails.find_one({"_id": cause})
    assert row is not None and row["pending"] is True
    assert await mailpit.messages(email) == []

    async with serving(billing.service.mailer_app()) as url:
        [summary] = await mailpit.wait_for(email)
        mail = await mailpit.message(summary["ID"])
        assert mail["Subject"] == f"Factuur {invoice['number']} van SMart"
        assert {a["FileName"] for a in mail["Attachments"]} == {
            f"{invoice['number']}.pdf", f"{invoice['number']}.xml"}
        sent = await eventually(lambda: mails.find_one({"_id": cause, "status": "sent"}))
        assert sent["message_id"] == f"<{mail['MessageID']}>"
        async with httpx.AsyncClient(base_url=url, timeout=10) as http:
            ready = (await http.get("/health/ready")).json()
            metrics = (await http.get("/metrics")).text
    assert ready == {"status": "ready", "checks": {"mongodb": "up", "mail_relay": "relaying"}}
    assert 'smart_lease_held{lease="mail-relay",service="billing"} 1.0' in metrics
