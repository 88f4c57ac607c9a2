"""MongoDB collections of contracts: contracts, the members projection, and their indexes."""

from __future__ import annotations

from collections.abc import Sequence

from pymongo import UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from smart_shared.codec import storable
from smart_shared.mongo import Document, UnitOfWork

from contracts.domain import Contract, KnownMember

CONTRACTS = "contracts"
MEMBERS = "members"


def contract_document(contract: Contract) -> Document:
    doc: Document = storable(contract.model_dump())
    doc["_id"] = contract.contract_id
    doc["first_work_day"] = contract.first_work_day.isoformat()
    doc["last_work_day"] = contract.last_work_day.isoformat()
    return doc


def contract_from(doc: Document) -> Contract:
    return Contract.model_validate({k: v for k, v in doc.items() if k != "_id"})


async def load_contract(uow: UnitOfWork, contract_id: str) -> Contract | None:
    doc = await uow.db[CONTRACTS].find_one({"_id": contract_id}, session=uow.session)
    return contract_from(doc) if doc else None


async def insert_contract(db: AsyncDatabase[Document], contract: Contract) -> None:
    await db[CONTRACTS].insert_one(contract_document(contract))


async def save_contract(uow: UnitOfWork, contract: Contract, read_status: str) -> bool:
    """Replace the contract if it still has the status it was read with; False otherwise."""
    result = await uow.db[CONTRACTS].replace_one(
        {"_id": contract.contract_id, "status": read_status},
        contract_document(contract),
        session=uow.session,
    )
    return result.matched_count == 1


_ABSENT = object()


def changed_fields(before: Document, after: Document, prefix: str = "") -> Document:
    """The ``$set`` that turns document ``before`` into ``after``, nested documents field by
    field, so a step sends what it changed rather than the whole contract."""
    changes: Document = {}
    for key, value in after.items():
        old = before.get(key, _ABSENT)
        if isinstance(value, dict) and isinstance(old, dict):
            changes.update(changed_fields(old, value, f"{prefix}{key}."))
        elif old != value:
            changes[f"{prefix}{key}"] = value
    return changes


def _step(read: Document, contract: Contract) -> tuple[Document, Document]:
    changes = changed_fields(read, contract_document(contract)) or {"status": read["status"]}
    return ({"_id": read["_id"], "status": read["status"], "version": read["version"]},
            {"$set": changes})


def step_update(read: Document, contract: Contract) -> UpdateOne:
    """The conditional update of a contract's step: it applies only while the contract still
    has the status and version of ``read``, the document the step started from."""
    return UpdateOne(*_step(read, contract))


async def save_step(db: AsyncDatabase[Document], read: Document, contract: Contract,
                    session: AsyncClientSession | None = None) -> bool:
    """Write a contract's step (see ``step_update``); False if it changed meanwhile."""
    result = await db[CONTRACTS].update_one(*_step(read, contract), session=session)
    return result.matched_count == 1


class ContractsChanged(Exception):
    """Some contracts of a batch changed since they were read."""


async def save_steps(uow: UnitOfWork, steps: Sequence[tuple[Document, Contract]],
                     recheck: bool) -> set[str]:
    """Write a batch's steps with one ``bulk_write``; returns the ids of the contracts written.

    Without ``recheck`` every contract must still be as read, else ``ContractsChanged`` (the
    transaction is then to be run again with ``recheck``: the bulk write cannot say which one
    changed). With ``recheck`` the contracts' status and version are read in the transaction
    first and the changed ones left alone.
    """
    if recheck and steps:
        current = {
            (doc["_id"], doc["status"], doc["version"])
            async for doc in uow.db[CONTRACTS].find(
                {"_id": {"$in": [read["_id"] for read, _ in steps]}},
                {"status": 1, "version": 1}, session=uow.session)
        }
        steps = [(read, contract) for read, contract in steps
                 if (read["_id"], read["status"], read["version"]) in current]
    if not steps:
        return set()
    result = await uow.db[CONTRACTS].bulk_write([step_update(read, contract)
                                                 for read, contract in steps],
                                                ordered=False, session=uow.session)
    if result.matched_count != len(steps):
        raise ContractsChanged
    return {contract.contract_id for _, contract in steps}


async def load_with_member(db: AsyncDatabase[Document], match: Document,
                           session: AsyncClientSession | None = None,
                           ) -> tuple[Document, KnownMember | None] | None:
    """The contract matching ``match`` (as stored) and its member's projection, in one read."""
    cursor = await db[CONTRACTS].aggregate([
        {"$match": match},
        {"$limit": 1},
        {"$lookup": {"from": MEMBERS, "localField": "member_id", "foreignField": "_id",
                     "as": "_member"}},
    ], session=session)
    found = await cursor.to_list(1)
    if not found:
        return None
    doc = found[0]
    members = doc.pop("_member")
    return doc, KnownMember.model_validate(members[0]) if members else None


async def read_member(db: AsyncDatabase[Document], member_id: str) -> KnownMember | None:
    doc = await db[MEMBERS].find_one({"_id": member_id})
    return KnownMember.model_validate(doc) if doc else None


async def load_member(uow: UnitOfWork, member_id: str) -> KnownMember | None:
    doc = await uow.db[MEMBERS].find_one({"_id": member_id}, session=uow.session)
    return KnownMember.model_validate(doc) if doc else None


async def store_member(uow: UnitOfWork, member: KnownMember, replacing: bool) -> None:
    doc = {"_id": member.member_id, **member.model_dump(mode="json")}
    if replacing:
        await uow.db[MEMBERS].replace_one({"_id": member.member_id}, doc, session=uow.session)
    else:
        await uow.db[MEMBERS].insert_one(doc, session=uow.session)


async def create_indexes(db: AsyncDatabase[Document]) -> None:
    """Indexes for the lists, the signing link look-up and the scheduler's due queries."""
    contracts = db[CONTRACTS]
    await contracts.create_index([("branch", 1), ("member_id", 1), ("_id", 1)],
                                 name="by_member")
    await contracts.create_index([("branch", 1), ("status", 1), ("_id", 1)], name="by_status")
    await contracts.create_index(
        "signing.token_hash", name="by_signing_token", unique=True,
        partialFilterExpression={"signing.token_hash": {"$type": "string"}})
    await contracts.create_index([("status", 1), ("declaration.next_attempt_at", 1)],
                                 name="due_declaration")
    await contracts.create_index([("status", 1), ("last_work_day", 1)], name="due_completion")
    await contracts.create_index("declaration.cancel_pending", name="pending_declaration_cancel",
                                 partialFilterExpression={"declaration.cancel_pending": True})
