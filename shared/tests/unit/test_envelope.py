import json
from datetime import UTC, date, datetime

import pytest
from smart_shared.events import (
    BY_CE_TYPE,
    EVENT_TYPES,
    MalformedEvent,
    UnknownEventType,
    decode,
    encode,
    header_map,
)
from smart_shared.events.catalogue import InvoicePaid, MemberErased, WorkCompleted
from smart_shared.events.schema import event_schemas
from smart_shared.ids import new_id, uuid7
from smart_shared.money import Money

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def invoice_paid() -> InvoicePaid:
    return InvoicePaid(
        branch="BE", version=3, occurred_at=NOW, invoice_id="inv-1", contract_id="c-1",
        member_id="m-1", amount_excl_vat=Money(amount="1000.00"), total=Money(amount="1210.00"),
        paid_on=date(2026, 3, 2),
    )


def test_an_event_travels_in_cloudevents_binary_mode() -> None:
    event = invoice_paid()
    traceparent = "00-" + "a" * 32 + "-" + "b" * 16 + "-01"
    key, value, headers = encode(event, "0190-id", traceparent=traceparent)
    h = header_map(headers)
    assert key == b"inv-1"
    assert h["ce_specversion"] == "1.0"
    assert h["ce_type"] == "coop.smart.billing.InvoicePaid.v1"
    assert h["ce_source"] == "/smart/BE/billing"
    assert h["ce_subject"] == "inv-1"
    assert h["content-type"] == "application/json"
    assert h["traceparent"].startswith("00-aaaa")
    body = json.loads(value)
    assert body["total"] == {"amount": "1210.00", "currency": "EUR"}
    assert body["branch"] == "BE" and body["version"] == 3
    envelope, decoded = decode(h, value)
    assert decoded == event and envelope.id == "0190-id"


def test_a_message_without_cloudevents_headers_is_malformed() -> None:
    _, value, headers = encode(invoice_paid(), "x")
    h = header_map(headers)
    del h["ce_type"]
    with pytest.raises(MalformedEvent, match="ce_type"):
        decode(h, value)


def test_malformed_json_is_malformed() -> None:
    _, _, headers = encode(invoice_paid(), "x")
    with pytest.raises(MalformedEvent, match="invalid"):
        decode(header_map(headers), b"{not json")


def test_a_known_type_with_an_invalid_body_is_malformed() -> None:
    _, value, headers = encode(invoice_paid(), "x")
    body = json.loads(value)
    body["total"] = {"amount": 1210.0, "currency": "EUR"}
    with pytest.raises(MalformedEvent):
        decode(header_map(headers), json.dumps(body).encode())


def test_an_unknown_type_is_skipped_not_malformed() -> None:
    _, value, headers = encode(invoice_paid(), "x")
    h = header_map(headers)
    h["ce_type"] = "coop.smart.billing.InvoicePaid.v2"
    with pytest.raises(UnknownEventType):
        decode(h, value)


def test_subject_must_match_the_aggregate() -> None:
    _, value, headers = encode(invoice_paid(), "x")
    h = header_map(headers)
    h["ce_subject"] = "inv-2"
    with pytest.raises(MalformedEvent, match="ce_subject"):
        decode(h, value)


def test_consumers_tolerate_fields_they_do_not_know() -> None:
    _, value, headers = encode(invoice_paid(), "x")
    body = json.loads(value)
    body["a_field_added_later"] = "x"
    _, event = decode(header_map(headers), json.dumps(body).encode())
    assert isinstance(event, InvoicePaid)


def test_every_event_has_a_topic_key_docstring_and_schema() -> None:
    schemas = event_schemas()
    assert len(EVENT_TYPES) == len(BY_CE_TYPE) == len(schemas) == 42
    for event in EVENT_TYPES:
        assert event.__doc__ and event.topic.startswith("smart.")
        schema = schemas[event.ce_type()]
        required = set(schema["required"])
        assert {"branch", "version", "occurred_at", event.aggregate_field} <= required


def test_keys_follow_the_aggregate_of_each_stream() -> None:
    completed = WorkCompleted(branch="FR", version=4, occurred_at=NOW, contract_id="c-9",
                              member_id="m-1", last_work_day=date(2026, 3, 1), completed_at=NOW)
    assert encode(completed, new_id())[0] == b"c-9"
    erased = MemberErased(branch="BE", version=2, occurred_at=NOW, member_id="m-7")
    assert encode(erased, new_id())[0] == b"m-7"


def test_uuid7_is_time_ordered_and_versioned() -> None:
    ids = [uuid7() for _ in range(50)]
    assert all(u.version == 7 for u in ids)
    assert [u.int >> 80 for u in ids] == sorted(u.int >> 80 for u in ids)
