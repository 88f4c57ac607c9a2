"""Contracts through the running service, against the genuine Kafka and MongoDB."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio
from contracts.app import create_service
from contracts.domain import terms_digest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from smart_shared.auth import mint_token
from smart_shared.events import (
    CONTRACTS_TOPIC,
    Activity,
    ContractCancelled,
    ContractSigned,
    EmploymentDeclared,
    Envelope,
    Event,
    MemberActivated,
    MemberErased,
    MemberUpdated,
    PayoutDetails,
    WorkCompleted,
)
from smart_shared.events.catalogue import Language, MemberContact
from smart_shared.events.envelope import read_envelope
from smart_shared.ids import new_id
from smart_shared.service import Service
from smart_shared.settings import Settings
from smart_testing import EventWire, eventually, isolated_settings, serving

pytestmark = pytest.mark.integration

MUSICIAN = Activity(name="musician", kind="artistic", joint_committee="304")
PAYOUT = PayoutDetails(iban="BE68539007547034", holder_name="Test Member")


@dataclass
class Platform:
    service: Service
    url: str
    settings: Settings
    wire: EventWire

    @property
    def today(self) -> date:
        assert self.service.platform is not None
        return self.service.platform.clock.today()

    @property
    def db(self) -> Any:
        assert self.service.platform is not None
        return self.service.platform.db

    def http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url)

    def member_token(self, member_id: str) -> dict[str, str]:
        token = mint_token(self.settings, "member", "BE", member_id=member_id)
        return {"Authorization": f"Bearer {token}"}

    def staff_token(self, branch: str = "BE") -> dict[str, str]:
        return {"Authorization": f"Bearer {mint_token(self.settings, 'staff', branch)}"}

    async def send(self, event: Event) -> None:
        await self.wire.send(event)

    async def active_member(self, activities: list[Activity] | None = None) -> str:
        member_id = new_id()
        await self.send(MemberActivated(branch="BE", version=2, occurred_at=datetime.now(UTC),
                                        member_id=member_id, activities=activities or [MUSICIAN],
                                        payout=PAYOUT))
        await eventually(lambda: self.db["members"].find_one({"_id": member_id}))
        return member_id

    async def member_named(self, name: str, language: Language) -> str:
        """An active member whose contact (name, language) members published to this service."""
        member_id = await self.active_member()
        await self.send(MemberUpdated(
            branch="BE", version=3, occurred_at=datetime.now(UTC), member_id=member_id,
            status="active", activities=[MUSICIAN], payout=PAYOUT, changed=["contact"],
            contact=MemberContact(name=name, email="member@example.org", language=language)))
        await eventually(lambda: self.db["members"].find_one(
            {"_id": member_id, "contact.name": name}))
        return member_id

    async def suspend(self, member_id: str) -> None:
        """The members service suspends the member; wait until this service knows it."""
        await self.send(MemberUpdated(branch="BE", version=3, occurred_at=datetime.now(UTC),
                                      member_id=member_id, status="suspended",
                                      activities=[MUSICIAN], payout=PAYOUT, changed=["status"]))
        await eventually(lambda: self.db["members"].find_one(
            {"_id": member_id, "status": "suspended"}))

    def events(self, contract_id: str, kind: type[Event] | None = None) -> list[Event]:
        return [event for event in self.wire.events(kind) if event.aggregate_id == contract_id]

    async def published(self, contract_id: str, kind: type[Event]) -> list[Event]:
        """Wait until the service published an event of ``kind`` about the contract."""
        return await self.wire.wait_for(kind, where=lambda e: e.aggregate_id == contract_id)

    def envelopes(self, contract_id: str) -> list[Envelope]:
        return [read_envelope(headers) for headers, event in self.wire.published
                if event.aggregate_id == contract_id]

    async def tick(self) -> None:
        assert self.service.platform is not None and self.service.platform.scheduler is not None
        await self.service.platform.scheduler.tick()

    async def advance(self, delta: timedelta) -> None:
        assert self.service.platform is not None
        await self.service.platform.clock.advance(delta)  # type: ignore[attr-defined]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def platform(infrastructure: Any) -> AsyncIterator[Platform]:
    settings = isolated_settings("contracts", SMART_BRANCHES="BE")
    service = create_service(settings)
    async with serving(service.app) as url, EventWire(settings, CONTRACTS_TOPIC) as wire:
        yield Platform(service, url, settings, wire)
    assert service.platform is not None
    with contextlib.suppress(Exception):
        await service.platform.database.client.drop_database(settings.database_name)


def new_contract(member_id: str | None, first_day: date, days: int = 2,
                 **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "activity": "musician",
        "client": {
            "name": "Acme SA", "kind": "business", "country": "BE", "email": "ap@acme.be",
            "address": {"street": "Rue Haute 1", "postal_code": "1000", "city": "Bruxelles",
                        "country": "BE"},
            "vat_number": "BE 0403.170.701", "language": "fr",
        },
        "description": "Two concerts",
        "work_days": [(first_day + timedelta(days=i)).isoformat() for i in range(days)],
        "amount_excl_vat": {"amount": "1000.00", "currency": "EUR"},
        "expenses": {"amount": "50.00", "currency": "EUR"},
    }
    if member_id:
        body["member_id"] = member_id
    body.update(changes)
    return body


async def draft(world: Platform, http: httpx.AsyncClient, headers: dict[str, str],
                days_ahead: int) -> str:
    """A draft contract by the member of ``headers``, starting ``days_ahead`` days from today."""
    created = await http.post(
        "/v1/contracts", json=new_contract(None, world.today + timedelta(days=days_ahead)),
        headers=headers)
    return str(created.json()["contract_id"])


async def signed_contract(world: Platform, http: httpx.AsyncClient, member_id: str,
                          first_day: date, days: int = 2) -> str:
    headers = world.member_token(member_id)
    created = await http.post("/v1/contracts", json=new_contract(None, first_day, days),
                              headers=headers)
    assert created.status_code == 201, created.text
    contract_id = str(created.json()["contract_id"])
    submitted = await http.post(f"/v1/contracts/{contract_id}/submit", headers=headers)
    assert submitted.status_code == 200, submitted.text
    signed = await http.post(submitted.json()["signing_path"])
    assert signed.status_code == 200, signed.text
    assert signed.json()["status"] == "signed"
    return contract_id


async def settle() -> None:
    """Give the relay time to publish anything it still might (to prove nothing more comes)."""
    await asyncio.sleep(1.5)


async def test_a_client_signature_publishes_contract_signed_once_and_the_link_works_once(
    platform: Platform,
) -> None:
    member_id = await platform.active_member()
    headers = platform.member_token(member_id)
    first_day = platform.today + timedelta(days=10)
    async with platform.http() as http:
        created = await http.post("/v1/contracts", json=new_contract(None, first_day),
                                  headers=headers)
        assert created.status_code == 201, created.text
        contract = created.json()
        assert contract["status"] == "draft"
        assert contract["client"]["client_key"] == "BE0403170701"
        assert contract["payment_term_days"] == 30
        contract_id = contract["contract_id"]

        submitted = await http.post(f"/v1/contracts/{contract_id}/submit", headers=headers)
        assert submitted.status_code == 200, submitted.text
        token = submitted.json()["signing_token"]
        stored = await platform.db["contracts"].find_one({"_id": contract_id})
        assert token not in str(stored)

        signed = await http.post(f"/v1/contracts/sign/{token}")
        assert signed.status_code == 200, signed.text
        assert signed.json()["status"] == "signed"

        again = await http.post(f"/v1/contracts/sign/{token}")
        assert again.status_code == 410
        assert again.headers["content-type"].startswith("application/problem+json")

        shown = (await http.get(f"/v1/contracts/{contract_id}", headers=headers)).json()
        assert shown["status"] in ("signed", "declared")
        assert shown["client_signature"]["ip"] == "127.0.0.1"
        assert "signing" not in shown and "token_hash" not in str(shown)

    await platform.published(contract_id, ContractSigned)
    await settle()
    [event] = platform.events(contract_id, ContractSigned)
    assert isinstance(event, ContractSigned)
    assert event.version == 1 and event.branch == "BE"
    assert event.first_work_day == first_day
    assert event.amount_excl_vat.amount == 1000 and event.expenses.amount == 50
    assert event.client.vat_number == "BE0403170701"
    assert event.activity == MUSICIAN
    assert event.work_nature == "other"  # the default, when the member says nothing


async def test_the_nature_of_the_work_is_kept_shown_and_carried_by_contract_signed(
    platform: Platform,
) -> None:
    member_id = await platform.active_member()
    headers = platform.member_token(member_id)
    body = new_contract(None, platform.today + timedelta(days=10),
                        work_nature="performance_for_organiser")
    async with platform.http() as http:
        created = await http.post("/v1/contracts", json=body, headers=headers)
        assert created.status_code == 201, created.text
        contract_id = created.json()["contract_id"]
        assert created.json()["work_nature"] == "performance_for_organiser"
        submitted = await http.post(f"/v1/contracts/{contract_id}/submit", headers=headers)
        terms = (await http.get(submitted.json()["signing_path"])).json()
        signed = await http.post(submitted.json()["signing_path"])
        assert signed.status_code == 200, signed.text
    assert "performance_for_organiser" in str(terms)
    await platform.published(contract_id, ContractSigned)
    [event] = platform.events(contract_id, ContractSigned)
    assert isinstance(event, ContractSigned)
    assert event.work_nature == "performance_for_organiser"


async def test_the_signing_page_names_the_member_who_does_the_work(platform: Platform) -> None:
    member_id = await platform.member_named("Lena Claes", "nl")
    headers = platform.member_token(member_id)
    async with platform.http() as http:
        contract_id = await draft(platform, http, headers, days_ahead=12)
        submitted = (await http.post(f"/v1/contracts/{contract_id}/submit",
                                     headers=headers)).json()
        shown = (await http.get(submitted["signing_path"])).json()
    assert shown["member_name"] == "Lena Claes"
    assert shown["terms"]["member_id"] == member_id  # the terms signed keep the id


async def test_the_signing_link_shows_the_terms_without_using_itself_and_keeps_the_evidence(
    platform: Platform,
) -> None:
    member_id = await platform.active_member()
    headers = platform.member_token(member_id)
    async with platform.http() as http:
        contract_id = await draft(platform, http, headers, days_ahead=12)
        submitted = (await http.post(f"/v1/contracts/{contract_id}/submit",
                                     headers=headers)).json()
        path = submitted["signing_path"]
        shown = await http.get(path)
        assert shown.status_code == 200, shown.text
        assert (await http.get(path)).json() == shown.json()  # showing does not use the link
        terms = shown.json()
        assert terms["terms"]["client"]["name"] == "Acme SA"
        assert terms["terms"]["amount_excl_vat"] == {"amount": "1000.00", "currency": "EUR"}
        assert terms["terms_sha256"] == terms_digest(terms["terms"])

        other_terms = await http.post(path, json={"signer_name": "Ann Peeters",
                                                  "terms_sha256": "0" * 64})
        assert other_terms.status_code == 409
        assert other_terms.json()["errors"][0]["field"] == "terms_sha256"

        signed = await http.post(path, headers={"User-Agent": "ignored"}, json={
            "signer_name": "Ann Peeters", "terms_sha256": terms["terms_sha256"],
            "signer_address": "192.0.2.7", "user_agent": "Firefox/140"})
        assert signed.status_code == 200, signed.text
        assert (await http.get(path)).status_code == 410
        contract = (await http.get(f"/v1/contracts/{contract_id}", headers=headers)).json()
    signature = contract["client_signature"]
    assert (signature["signer_name"], signature["ip"], signature["user_agent"],
            signature["terms_sha256"]) == ("Ann Peeters", "192.0.2.7", "Firefox/140",
                                           terms["terms_sha256"])


async def test_a_signature_with_bad_evidence_is_a_400_naming_the_field(platform: Platform,
                                                                       ) -> None:
    async with platform.http() as http:
        response = await http.post("/v1/contracts/sign/" + "x" * 43,
                                   json={"signer_name": "", "terms_sha256": "zz"})
    assert response.status_code == 400
    fields = {error["field"] for error in response.json()["errors"]}
    assert {"signer_name", "terms_sha256"} <= {f.split(".")[-1] for f in fields}


async def test_an_unknown_token_is_refused(platform: Platform) -> None:
    async with platform.http() as http:
        response = await http.post("/v1/contracts/sign/" + "x" * 43)
    assert response.status_code == 404
    assert response.json()["type"].endswith("signing-link-unknown")


async def test_an_expired_signing_link_is_refused(platform: Platform) -> None:
    member_id = await platform.active_member()
    headers = platform.member_token(member_id)
    async with platform.http() as http:
        contract_id = await draft(platform, http, headers, days_ahead=40)
        submitted = await http.post(f"/v1/contracts/{contract_id}/submit", headers=headers)
        await platform.advance(timedelta(days=14, minutes=1))
        response = await http.post(submitted.json()["signing_path"])
        assert response.status_code == 410
        assert response.json()["type"].endswith("signing-link-expired")
        shown = (await http.get(f"/v1/contracts/{contract_id}", headers=headers)).json()
    assert shown["status"] == "submitted"
    assert platform.events(contract_id) == []


async def test_contracts_of_an_inactive_or_unknown_member_are_refused(platform: Platform) -> None:
    member_id = await platform.active_member()
    await platform.suspend(member_id)
    # an older activation arriving late changes nothing
    await platform.send(MemberActivated(branch="BE", version=2, occurred_at=datetime.now(UTC),
                                        member_id=member_id, activities=[MUSICIAN],
                                        payout=PAYOUT))
    await settle()
    async with platform.http() as http:
        refused = await http.post(
            "/v1/contracts", json=new_contract(None, platform.today + timedelta(days=5)),
            headers=platform.member_token(member_id))
        unknown = await http.post(
            "/v1/contracts", json=new_contract(None, platform.today + timedelta(days=5)),
            headers=platform.member_token(new_id()))
    assert refused.status_code == 409, refused.text
    assert refused.json()["type"].endswith("member-not-active")
    assert unknown.status_code == 409
    assert await platform.db["contracts"].count_documents({"member_id": member_id}) == 0


async def test_an_erased_member_cannot_contract_and_their_drafts_are_cancelled(
    platform: Platform,
) -> None:
    member_id = await platform.active_member()
    headers = platform.member_token(member_id)
    async with platform.http() as http:
        contract_id = await draft(platform, http, headers, days_ahead=5)
        await platform.send(MemberErased(branch="BE", version=3, occurred_at=datetime.now(UTC),
                                         member_id=member_id))
        await platform.published(contract_id, ContractCancelled)
        shown = (await http.get(f"/v1/contracts/{contract_id}", headers=headers)).json()
        refused = await http.post(
            "/v1/contracts", json=new_contract(None, platform.today + timedelta(days=5)),
            headers=headers)
    assert shown["status"] == "cancelled"
    assert shown["cancel_reason"] == "member erased"
    assert refused.status_code == 409
    member = await platform.db["members"].find_one({"_id": member_id})
    assert member["status"] == "erased" and member["activities"] == []


BAD_INPUTS = [
    ({"client": {"name": "Acme", "kind": "business", "country": "BE", "email": "ap@acme.be",
                 "address": {"street": "R 1", "postal_code": "1000", "city": "Bxl",
                             "country": "BE"}, "vat_number": "BE0403170702"}},
     "vat_number"),
    ({"amount_excl_vat": {"amount": "0.00", "currency": "EUR"}}, "amount_excl_vat"),
    ({"amount_excl_vat": 1000.5}, "amount_excl_vat"),
    ({"expenses": {"amount": "1000.00", "currency": "EUR"}}, "expenses"),
    ({"expenses": {"amount": "-1.00", "currency": "EUR"}}, "expenses"),
    ({"activity": "plumber"}, "activity"),
    ({"payment_term_days": 61}, "payment_term_days"),
    ({"work_nature": "sculpture"}, "work_nature"),
    ({"work_days": []}, "work_days"),
    ({"unexpected": "field"}, "unexpected"),
]


@pytest.mark.parametrize(("change", "field_name"), BAD_INPUTS)
async def test_bad_input_is_a_400_problem_naming_the_field_and_stores_nothing(
    platform: Platform, change: dict[str, Any], field_name: str,
) -> None:
    member_id = await platform.active_member()
    body = new_contract(None, platform.today + timedelta(days=5), **change)
    async with platform.http() as http:
        response = await http.post("/v1/contracts", json=body,
                                   headers=platform.member_token(member_id))
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    fields = [error["field"] for error in response.json()["errors"]]
    assert any(field_name in name for name in fields), fields
    assert await platform.db["contracts"].count_documents({"member_id": member_id}) == 0


async def test_work_days_in_the_past_twice_or_beyond_two_years_are_refused_naming_work_days(
    platform: Platform,
) -> None:
    member_id = await platform.active_member()
    today = platform.today
    async with platform.http() as http:
        for days in ([today.isoformat()], [(today + timedelta(days=3)).isoformat()] * 2,
                     [(today + timedelta(days=1)).isoformat(), "2999-01-01"]):
            body = new_contract(None, today, work_days=days)
            response = await http.post("/v1/contracts", json=body,
                                       headers=platform.member_token(member_id))
            assert response.status_code == 400, response.text
            assert response.json()["errors"][0]["field"] == "work_days"
    assert await platform.db["contracts"].count_documents({"member_id": member_id}) == 0


async def test_a_member_cannot_see_another_members_contract(platform: Platform) -> None:
    owner = await platform.active_member()
    other = await platform.active_member()
    async with platform.http() as http:
        created = await http.post(
            "/v1/contracts", json=new_contract(None, platform.today + timedelta(days=5)),
            headers=platform.member_token(owner))
        contract_id = created.json()["contract_id"]
        peek = await http.get(f"/v1/contracts/{contract_id}", headers=platform.member_token(other))
        listing = await http.get("/v1/contracts", headers=platform.member_token(other))
        filtered = await http.get("/v1/contracts", params={"member_id": owner},
                                  headers=platform.member_token(other))
        cancel = await http.post(f"/v1/contracts/{contract_id}/cancel",
                                 headers=platform.member_token(other))
        staff = await http.get("/v1/contracts", params={"member_id": owner},
                               headers=platform.staff_token())
        foreign_staff = await http.get(f"/v1/contracts/{contract_id}",
                                       headers=platform.staff_token("FR"))
        anonymous = await http.get(f"/v1/contracts/{contract_id}")
    assert peek.status_code == 404
    assert listing.status_code == 200 and listing.json()["items"] == []
    assert filtered.status_code == 403
    assert cancel.status_code == 404
    assert [c["contract_id"] for c in staff.json()["items"]] == [contract_id], staff.text
    assert foreign_staff.status_code == 404
    assert anonymous.status_code == 401


async def test_the_list_is_paginated_with_a_cursor(platform: Platform) -> None:
    member_id = await platform.active_member()
    headers = platform.member_token(member_id)
    async with platform.http() as http:
        for _ in range(3):
            await http.post("/v1/contracts",
                            json=new_contract(None, platform.today + timedelta(days=5)),
                            headers=headers)
        first = (await http.get("/v1/contracts", params={"limit": 2}, headers=headers)).json()
        second = (await http.get("/v1/contracts", params={"limit": 2, "cursor":
                                                          first["next_cursor"]},
                                 headers=headers)).json()
    assert len(first["items"]) == 2 and len(second["items"]) == 1
    assert second["next_cursor"] is None


async def test_the_list_reads_newest_first_page_by_page_and_refuses_another_order(
    platform: Platform,
) -> None:
    member_id = await platform.active_member()
    headers = platform.member_token(member_id)
    async with platform.http() as http:
        made = [(await http.post("/v1/contracts",
                                 json=new_contract(None, platform.today + timedelta(days=5)),
                                 headers=headers)).json()["contract_id"] for _ in range(3)]
        newest = {"limit": 2, "order": "newest"}
        first = (await http.get("/v1/contracts", params=newest, headers=headers)).json()
        second = (await http.get("/v1/contracts", params={**newest, "cursor":
                                                          first["next_cursor"]},
                                 headers=headers)).json()
        oldest = (await http.get("/v1/contracts", headers=headers)).json()
        odd = await http.get("/v1/contracts", params={"order": "random"}, headers=headers)
    assert [c["contract_id"] for c in first["items"] + second["items"]] == made[::-1]
    assert second["next_cursor"] is None
    assert [c["contract_id"] for c in oldest["items"]] == made
    assert odd.status_code == 400 and "order" in odd.text


async def test_cancelling_before_the_start_cancels_the_declaration_and_after_is_refused(
    platform: Platform,
) -> None:
    member_id = await platform.active_member()
    headers = platform.member_token(member_id)
    async with platform.http() as http:
        early = await signed_contract(platform, http, member_id, platform.today + timedelta(days=5))
        late = await signed_contract(platform, http, member_id, platform.today + timedelta(days=3))
        await platform.tick()
        await platform.published(early, EmploymentDeclared)
        await platform.published(late, EmploymentDeclared)

        cancelled = await http.post(f"/v1/contracts/{early}/cancel",
                                    json={"reason": "client withdrew"}, headers=headers)
        assert cancelled.status_code == 200, cancelled.text
        assert cancelled.json()["status"] == "cancelled"
        assert cancelled.json()["declaration"]["cancel_pending"] is False
        gateway = platform.service.platform.extras["gateway"]  # type: ignore[union-attr]
        assert await gateway.status_of(early) == "cancelled"

        await platform.advance(timedelta(days=3))
        refused = await http.post(f"/v1/contracts/{late}/cancel", headers=headers)
        assert refused.status_code == 409
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["status_now"] == "declared"

    await platform.published(early, ContractCancelled)
    await settle()
    [event] = platform.events(early, ContractCancelled)
    assert event.version == 3 and isinstance(event, ContractCancelled)
    assert event.reason == "client withdrew"
    assert platform.events(late, ContractCancelled) == []


async def test_declaration_retries_after_a_gateway_failure_then_work_completes_in_one_trace(
    platform: Platform,
) -> None:
    member_id = await platform.active_member()
    staff = platform.staff_token()
    async with platform.http() as http:
        switched = await http.put("/v1/declaration-gateway-simulator", json={"failing": True},
                                  headers=staff)
        assert switched.status_code == 200, switched.text
        try:
            contract_id = await signed_contract(platform, http, member_id,
                                                platform.today + timedelta(days=1), days=3)
            await platform.tick()
            stored = await platform.db["contracts"].find_one({"_id": contract_id})
            assert stored["status"] == "signed"
            assert stored["declaration"]["attempts"] >= 1
            late = (await http.get("/v1/contracts/late-declarations", headers=staff)).json()
            assert contract_id in [c["contract_id"] for c in late["items"]]
            member_view = await http.get("/v1/contracts/late-declarations",
                                         headers=platform.member_token(member_id))
            assert member_view.status_code == 403
        finally:
            await http.put("/v1/declaration-gateway-simulator", json={"failing": False},
                           headers=staff)
        await platform.advance(timedelta(minutes=2))
        await platform.tick()
        await platform.published(contract_id, EmploymentDeclared)
        late = (await http.get("/v1/contracts/late-declarations", headers=staff)).json()
        assert contract_id not in [c["contract_id"] for c in late["items"]]

        await platform.tick()
        assert platform.events(contract_id, WorkCompleted) == []
        await platform.advance(timedelta(days=4))
        await platform.tick()
        await platform.tick()
        await platform.published(contract_id, WorkCompleted)
        shown = (await http.get(f"/v1/contracts/{contract_id}", headers=staff)).json()
    await settle()
    kinds = [type(event).__name__ for event in platform.events(contract_id)]
    assert kinds == ["ContractSigned", "EmploymentDeclared", "WorkCompleted"]
    assert [event.version for event in platform.events(contract_id)] == [1, 2, 3]
    assert shown["status"] == "completed"
    assert shown["declaration"]["reference"].startswith("SIM-BE-")
    trace_ids = {env.traceparent.split("-")[1] for env in platform.envelopes(contract_id)
                 if env.traceparent}
    assert len(trace_ids) == 1, "one trace from the client's signature to WorkCompleted"
    assert all(env.traceparent for env in platform.envelopes(contract_id))


async def test_one_branchs_staff_switch_the_gateway_simulator_for_their_branch_only(
    platform: Platform,
) -> None:
    member_id = await platform.active_member()
    be_staff, fr_staff = platform.staff_token("BE"), platform.staff_token("FR")
    async with platform.http() as http:
        switched = await http.put("/v1/declaration-gateway-simulator", json={"failing": True},
                                  headers=fr_staff)
        assert switched.status_code == 200, switched.text
        try:
            seen_by_fr = await http.get("/v1/declaration-gateway-simulator", headers=fr_staff)
            seen_by_be = await http.get("/v1/declaration-gateway-simulator", headers=be_staff)
            assert seen_by_fr.json() == {"failing": True}
            assert seen_by_be.json() == {"failing": False}
            contract_id = await signed_contract(platform, http, member_id,
                                                platform.today + timedelta(days=1), days=2)
            await platform.tick()
            await platform.published(contract_id, EmploymentDeclared)
        finally:
            await http.put("/v1/declaration-gateway-simulator", json={"failing": False},
                           headers=fr_staff)


async def test_work_completes_exactly_once_with_two_replicas(
    platform: Platform, infrastructure: Any,
) -> None:
    second = create_service(platform.settings.model_copy())
    member_id = await platform.active_member()
    async with serving(second.app), platform.http() as http:
        contract_id = await signed_contract(platform, http, member_id,
                                            platform.today + timedelta(days=2))
        await platform.tick()
        await platform.published(contract_id, EmploymentDeclared)
        await platform.advance(timedelta(days=5))
        assert second.platform is not None and second.platform.scheduler is not None
        await second.platform.clock.refresh()
        await asyncio.gather(platform.tick(), second.platform.scheduler.tick(),
                             platform.tick(), second.platform.scheduler.tick())
        await platform.published(contract_id, WorkCompleted)
        await settle()
    assert len(platform.events(contract_id, WorkCompleted)) == 1


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(("httpx", "httpcore")):
            return  # the test's own HTTP client plays the client's browser, not the service
        self.lines.append(record.getMessage() + repr(record.args))


async def test_the_signing_token_is_never_logged_nor_traced_and_the_trace_starts_at_signing(
    platform: Platform,
) -> None:
    provider = trace.get_tracer_provider()
    assert isinstance(provider, TracerProvider)
    spans = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    logs = _Lines()
    logging.getLogger().addHandler(logs)
    try:
        member_id = await platform.active_member()
        headers = platform.member_token(member_id)
        async with platform.http() as http:
            contract_id = await draft(platform, http, headers, days_ahead=9)
            submitted = await http.post(f"/v1/contracts/{contract_id}/submit", headers=headers)
            token = submitted.json()["signing_token"]
            assert (await http.post(f"/v1/contracts/sign/{token}")).status_code == 200
            assert (await http.post(f"/v1/contracts/sign/{token}")).status_code == 410
        await platform.published(contract_id, ContractSigned)
    finally:
        logging.getLogger().removeHandler(logs)
    finished = spans.get_finished_spans()
    sign_spans = [s for s in finished if s.name.startswith("POST /v1/contracts/sign")]
    assert sign_spans, [s.name for s in finished]
    for span in finished:
        assert token not in span.name
        assert all(token not in str(value) for value in (span.attributes or {}).values())
    assert [line for line in logs.lines if token in line] == []
    # the scheduler may already have declared the employment: look at the signature's event
    [envelope] = [e for e in platform.envelopes(contract_id) if e.type == ContractSigned.ce_type()]
    assert envelope.traceparent is not None
    trace_id = envelope.traceparent.split("-")[1]
    assert trace_id in {format(s.context.trace_id, "032x") for s in sign_spans}


async def test_staff_draft_for_a_member_of_their_branch_only(platform: Platform) -> None:
    member_id = await platform.active_member()
    body = new_contract(member_id, platform.today + timedelta(days=6))
    async with platform.http() as http:
        missing = await http.post("/v1/contracts", json=new_contract(None, platform.today),
                                  headers=platform.staff_token())
        other_branch = await http.post("/v1/contracts", json=body,
                                       headers=platform.staff_token("FR"))
        created = await http.post("/v1/contracts", json=body, headers=platform.staff_token())
    assert missing.status_code == 400 and missing.json()["errors"][0]["field"] == "member_id"
    assert other_branch.status_code == 403
    assert created.status_code == 201 and created.json()["member_id"] == member_id


async def test_a_member_suspended_before_the_signature_leaves_the_contract_unvalidated(
    platform: Platform,
) -> None:
    member_id = await platform.active_member()
    headers = platform.member_token(member_id)
    async with platform.http() as http:
        contract_id = await draft(platform, http, headers, days_ahead=8)
        submitted = await http.post(f"/v1/contracts/{contract_id}/submit", headers=headers)
        await platform.suspend(member_id)
        signed = await http.post(submitted.json()["signing_path"])
    assert signed.status_code == 200
    assert signed.json()["status"] == "signed_by_client"
    assert signed.json()["validation_refused"] == "the member is not active"
    await settle()
    assert platform.events(contract_id) == []


async def test_a_declaration_cancel_waits_for_the_gateway_and_is_retried(
    platform: Platform,
) -> None:
    member_id = await platform.active_member()
    staff = platform.staff_token()
    async with platform.http() as http:
        contract_id = await signed_contract(platform, http, member_id,
                                            platform.today + timedelta(days=6))
        await platform.tick()
        await platform.published(contract_id, EmploymentDeclared)
        await http.put("/v1/declaration-gateway-simulator", json={"failing": True}, headers=staff)
        try:
            cancelled = await http.post(f"/v1/contracts/{contract_id}/cancel", headers=staff)
            assert cancelled.status_code == 200, cancelled.text
            assert cancelled.json()["declaration"]["cancel_pending"] is True
        finally:
            await http.put("/v1/declaration-gateway-simulator", json={"failing": False},
                           headers=staff)
        await platform.tick()
        stored = await platform.db["contracts"].find_one({"_id": contract_id})
    assert stored["declaration"]["cancel_pending"] is False
    gateway = platform.service.platform.extras["gateway"]  # type: ignore[union-attr]
    assert await gateway.status_of(contract_id) == "cancelled"


async def test_the_openapi_document_lists_the_contract_endpoints(platform: Platform) -> None:
    async with platform.http() as http:
        response = await http.get("/schema/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {"/v1/contracts", "/v1/contracts/sign/{token}", "/v1/contracts/{contract_id}/cancel",
            "/v1/contracts/late-declarations"} <= set(paths)
