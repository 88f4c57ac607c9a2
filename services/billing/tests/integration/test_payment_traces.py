"""A payment starts a trace of its own, linked to the contract's: months of payments never grow
the trace of the contract's completion."""

from __future__ import annotations

from typing import Any

import pytest
from sample_statements import entry, statement
from smart_shared.events.catalogue import PaymentReceived
from smart_shared.ids import new_id
from smart_testing import links_to, recorded_spans, trace_id_of

from .conftest import Billing, an_invoice

pytestmark = pytest.mark.integration


def the_payment_span(spans: Any, invoice_id: str) -> Any:
    [span] = [s for s in spans.get_finished_spans() if s.name == "book payment"
              and (s.attributes or {}).get("invoice_id") == invoice_id]
    return span


async def test_a_payment_by_the_api_starts_its_own_trace_linked_to_the_contracts(
    billing: Billing,
) -> None:
    invoice = await an_invoice(billing, "100.00")
    with recorded_spans() as spans:
        async with billing.client() as http:
            paid = await http.post("/v1/payments", headers={"Idempotency-Key": new_id()}, json={
                "amount": {"amount": "50.00", "currency": "EUR"},
                "received_on": invoice["issue_date"], "invoice_id": invoice["_id"],
                "payer_iban": "BE71096123456769"})
        assert paid.status_code == 201, paid.text
        [event] = await billing.wait_for(PaymentReceived, invoice["_id"])
        span = the_payment_span(spans, invoice["_id"])
    assert span.parent is None
    assert span.context.trace_id != trace_id_of(invoice["traceparent"])
    assert links_to(span, invoice["traceparent"])
    assert trace_id_of(billing.headers_of(event)["traceparent"]) == span.context.trace_id


async def test_a_bank_statement_line_starts_its_own_trace_linked_to_the_contracts(
    billing: Billing,
) -> None:
    invoice = await an_invoice(billing, "100.00")
    content = statement(new_id()[:30], [entry(new_id()[:30], invoice["total"],
                                              invoice["structured_reference"],
                                              booked=invoice["issue_date"])])
    with recorded_spans() as spans:
        async with billing.client() as http:
            answer = await http.post("/v1/bank-statements", content=content)
        assert answer.status_code == 201, answer.text
        span = the_payment_span(spans, invoice["_id"])
    assert span.parent is None
    assert span.context.trace_id != trace_id_of(invoice["traceparent"])
    assert links_to(span, invoice["traceparent"])
