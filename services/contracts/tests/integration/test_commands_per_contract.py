"""MongoDB round trips: the scheduler's steps cost the same few commands whatever the batch."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest
import pytest_asyncio
from contracts.bodies import NewContract
from contracts.cancellation import CancelContract, cancel_before_start
from contracts.domain import Contract
from contracts.domain.signing import SigningLink
from contracts.drafting import DraftContract, SubmitContract, draft_contract, submit_contract
from contracts.gateway_simulator import DECLARATIONS, SimulatedSocialSecurityGateway
from contracts.jobs import complete_work, declare_employments
from contracts.signing import SignByClient, sign_by_client
from contracts.store import CONTRACTS, MEMBERS, contract_document, contract_from, create_indexes
from smart_shared.auth import Principal
from smart_shared.clock import FixedClock
from smart_shared.events import Activity
from smart_shared.ids import new_id
from smart_shared.mongo import OUTBOX, Database, connect
from smart_shared.service import Platform
from smart_testing import CommandCounter, isolated_settings

pytestmark = pytest.mark.integration

CONTRACTS_PER_BATCH = 50
MUSICIAN = Activity(name="musician", kind="artistic", joint_committee="304")


@dataclass
class Counted:
    platform: Platform
    counter: CommandCounter
    clock: FixedClock
    gateway: SimulatedSocialSecurityGateway


@pytest_asyncio.fixture(loop_scope="session")
async def counted(infrastructure: Any) -> AsyncIterator[Counted]:
    settings = isolated_settings("contracts", SMART_BRANCHES="BE")
    counter = CommandCounter()
    client = connect(infrastructure.mongodb_uri, event_listeners=[counter])
    # whole seconds: the stored times (milliseconds) then equal the domain's exactly
    clock = FixedClock(datetime.now(UTC).replace(microsecond=0))
    database = Database(client, settings.database_name, clock)
    await database.ensure_platform_indexes()
    await create_indexes(database.db)
    gateway = SimulatedSocialSecurityGateway(database.db)
    # the scheduler's jobs need no broker nor relay: the outbox rows are what they publish
    platform = Platform(settings, database, clock, None, None)  # type: ignore[arg-type]
    platform.extras["gateway"] = gateway
    try:
        yield Counted(platform, counter, clock, gateway)
    finally:
        with contextlib.suppress(Exception):
            await client.drop_database(settings.database_name)
        await client.close()


async def an_active_member(world: Counted) -> str:
    member_id = new_id()
    await world.platform.db[MEMBERS].insert_one({
        "_id": member_id, "member_id": member_id, "branch": "BE", "status": "active",
        "activities": [MUSICIAN.model_dump(mode="json")], "version": 2,
    })
    return member_id


def a_contract(first_day: str) -> NewContract:
    return NewContract.model_validate({
        "activity": "musician",
        "client": {
            "name": "Acme SA", "kind": "business", "country": "BE", "email": "ap@acme.be",
            "address": {"street": "Rue Haute 1", "postal_code": "1000", "city": "Bruxelles",
                        "country": "BE"},
            "vat_number": "BE 0403.170.701", "language": "fr",
        },
        "description": "One concert",
        "work_days": [first_day],
        "amount_excl_vat": {"amount": "1000.00", "currency": "EUR"},
        "expenses": {"amount": "50.00", "currency": "EUR"},
    })


async def draft(world: Counted, principal: Principal, body: NewContract) -> Contract:
    return await draft_contract(world.platform, DraftContract(principal, body))


async def submit(world: Counted, principal: Principal,
                 contract_id: str) -> tuple[Contract, SigningLink]:
    command = SubmitContract(principal, contract_id, world.platform.settings.portal_url)
    return await world.platform.database.transaction(partial(submit_contract, command=command))


async def sign(world: Counted, token: str, ip: str) -> Contract:
    return await world.platform.database.transaction(
        partial(sign_by_client, command=SignByClient(token, ip)))


async def stored_contracts(world: Counted) -> list[Any]:
    return await world.platform.db[CONTRACTS].find().sort("_id", 1).to_list(None)


async def assert_stored_as(world: Counted, contracts: list[Contract]) -> None:
    """Each stored contract is the domain's contract, field for field and in the same order."""
    stored = await stored_contracts(world)
    expected = sorted(({"_id": c.contract_id, **contract_document(c)} for c in contracts),
                      key=lambda doc: doc["_id"])
    assert [list(doc.items()) for doc in stored] == [list(doc.items()) for doc in expected]


async def test_each_request_and_each_batch_of_scheduled_steps_costs_a_fixed_number_of_commands(
    counted: Counted,
) -> None:
    world, counter = counted, counted.counter
    member_id = await an_active_member(world)
    principal = Principal(sub=member_id, role="member", branch="BE", member_id=member_id)
    first_day = (world.clock.today() + timedelta(days=5)).isoformat()
    per_request: dict[str, set[int]] = {"create": set(), "submit": set(), "sign": set()}
    signed_contracts: list[Contract] = []
    for _ in range(CONTRACTS_PER_BATCH):
        counter.reset()
        contract = await draft(world, principal, a_contract(first_day))
        per_request["create"].add(counter.total)
        counter.reset()
        _, link = await submit(world, principal, contract.contract_id)
        per_request["submit"].add(counter.total)
        counter.reset()
        signed = await sign(world, link.token, "192.0.2.1")
        per_request["sign"].add(counter.total)
        assert signed.status.value == "signed"
        signed_contracts.append(signed)
    # submitting also writes the client's signing-link mail, in one transaction with the step
    assert per_request == {"create": {2}, "submit": {4}, "sign": {4}}, per_request
    await assert_stored_as(world, signed_contracts)
    before = [contract_from(doc) for doc in await stored_contracts(world)]

    counter.reset()
    declared = await declare_employments(world.platform, world.gateway)
    # due contracts, gateway settings and declarations, the steps, outbox, commit, late gauge
    assert counter.total <= 7, counter.by_name
    assert declared == CONTRACTS_PER_BATCH
    assert await world.platform.db[CONTRACTS].count_documents(
        {"status": "declared", "version": 2}) == CONTRACTS_PER_BATCH
    references = {doc["_id"]: doc["reference"]
                  async for doc in world.platform.db[DECLARATIONS].find()}
    for contract in before:
        contract.record_declaration(references[contract.contract_id], world.clock.now())
    await assert_stored_as(world, before)

    world.clock.advance(timedelta(days=6))
    counter.reset()
    completed = await complete_work(world.platform)
    # due contracts, the steps, outbox, commit
    assert counter.total <= 4, counter.by_name
    assert completed == CONTRACTS_PER_BATCH
    assert await world.platform.db[CONTRACTS].count_documents(
        {"status": "completed", "version": 3}) == CONTRACTS_PER_BATCH
    for contract in before:
        contract.complete(world.clock.today(), world.clock.now())
    await assert_stored_as(world, before)
    assert await world.platform.db[OUTBOX].count_documents({}) == 3 * CONTRACTS_PER_BATCH
    assert await world.platform.db[DECLARATIONS].count_documents({}) == CONTRACTS_PER_BATCH


async def signed_contracts_for(world: Counted, count: int, days_ahead: int = 5) -> list[str]:
    member_id = await an_active_member(world)
    principal = Principal(sub=member_id, role="member", branch="BE", member_id=member_id)
    first_day = (world.clock.today() + timedelta(days=days_ahead)).isoformat()
    ids = []
    for _ in range(count):
        contract = await draft(world, principal, a_contract(first_day))
        _, link = await submit(world, principal, contract.contract_id)
        await sign(world, link.token, "192.0.2.1")
        ids.append(contract.contract_id)
    return ids


class CancellingWhileDeclaring:
    """The simulated gateway, while staff cancel one contract during its declaration."""

    def __init__(self, world: Counted, contract_id: str) -> None:
        self.world = world
        self.contract_id = contract_id

    async def declare(self, contract_id: str, member_id: str, branch: str,
                      work_days: list[Any]) -> str:
        return await self.world.gateway.declare(contract_id, member_id, branch, work_days)

    async def declare_all(self, employments: Any) -> dict[str, str]:
        references = await self.world.gateway.declare_all(employments)
        staff = Principal(sub="staff", role="staff", branch="BE")
        await cancel_before_start(self.world.platform,
                                  CancelContract(staff, self.contract_id, "client withdrew"))
        return references

    async def cancel(self, reference: str) -> None:
        await self.world.gateway.cancel(reference)


async def test_a_contract_cancelled_while_the_gateway_declares_has_its_declaration_withdrawn(
    counted: Counted,
) -> None:
    world = counted
    ids = await signed_contracts_for(world, 5)
    cancelled = ids[2]
    declared = await declare_employments(world.platform, CancellingWhileDeclaring(world,
                                                                                  cancelled))
    assert declared == 4
    stored = {doc["_id"]: doc async for doc in world.platform.db[CONTRACTS].find()}
    assert stored[cancelled]["status"] == "cancelled"
    assert stored[cancelled]["declaration"]["reference"] is None
    assert await world.gateway.status_of(cancelled) == "cancelled"
    assert [stored[i]["status"] for i in ids if i != cancelled] == ["declared"] * 4
    rows = await world.platform.db[OUTBOX].find().to_list(None)
    kinds = [(row["aggregate_id"], row["ce_type"].rsplit(".", 2)[-2]) for row in rows]
    assert (cancelled, "EmploymentDeclared") not in kinds, kinds
    assert sorted(i for i, kind in kinds if kind == "EmploymentDeclared") == \
        sorted(i for i in ids if i != cancelled)


async def test_a_gateway_outage_notes_the_attempt_of_the_whole_batch_in_constant_commands(
    counted: Counted,
) -> None:
    world = counted
    ids = await signed_contracts_for(world, CONTRACTS_PER_BATCH)
    await world.gateway.set_failing(True)
    world.counter.reset()
    assert await declare_employments(world.platform, world.gateway) == 0
    # due contracts, gateway settings, the failed attempts, late gauge
    assert world.counter.total <= 4, world.counter.by_name
    stored = await world.platform.db[CONTRACTS].find({"_id": {"$in": ids}}).to_list(None)
    assert {doc["status"] for doc in stored} == {"signed"}
    assert {doc["declaration"]["attempts"] for doc in stored} == {1}
    assert {doc["declaration"]["next_attempt_at"] for doc in stored} == {
        world.clock.now() + timedelta(minutes=1)}

    await world.gateway.set_failing(False)
    assert await declare_employments(world.platform, world.gateway) == 0, "retried later"
    world.clock.advance(timedelta(minutes=2))
    assert await declare_employments(world.platform, world.gateway) == CONTRACTS_PER_BATCH
    stored = await world.platform.db[CONTRACTS].find({"_id": {"$in": ids}}).to_list(None)
    assert {doc["declaration"]["attempts"] for doc in stored} == {2}
    assert {doc["declaration"]["last_error"] for doc in stored} == {None}


async def test_cancelling_a_declared_contract_reads_it_once_and_answers_it_as_stored(
    counted: Counted,
) -> None:
    world, counter = counted, counted.counter
    [contract_id] = await signed_contracts_for(world, 1)
    assert await declare_employments(world.platform, world.gateway) == 1
    staff = Principal(sub="staff", role="staff", branch="BE")
    counter.reset()
    cancelled = await cancel_before_start(world.platform,
                                          CancelContract(staff, contract_id, "client withdrew"))
    # the transaction (read, replace, outbox, commit), the simulated gateway (its settings and
    # the cancellation), and the withdrawal noted, which answers the contract as it stores it
    assert counter.by_name == {"find": 2, "update": 2, "insert": 1, "commitTransaction": 1,
                               "findAndModify": 1}, counter.by_name
    assert cancelled.declaration.cancel_pending is False
    assert cancelled.declaration.cancelled_at is not None
    assert cancelled == contract_from(
        await world.platform.db[CONTRACTS].find_one({"_id": contract_id}))
    assert await world.gateway.status_of(contract_id) == "cancelled"
