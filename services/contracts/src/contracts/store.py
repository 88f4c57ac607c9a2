"""MongoDB collections of contracts: contracts, the members projection, and their indexes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from pymongo import ReturnDocument, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from smart_shared.codec import storable
from smart_shared.http import Order, find_page
from smart_shared.mongo import Database, Document, UnitOfWork, text_equals

from contracts.domain import Contract, ContractStatus, KnownMember
from contracts.domain.lifecycle import NOT_YET_BINDING

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


def by_signing_token(token_hash: str) -> Document:
    """The match of the contract a signing link (its token's hash) opens."""
    return {"signing.token_hash": text_equals(token_hash)}


async def read_contract(db: AsyncDatabase[Document], contract_id: str) -> Contract | None:
    """A contract read outside a transaction (the API's pages, after a cancellation)."""
    doc = await db[CONTRACTS].find_one({"_id": contract_id})
    return contract_from(doc) if doc else None


async def contract_of_link(db: AsyncDatabase[Document], token_hash: str) -> Contract | None:
    doc = await db[CONTRACTS].find_one(by_signing_token(token_hash))
    return contract_from(doc) if doc else None


async def contracts_page(database: Database, branch: str, member_id: str | None,
                         status: str | None, cursor: str | None,
                         limit: int, order: Order = "oldest") -> tuple[list[Contract], str | None]:
    """A page of the branch's contracts, a member's only when ``member_id`` is given."""
    query: Document = {"branch": branch}
    if member_id is not None:
        query["member_id"] = member_id
    if status is not None:
        query["status"] = status
    docs, next_cursor = await find_page(database, CONTRACTS, query, cursor, limit, order=order)
    return [contract_from(doc) for doc in docs], next_cursor


def _undeclared_near(branch: str, starting_by: date) -> Document:
    return {"branch": branch, "status": ContractStatus.SIGNED.value,
            "first_work_day": {"$lte": starting_by.isoformat()}}


async def late_declarations_page(database: Database, branch: str, starting_by: date,
                                 cursor: str | None,
                                 limit: int) -> tuple[list[Contract], str | None]:
    """A page of the branch's signed contracts still undeclared that start by ``starting_by``."""
    docs, next_cursor = await find_page(database, CONTRACTS, _undeclared_near(branch, starting_by),
                                        cursor, limit)
    return [contract_from(doc) for doc in docs], next_cursor


async def count_late_declarations(uow: UnitOfWork, branch: str, starting_by: date) -> int:
    return await uow.db[CONTRACTS].count_documents(_undeclared_near(branch, starting_by),
                                                   session=uow.session)


async def count_undeclared_near(db: AsyncDatabase[Document],
                                starting_by: dict[str, date]) -> int:
    """Signed contracts still undeclared starting by each branch's day, with one count."""
    if not starting_by:
        return 0
    return await db[CONTRACTS].count_documents({
        "status": ContractStatus.SIGNED.value,
        "$or": [{"branch": branch, "first_work_day": {"$lte": day.isoformat()}}
                for branch, day in starting_by.items()]})


async def unsigned_contracts_of(uow: UnitOfWork, branch: str,
                                member_id: str) -> list[Document]:
    """The member's contracts that SMart has not validated yet, as stored (the member's branch
    leads to them through the ``by_member`` index)."""
    return await uow.db[CONTRACTS].find(
        {"branch": branch, "member_id": member_id,
         "status": {"$in": [s.value for s in NOT_YET_BINDING]}},
        session=uow.session).to_list(None)


async def due_contracts(db: AsyncDatabase[Document], query: Document, order: str,
                        limit: int) -> list[Document]:
    """A tick's due contracts, whole, in one round trip."""
    return await db[CONTRACTS].find(query).sort(order, 1).limit(limit) \
        .batch_size(limit).to_list(limit)


async def contracts_to_declare(db: AsyncDatabase[Document], now: datetime,
                               limit: int) -> list[Document]:
    """Signed contracts whose (next) declaration attempt is due, the earliest start first."""
    return await due_contracts(db, {
        "status": ContractStatus.SIGNED.value,
        "$or": [{"declaration.next_attempt_at": None},
                {"declaration.next_attempt_at": {"$lte": now}}],
    }, "first_work_day", limit)


async def contracts_to_complete(db: AsyncDatabase[Document], today: date,
                                limit: int) -> list[Document]:
    """Declared contracts whose last work day is over."""
    return await due_contracts(db, {"status": ContractStatus.DECLARED.value,
                                    "last_work_day": {"$lt": today.isoformat()}},
                               "last_work_day", limit)


async def record_declaration_failures(db: AsyncDatabase[Document], contract_ids: list[str],
                                      error: str, retry_at: datetime) -> set[str]:
    """Note a failed declaration attempt on each contract still signed, with one bulk write
    (no event, so no transaction); the ids of those still signed."""
    result = await db[CONTRACTS].bulk_write([
        UpdateOne({"_id": contract_id, "status": ContractStatus.SIGNED.value},
                  {"$inc": {"declaration.attempts": 1},
                   "$set": {"declaration.last_error": error,
                            "declaration.next_attempt_at": retry_at}})
        for contract_id in contract_ids
    ], ordered=False)
    if result.matched_count == len(contract_ids):
        return set(contract_ids)
    return {doc["_id"] async for doc in db[CONTRACTS].find(
        {"_id": {"$in": contract_ids}, "status": ContractStatus.SIGNED.value}, {"_id": 1})}


async def declarations_to_cancel(db: AsyncDatabase[Document], limit: int) -> list[Document]:
    """Cancelled contracts whose declaration the gateway has not cancelled yet: their ids and
    traces (each is read again when its turn comes)."""
    return await db[CONTRACTS].find({"declaration.cancel_pending": True},
                                    {"traceparent": 1}).limit(limit).to_list(limit)


async def declaration_to_cancel(db: AsyncDatabase[Document],
                                contract_id: str) -> Document | None:
    """The declaration's reference, while the cancelled contract still waits for its cancel."""
    return await db[CONTRACTS].find_one({"_id": contract_id, "declaration.cancel_pending": True},
                                        {"declaration.reference": 1})


async def record_declaration_cancelled(db: AsyncDatabase[Document], contract_id: str,
                                       at: datetime) -> Document | None:
    """One conditional update and no event: no transaction needed. The contract as it is then
    stored; None if done already."""
    return await db[CONTRACTS].find_one_and_update(
        {"_id": contract_id, "declaration.cancel_pending": True},
        {"$set": {"declaration.cancel_pending": False, "declaration.cancelled_at": at}},
        return_document=ReturnDocument.AFTER,
    )


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
