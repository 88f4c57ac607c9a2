"""MongoDB collections of contracts: contracts, the members projection, and their indexes."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from smart_shared.mongo import Document, UnitOfWork

from contracts.domain import Contract, KnownMember

CONTRACTS = "contracts"
MEMBERS = "members"


def _storable(value: Any) -> Any:
    """BSON-ready: dates as ISO strings (they sort right), decimals as strings, datetimes kept."""
    if isinstance(value, dict):
        return {key: _storable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_storable(item) for item in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date) and not hasattr(value, "hour"):
        return value.isoformat()
    return value


def contract_document(contract: Contract) -> Document:
    doc: Document = _storable(contract.model_dump())
    doc["_id"] = contract.contract_id
    doc["first_work_day"] = contract.first_work_day.isoformat()
    doc["last_work_day"] = contract.last_work_day.isoformat()
    return doc


def contract_from(doc: Document) -> Contract:
    return Contract.model_validate({k: v for k, v in doc.items() if k != "_id"})


async def load_contract(uow: UnitOfWork, contract_id: str) -> Contract | None:
    doc = await uow.db[CONTRACTS].find_one({"_id": contract_id}, session=uow.session)
    return contract_from(doc) if doc else None


async def insert_contract(uow: UnitOfWork, contract: Contract) -> None:
    await uow.db[CONTRACTS].insert_one(contract_document(contract), session=uow.session)


class ContractChanged(Exception):
    """Someone else changed the contract since it was read."""


async def save_contract(uow: UnitOfWork, contract: Contract, read_status: str) -> bool:
    """Replace the contract if it still has the status it was read with; False otherwise."""
    result = await uow.db[CONTRACTS].replace_one(
        {"_id": contract.contract_id, "status": read_status},
        contract_document(contract),
        session=uow.session,
    )
    return result.matched_count == 1


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
