import asyncio
from datetime import timedelta

import pytest
from smart_shared.clock import SharedClock
from smart_shared.events.catalogue import DebtOverdue, InvoiceDelivered, InvoiceIssued
from smart_shared.ids import new_id
from smart_testing import eventually

from .conftest import Billing, contract_signed, invoice_of, work_completed

pytestmark = pytest.mark.integration


async def test_an_unpaid_invoice_is_overdue_once_the_day_after_its_due_date(
    billing: Billing,
) -> None:
    unpaid, paid = new_id(), new_id()
    for contract_id in (unpaid, paid):
        await billing.send(contract_signed(contract_id, term=30))
        await billing.send(work_completed(contract_id))
    invoice = await eventually(lambda: invoice_of(billing, unpaid))
    settled = await eventually(lambda: invoice_of(billing, paid))
    # both went to the client through Peppol too (version 2) before the clock moves
    for issued in (invoice, settled):
        await billing.wait_for(InvoiceDelivered, issued["_id"])
    async with billing.client() as http:
        answer = await http.post("/v1/payments", json={
            "amount": {"amount": settled["total"], "currency": "EUR"},
            "received_on": settled["issue_date"], "payer_iban": "BE71096123456769",
            "invoice_id": settled["_id"]}, headers={"Idempotency-Key": new_id()})
        assert answer.json()["outcome"] == "matched"
    platform = billing.service.platform
    assert platform is not None and platform.scheduler is not None
    clock = platform.clock
    assert isinstance(clock, SharedClock)

    await clock.advance(timedelta(days=30))  # on the due date: not yet overdue
    assert await platform.scheduler.tick() == 0
    await clock.advance(timedelta(days=1))
    assert await platform.scheduler.tick() == 1
    assert await platform.scheduler.tick() == 0

    overdue = await billing.wait_for(DebtOverdue, invoice["_id"])
    await asyncio.sleep(1.5)  # the scheduler's own loop runs too; still only once
    assert len(billing.of(DebtOverdue, invoice["_id"])) == 1
    assert billing.of(DebtOverdue, settled["_id"]) == []
    event = overdue[0]
    assert str(event.outstanding.amount) == "1210.00" and event.number == invoice["number"]
    assert event.client.name == "Atelier Lumière SA" and event.version == 3
    # what was invoiced, which the dunning letters describe
    assert event.description == "; ".join(line["description"] for line in invoice["lines"])
    # the overdue step continues the trace of the invoice's issuance
    issued = billing.of(InvoiceIssued, invoice["_id"])[0]
    trace_of = lambda e: billing.headers_of(e)["traceparent"].split("-")[1]  # noqa: E731
    assert trace_of(event) == trace_of(issued)
