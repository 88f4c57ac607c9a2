"""The collection service end to end on real Kafka and MongoDB: cases, reminders, payments,
payment plans, write-offs and bad input."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

import httpx
import pytest
from smart_shared.events.catalogue import (
    DebtRecovered,
    DebtWrittenOff,
    InvoicePaid,
    ReminderSent,
)
from smart_shared.links import capability_token
from smart_shared.money import Money
from smart_shared.settings import Settings
from smart_testing import (
    consumed_records,
    eventually,
    links_to,
    recorded_spans,
    trace_id_of,
)

if TYPE_CHECKING:
    from conftest import Collection  # type: ignore[import-not-found]

pytestmark = pytest.mark.integration


async def test_an_overdue_invoice_opens_one_case_even_when_the_event_comes_again(
        collection: Collection) -> None:
    invoice, overdue = collection.overdue()
    event_id = await collection.send(overdue)
    await collection.send(overdue, event_id)   # redelivery of the same event
    await collection.send(overdue)             # the same fact published twice
    case = await collection.opened(invoice.invoice_id)
    later, second = collection.overdue()       # a later event proves the others were consumed
    await collection.send(second)
    await collection.opened(later.invoice_id)
    assert await collection.db["cases"].count_documents({"invoice_id": invoice.invoice_id}) == 1
    assert case["status"] == "open" and case["principal"] == "1000.00"
    assert case["client"] == {"name": "Atelier Lumière", "kind": "business", "language": "fr",
                              "client_key": overdue.client.client_key,
                              "email": "compta@example.be",
                              "address": "Rue Haute 1, 1000 Bruxelles, BE"}
    assert case["next_step_on"] == (invoice.due_date + timedelta(days=7)).isoformat()
    assert case["traceparent"]


async def test_reminders_follow_the_clock_and_a_payment_stops_them(
        collection: Collection) -> None:
    invoice, overdue = collection.overdue(language="fr")
    await collection.send(overdue)
    case = await collection.opened(invoice.invoice_id)
    due = invoice.due_date

    for offset in (6, 7, 8, 20, 21, 35, 36):
        await collection.advance_to(due + timedelta(days=offset))

    sent = await collection.wait_for(invoice.invoice_id, ReminderSent, count=3)
    assert [(r.level, r.sent_on - due) for r in sent] == [
        ("reminder_1", timedelta(days=7)), ("reminder_2", timedelta(days=21)),
        ("formal_notice", timedelta(days=35))]
    assert [r.version for r in sent] == [1, 2, 3]
    notice = sent[2]
    interest = (Decimal("1000") * Decimal("0.105") * 35 / 365).quantize(Decimal("0.01"))
    assert notice.interest == Money(amount=interest)
    assert notice.compensation == Money(amount="40.00")
    assert notice.total_claimed == Money(amount=Decimal("1040.00") + interest)
    assert {r.language for r in sent} == {"fr"}

    # the client pays everything claimed: principal, interest and compensation
    await collection.send(collection.payment(invoice, str(notice.total_claimed.amount), "0.00",
                                             credit=str(notice.total_claimed.amount - 1000)))

    [closed] = await collection.wait_for(invoice.invoice_id, DebtRecovered)
    assert closed.principal == Money(amount="1000.00")
    assert closed.beyond_principal == Money(amount=Decimal("40.00") + interest)
    assert closed.version == 4
    # billing's InvoicePaid comes after: nothing more happens
    invoice.version += 1
    await collection.send(InvoicePaid(
        branch="BE", version=invoice.version, occurred_at=collection.clock.now(),
        invoice_id=invoice.invoice_id, contract_id=invoice.contract_id,
        member_id=invoice.member_id, amount_excl_vat=Money(amount="826.45"),
        total=Money(amount="1000.00"), paid_on=collection.today()))

    for offset in (60, 61, 180, 181):
        await collection.advance_to(due + timedelta(days=offset))
    async with collection.http() as http:
        answer = await http.get(f"/v1/cases/{case['_id']}", headers=collection.headers())
    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] == "recovered" and body["outstanding"]["amount"] == "0.00"
    kinds = [entry["kind"] for entry in body["timeline"]]
    assert kinds == ["opened", "reminder_sent", "reminder_sent", "reminder_sent",
                     "payment_received", "recovered"]
    assert body["timeline"][3]["text"].startswith("Mise en demeure")
    assert "Indemnité: 40,00\xa0€" in body["timeline"][3]["text"]
    assert len(collection.events_of(invoice.invoice_id, ReminderSent)) == 3
    assert len(collection.events_of(invoice.invoice_id, DebtRecovered)) == 1
    # each reminder is a trace of its own, not one more part of the contract's
    reminder_traces = collection.trace_ids_of(invoice.invoice_id, ReminderSent)
    assert len(reminder_traces) == 3
    assert case["traceparent"].split("-")[1] not in reminder_traces


async def test_a_reminder_starts_its_own_trace_linked_to_the_contracts(
        collection: Collection) -> None:
    invoice, overdue = collection.overdue()
    await collection.send(overdue)
    case = await collection.opened(invoice.invoice_id)
    with recorded_spans() as spans:
        await collection.advance_to(invoice.due_date + timedelta(days=7))
        await collection.wait_for(invoice.invoice_id, ReminderSent)
        steps = [s for s in spans.get_finished_spans() if s.name == "collection step"
                 and (s.attributes or {}).get("smart.case_id") == case["_id"]]
    # one reminder, in one trace; a scheduler round that finds the step done has a span too
    [reminder_trace] = collection.trace_ids_of(invoice.invoice_id, ReminderSent)
    [step] = [s for s in steps if format(s.context.trace_id, "032x") == reminder_trace]
    assert step.parent is None
    assert step.context.trace_id != trace_id_of(case["traceparent"])
    assert links_to(step, case["traceparent"])


async def test_a_payment_plan_pauses_the_schedule_and_a_missed_instalment_resumes_it(
        collection: Collection) -> None:
    invoice, overdue = collection.overdue(kind="consumer", language="nl")
    await collection.send(overdue)
    case = await collection.opened(invoice.invoice_id)
    due = invoice.due_date
    await collection.advance_to(due + timedelta(days=7))
    await collection.wait_for(invoice.invoice_id, ReminderSent, count=1)

    first, second = collection.today() + timedelta(days=5), collection.today() + timedelta(days=20)
    async with collection.http() as http:
        answer = await http.post(f"/v1/cases/{case['_id']}/payment-plan",
                                 headers=collection.headers(), json={"instalments": [
                                     {"due_on": first.isoformat(),
                                      "amount": {"amount": "400.00", "currency": "EUR"}},
                                     {"due_on": second.isoformat(),
                                      "amount": {"amount": "600.00", "currency": "EUR"}}]})
    assert answer.status_code == 201, answer.text
    assert answer.json()["status"] == "paused"

    await collection.send(collection.payment(invoice, "400.00", "600.00"))
    await eventually(lambda: _balance(collection, invoice.invoice_id, "600.00"))
    for offset in (22, 25, 27):   # reminder 2 would be due from day 22: paused; 27 is the last
        await collection.advance_to(due + timedelta(days=offset))
    assert (await collection.case_of(invoice.invoice_id))["status"] == "paused"  # type: ignore[index]

    await collection.advance_to(second + timedelta(days=1))   # second instalment missed
    await collection.wait_for(invoice.invoice_id, ReminderSent, count=2)
    reminder = collection.events_of(invoice.invoice_id, ReminderSent)[1]
    assert reminder.level == "reminder_2" and reminder.language == "nl"
    assert reminder.outstanding == Money(amount="600.00")
    assert reminder.compensation == Money(amount="70.00")   # Book XIX on 600: 65 + 5 % of 100
    doc = await collection.case_of(invoice.invoice_id)
    assert doc is not None and doc["status"] == "open" and doc["plan"]["status"] == "missed"
    kinds = [entry["kind"] for entry in doc["timeline"]]
    assert kinds.index("payment_plan") < kinds.index("payment_plan_missed") < len(kinds) - 1
    assert doc["timeline"][-1]["text"].startswith("Tweede betalingsherinnering")


async def test_staff_write_off_publishes_debt_written_off_once(collection: Collection) -> None:
    invoice, overdue = collection.overdue(total="2500.00")
    await collection.send(overdue)
    case = await collection.opened(invoice.invoice_id)
    async with collection.http() as http:
        url = f"/v1/cases/{case['_id']}/write-off"
        as_member = await http.post(url, json={"reason": "Client bankrupt"},
                                    headers=collection.headers("member",
                                                               member_id=invoice.member_id))
        assert as_member.status_code == 403
        answer = await http.post(url, json={"reason": "Client bankrupt"},
                                 headers={**collection.headers(), "Idempotency-Key": "wo-1"})
        assert answer.status_code == 201, answer.text
        again = await http.post(url, json={"reason": "Client bankrupt"},
                                headers={**collection.headers(), "Idempotency-Key": "wo-1"})
        assert again.json() == answer.json()
        twice = await http.post(url, json={"reason": "Client bankrupt"},
                                headers=collection.headers())
        assert twice.status_code == 409
    assert answer.json()["status"] == "written_off"

    [event] = await collection.wait_for(invoice.invoice_id, DebtWrittenOff)
    assert (event.member_id, event.contract_id, event.case_id) == (
        invoice.member_id, invoice.contract_id, case["_id"])
    assert event.amount == Money(amount="2500.00") and event.reason == "Client bankrupt"
    await collection.advance_to(invoice.due_date + timedelta(days=7))
    assert collection.events_of(invoice.invoice_id, ReminderSent) == []
    assert len(collection.events_of(invoice.invoice_id, DebtWrittenOff)) == 1


async def test_the_schedule_writes_the_debt_off_by_itself_after_180_days(
        collection: Collection) -> None:
    invoice, overdue = collection.overdue(days_late=179)   # all earlier steps are overdue too
    await collection.send(overdue)
    await collection.opened(invoice.invoice_id)
    start = collection.today()
    for offset in range(0, 5):
        await collection.advance_to(start + timedelta(days=offset))

    [event] = await collection.wait_for(invoice.invoice_id, DebtWrittenOff)
    levels = [r.level for r in collection.events_of(invoice.invoice_id, ReminderSent)]
    assert levels == ["reminder_1", "reminder_2", "formal_notice", "legal_handover",
                      "write_off_proposed"]
    assert event.version == 6 and event.reason.startswith("Automatic write-off 180 days")


async def test_a_payment_that_arrives_before_the_overdue_event_never_opens_a_case(
        collection: Collection) -> None:
    invoice, overdue = collection.overdue()
    await collection.send(collection.payment(invoice, "1000.00", "0.00", version=3))
    await collection.send(overdue)   # version 2: older than the payment
    marker, marker_overdue = collection.overdue()
    await collection.send(marker_overdue)
    await collection.opened(marker.invoice_id)
    assert await collection.case_of(invoice.invoice_id) is None


async def test_bad_input_is_a_400_naming_the_field_and_changes_nothing(
        collection: Collection) -> None:
    invoice, overdue = collection.overdue()
    reminded_invoice, reminded_overdue = collection.overdue(days_late=7)
    await collection.send(overdue)
    await collection.send(reminded_overdue)
    case = await collection.opened(invoice.invoice_id)
    reminded_case = await collection.opened(reminded_invoice.invoice_id)
    await collection.advance_to(collection.today())
    await collection.wait_for(reminded_invoice.invoice_id, ReminderSent, count=1)
    url = f"/v1/cases/{case['_id']}"
    staff = collection.headers()
    tomorrow = (collection.today() + timedelta(days=1)).isoformat()
    async with collection.http() as http:
        not_adding_up = await http.post(f"{url}/payment-plan", headers=staff, json={
            "instalments": [{"due_on": tomorrow, "amount": {"amount": "10.00"}}]})
        float_amount = await http.post(f"{url}/payment-plan", headers=staff, json={
            "instalments": [{"due_on": tomorrow, "amount": {"amount": 1000.0}}]})
        extra_field = await http.post(f"{url}/write-off", headers=staff,
                                      json={"reason": "gone", "amount": "1"})
        no_reason = await http.post(f"{url}/write-off", headers=staff, json={})
        bad_status = await http.get("/v1/cases?status=lost", headers=staff)
        bad_level = await http.get("/v1/cases?level=final", headers=staff)
        bad_limit = await http.get("/v1/cases?limit=0", headers=staff)
        unknown = await http.get("/v1/cases/nope", headers=staff)
        other_branch = await http.get(url, headers=collection.headers(branch="FR"))
        anonymous = await http.get("/v1/cases")
        listed = await http.get("/v1/cases?status=open&level=none&limit=500", headers=staff)
        reminded = await http.get("/v1/cases?level=reminder_1&limit=500", headers=staff)
        first_page = await http.get("/v1/cases?limit=1", headers=staff)
        cursor = first_page.json()["next_cursor"]
        second_page = await http.get(f"/v1/cases?limit=1&cursor={cursor}", headers=staff)
        bad_cursor = await http.get("/v1/cases?cursor=%%%", headers=staff)

    for answer, field in ((not_adding_up, "instalments"), (float_amount, "amount"),
                          (bad_cursor, "cursor"),
                          (extra_field, "amount"), (no_reason, "reason"),
                          (bad_status, "status"), (bad_level, "level"), (bad_limit, "limit")):
        assert answer.status_code == 400, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert any(field in error["field"] for error in answer.json()["errors"]), answer.json()
    assert (unknown.status_code, other_branch.status_code, anonymous.status_code) == (404, 404, 401)
    assert listed.status_code == 200
    assert case["_id"] in [item["case_id"] for item in listed.json()["items"]]
    assert {item["level"] for item in listed.json()["items"]} == {None}
    assert reminded_case["_id"] not in [item["case_id"] for item in listed.json()["items"]]
    assert {item["level"] for item in reminded.json()["items"]} == {"reminder_1"}
    assert reminded_case["_id"] in [item["case_id"] for item in reminded.json()["items"]]
    assert cursor and first_page.json()["items"] != second_page.json()["items"]
    assert len(second_page.json()["items"]) == 1
    doc = await collection.case_of(invoice.invoice_id)
    assert doc is not None and doc["status"] == "open" and doc["plan"] is None
    assert doc["timeline"] == case["timeline"]


async def test_a_plan_dated_today_out_of_order_or_beyond_three_years_is_refused_naming_the_date(
        collection: Collection) -> None:
    invoice, overdue = collection.overdue()
    await collection.send(overdue)
    case = await collection.opened(invoice.invoice_id)
    today = collection.today()

    def plan(*days: int) -> dict[str, object]:
        return {"instalments": [
            {"due_on": (today + timedelta(days=d)).isoformat(),
             "amount": {"amount": str(Decimal("1000.00") / len(days)), "currency": "EUR"}}
            for d in days]}

    in_1900 = {"instalments": [{"due_on": "1900-01-01",
                                "amount": {"amount": "1000.00", "currency": "EUR"}}]}
    refusals = [("instalments[0].due_on", plan(0, 30)), ("instalments[0].due_on", in_1900),
                ("instalments[1].due_on", plan(30, 10)), ("instalments[1].due_on", plan(30, 1097))]
    async with collection.http() as http:
        answers = [(field, await http.post(f"/v1/cases/{case['_id']}/payment-plan",
                                           headers=collection.headers(), json=body))
                   for field, body in refusals]

    for field, answer in answers:
        assert answer.status_code == 400, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert [e["field"] for e in answer.json()["errors"]] == [field], answer.text
    doc = await collection.case_of(invoice.invoice_id)
    assert doc is not None and doc["status"] == "open" and doc["plan"] is None


async def _balance(collection: Collection, invoice_id: str, balance: str) -> bool:
    doc = await collection.case_of(invoice_id)
    return doc is not None and doc["balance"] == balance


async def test_a_batch_of_payments_costs_the_same_few_commands_whatever_its_size(
        collection: Collection) -> None:
    async with collection.counted_consumer() as counted:
        consumer, counter = counted.consumer, counted.counter
        costs: dict[int, dict[str, int]] = {}
        for size in (5, 50):
            invoices = [collection.overdue()[0] for _ in range(size)]
            events = [collection.payment(invoice, str(invoice.total), "0.00")
                      for invoice in invoices]
            events += [collection.paid(invoice) for invoice in invoices]
            counter.reset()
            assert await consumer.handle_batch(consumed_records(events))
            costs[size] = dict(counter.by_name)
            facts = await collection.db["invoices"].find(
                {"_id": {"$in": [i.invoice_id for i in invoices]}}).to_list()
            assert len(facts) == size
            assert all(f["paid"] and [c["kind"] for c in f["changes"]] == ["payment", "paid"]
                       for f in facts)
    # inbox read, invoices read, cases read, invoices bulk write, inbox insert, commit
    assert costs[5] == costs[50]
    assert sum(costs[50].values()) <= 6, costs[50]


async def test_one_batch_opens_follows_and_closes_a_case_in_billing_order(
        collection: Collection) -> None:
    invoice, overdue = collection.overdue()
    early, early_overdue = collection.overdue()
    records = consumed_records([
        overdue, collection.payment(invoice, "400.00", "600.00"), collection.paid(invoice),
        collection.payment(early, "1000.00", "0.00", version=3), early_overdue,
    ])
    async with collection.counted_consumer() as counted:
        consumer = counted.consumer
        assert await consumer.handle_batch(records)
        assert await consumer.handle_batch(records)   # redelivered: changes nothing
    [recovered] = await collection.wait_for(invoice.invoice_id, DebtRecovered)
    assert (recovered.principal, recovered.beyond_principal, recovered.version) == (
        Money(amount="1000.00"), Money(amount="0.00"), 1)
    case = await collection.case_of(invoice.invoice_id)
    assert case is not None and case["status"] == "recovered" and case["balance"] == "0.00"
    assert case["recovered_principal"] == "1000.00" and case["billing_version"] == 4
    assert [c["kind"] for c in case["balance_changes"]] == ["payment", "paid"]
    assert [e["kind"] for e in case["timeline"]] == [
        "opened", "payment_received", "invoice_paid", "recovered"]
    assert await collection.case_of(early.invoice_id) is None
    facts = await collection.db["invoices"].find_one({"_id": invoice.invoice_id})
    assert facts["paid"] and [c["version"] for c in facts["changes"]] == [3, 4]
    assert len(collection.events_of(invoice.invoice_id, DebtRecovered)) == 1


async def test_a_clients_request_for_a_payment_plan_reaches_the_open_case_for_staff(
        collection: Collection) -> None:
    invoice, overdue = collection.overdue()
    await collection.send(overdue)
    case = await collection.opened(invoice.invoice_id)
    token = capability_token("invoice", invoice.invoice_id, Settings().link_secret)
    async with httpx.AsyncClient(base_url=collection.url, timeout=30) as public:
        asked = await public.post("/v1/payment-plan-requests", json={
            "token": token, "instalments": 3, "message": "Trois mois, s'il vous plaît"})
        assert asked.status_code == 202, asked.text
        assert asked.json() == {"status": "requested", "case_id": case["_id"]}
        forged = await public.post("/v1/payment-plan-requests", json={
            "token": capability_token("invoice", invoice.invoice_id, "another-secret-of-16"),
            "instalments": 3})
        assert forged.status_code == 404
        too_many = await public.post("/v1/payment-plan-requests",
                                     json={"token": token, "instalments": 40})
        assert too_many.status_code == 400
        nothing_open = await public.post("/v1/payment-plan-requests", json={
            "token": capability_token("invoice", "no-case", Settings().link_secret),
            "instalments": 2})
        assert nothing_open.status_code == 409
    async with collection.http() as http:
        shown = (await http.get(f"/v1/cases/{case['_id']}", headers=collection.headers())).json()
    [wish] = [e for e in shown["timeline"] if e["kind"] == "plan_requested"]
    assert wish["detail"] == "Trois mois, s'il vous plaît"
    assert wish["amounts"] == {"instalments": "3"}
