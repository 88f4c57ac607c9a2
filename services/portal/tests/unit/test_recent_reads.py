"""A person's summary pages reuse what they read a moment ago, until they send a command; every
call to a service carries the page's trace."""

from __future__ import annotations

import asyncio
import json as json_module
import time
from typing import Any

from portal.services import Answer, Reader, RecentReads, Services, Upload, _query
from portal.settings import PortalSettings


class Person:
    """A signed-in person as the portal sees them at each page: their session and how many
    commands they had sent (what the sessions collection keeps)."""

    def __init__(self, reads: RecentReads, session: str = "session-1") -> None:
        self.reads = reads
        self.session = session
        self.changes = 0

    async def changed(self) -> None:
        self.changes += 1

    def services(self, clients: Billing) -> Services:
        reader = Reader(self.reads, self.session, self.changes, self.changed)
        return Services(PortalSettings(SMART_SERVICE="portal"), clients, "token",
                        reader=reader)


class Billing:
    """Services that answer every read with a new invoice number, and note what was asked."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        self.headers: list[dict[str, str]] = []

    async def request(self, service: str, method: str, path: str, *,
                      query: list[tuple[str, str]], json: Any,
                      headers: dict[str, str], files: dict[str, Upload] | None) -> Answer:
        self.asked.append(f"{method} {path}")
        self.headers.append(headers)
        if method == "GET":
            body = {"items": [{"number": f"BE-2026-{len(self.asked):06}"}]}
            return Answer(200, "OK", {}, json_module.dumps(body).encode())
        return Answer(201, "Created", {}, b'{"ok": true}')


def billing_counting_calls() -> tuple[Billing, list[str]]:
    billing = Billing()
    return billing, billing.asked


async def test_the_dashboard_read_again_within_seconds_asks_the_service_once() -> None:
    clients, asked = billing_counting_calls()
    person = Person(RecentReads(seconds=5))
    first = await person.services(clients).items("billing", "/v1/invoices", recent=True)
    again = await person.services(clients).items("billing", "/v1/invoices", recent=True)
    assert again == first
    assert asked == ["GET /v1/invoices"]


async def test_after_the_persons_own_command_the_next_page_reads_afresh() -> None:
    clients, asked = billing_counting_calls()
    person = Person(RecentReads(seconds=5))
    before = await person.services(clients).items("billing", "/v1/invoices", recent=True)
    await person.services(clients).post("contracts", "/v1/contracts", {"draft": True})
    after = await person.services(clients).items("billing", "/v1/invoices", recent=True)
    assert after != before
    assert asked == ["GET /v1/invoices", "POST /v1/contracts", "GET /v1/invoices"]


async def test_a_read_sent_as_a_post_is_no_change() -> None:
    clients, asked = billing_counting_calls()
    person = Person(RecentReads(seconds=5))
    await person.services(clients).items("billing", "/v1/invoices", recent=True)
    await person.services(clients).post("payroll", "/v1/simulations", {}, changes=False)
    await person.services(clients).items("billing", "/v1/invoices", recent=True)
    assert person.changes == 0
    assert asked == ["GET /v1/invoices", "POST /v1/simulations"]


async def test_what_others_changed_shows_once_the_seconds_are_over() -> None:
    clients, asked = billing_counting_calls()
    person = Person(RecentReads(seconds=0.05))
    await person.services(clients).items("billing", "/v1/invoices", recent=True)
    await asyncio.sleep(0.1)
    await person.services(clients).items("billing", "/v1/invoices", recent=True)
    assert asked == ["GET /v1/invoices", "GET /v1/invoices"]


async def test_two_sessions_never_see_each_others_reads() -> None:
    clients, asked = billing_counting_calls()
    reads = RecentReads(seconds=5)
    await Person(reads, "session-1").services(clients).items("billing", "/v1/invoices",
                                                             recent=True)
    await Person(reads, "session-2").services(clients).items("billing", "/v1/invoices",
                                                             recent=True)
    assert asked == ["GET /v1/invoices", "GET /v1/invoices"]


async def test_a_page_that_acts_always_reads_afresh() -> None:
    clients, asked = billing_counting_calls()
    person = Person(RecentReads(seconds=5))
    await person.services(clients).items("billing", "/v1/invoices", recent=True)
    await person.services(clients).items("billing", "/v1/invoices")
    assert asked == ["GET /v1/invoices", "GET /v1/invoices"]


def test_no_seconds_keeps_nothing() -> None:
    reads = RecentReads(seconds=0)
    reads.keep(("session-1", 0, "billing", "/v1/invoices", ()), {"items": []})
    assert reads.get(("session-1", 0, "billing", "/v1/invoices", ())) is None


def test_the_oldest_reads_make_room_for_new_ones() -> None:
    reads = RecentReads(seconds=5, size=2)
    for n in range(3):
        reads.keep(("session", n), n + 1)
    assert [reads.get(("session", n)) for n in range(3)] == [None, 2, 3]


def test_reads_that_are_over_are_forgotten_when_new_ones_come() -> None:
    reads = RecentReads(seconds=0.05)
    reads.keep(("session-1", 0), 1)
    time.sleep(0.1)
    reads.keep(("session-2", 0), 2)
    assert len(reads) == 1


async def test_a_call_carries_the_pages_trace_to_the_service() -> None:
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider

    clients, _ = billing_counting_calls()
    tracer = TracerProvider().get_tracer("portal-test")
    with tracer.start_as_current_span("GET /dashboard") as page:
        await Person(RecentReads(seconds=0)).services(clients).items("billing", "/v1/invoices")
    sent = clients.headers[0]
    assert sent["Authorization"] == "Bearer token"
    trace_id = format(page.get_span_context().trace_id, "032x")
    assert sent["traceparent"].split("-")[1] == trace_id
    assert trace.get_current_span() is not page


def test_query_parameters_are_sent_as_the_services_read_them() -> None:
    assert _query({"status": "open", "limit": 100, "mine": True, "overdue": False,
                   "member_id": None, "kind": ["pdf", "xml"]}) == [
        ("status", "open"), ("limit", "100"), ("mine", "true"), ("overdue", "false"),
        ("kind", "pdf"), ("kind", "xml")]
