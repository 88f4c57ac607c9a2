"""MongoDB documents of the fund: accounts, transfers, guarantees, exposures, invoices.

Amounts the database must add up (account balances, transfer amounts, exposures) are Decimal128,
which MongoDB adds exactly; amounts only read back (on guarantees) are decimal strings.
"""

from __future__ import annotations

from dataclasses import asdict, fields
from decimal import Decimal, localcontext
from typing import Any

from bson.decimal128 import Decimal128, create_decimal128_context
from pymongo.asynchronous.database import AsyncDatabase
from smart_shared.mongo import Document, UnitOfWork

from fund.domain import ACCOUNTS, NORMAL_SIDE, Account, FloorBreached, Guarantee, Transfer

ACCOUNTS_COLLECTION = "accounts"
TRANSFERS = "transfers"
GUARANTEES = "guarantees"
EXPOSURES = "exposures"
INVOICES = "invoices"

_DECIMAL_CONTEXT = create_decimal128_context()
_GUARANTEE_DECIMALS = {"amount", "advanced", "recovered", "lost", "loss_recovered"}


def d128(value: Decimal) -> Decimal128:
    with localcontext(_DECIMAL_CONTEXT) as ctx:
        return Decimal128(ctx.create_decimal(value))


def dec(value: Any) -> Decimal:
    """A stored amount (Decimal128, string or missing) as a Decimal rounded to the cent."""
    if value is None:
        return Decimal("0.00")
    if isinstance(value, Decimal128):
        value = value.to_decimal()
    return Decimal(str(value)).quantize(Decimal("0.01"))


def account_id(branch: str, account: Account) -> str:
    return f"{branch}:{account}"


async def create_indexes(db: AsyncDatabase[Document]) -> None:
    """Indexes of the fund's collections (a transfer's ``_id`` is its unique, derived id)."""
    await db[TRANSFERS].create_index([("branch", 1), ("sequence", 1)], name="branch_in_order")
    await db[TRANSFERS].create_index("contract_id", name="by_contract", sparse=True)
    await db[GUARANTEES].create_index([("branch", 1), ("client_key", 1)], name="by_client")
    await db[GUARANTEES].create_index([("branch", 1), ("member_id", 1)], name="by_member")
    await db[INVOICES].create_index("contract_id", name="by_contract")
    for name in (ACCOUNTS_COLLECTION, EXPOSURES):
        if name not in await db.list_collection_names():
            await db.create_collection(name)


async def open_accounts(db: AsyncDatabase[Document], branches: list[str]) -> None:
    """Make sure every account of every served branch exists (at zero when new)."""
    for branch in branches:
        for account in ACCOUNTS:
            await db[ACCOUNTS_COLLECTION].update_one(
                {"_id": account_id(branch, account)},
                {"$setOnInsert": {"branch": branch, "account": account,
                                  "normal_side": NORMAL_SIDE[account], "balance": d128(Decimal(0)),
                                  "debits": d128(Decimal(0)), "credits": d128(Decimal(0))}},
                upsert=True,
            )


# ------------------------------------------------------------------------------------ ledger


async def book(uow: UnitOfWork, transfer: Transfer) -> bool:
    """Book ``transfer`` in this transaction, with its accounts' balances; False if booked before.

    The floor is a condition of the balance update itself, so two transactions racing for the
    same money cannot both pass it: the second one conflicts, retries and sees the first.
    """
    transfers = uow.db[TRANSFERS]
    if await transfers.find_one({"_id": transfer.id}, {"_id": 1}, session=uow.session):
        return False
    amount = d128(transfer.amount)
    for account, delta in transfer.effects().items():
        side = "debits" if account == transfer.debit else "credits"
        ident = account_id(transfer.branch, account)
        change = {"$inc": {"balance": d128(delta), side: amount, "transfers": 1}}
        if delta < 0:
            result = await uow.db[ACCOUNTS_COLLECTION].update_one(
                {"_id": ident, "balance": {"$gte": amount}}, change, session=uow.session)
            if result.matched_count == 0:
                current = await uow.db[ACCOUNTS_COLLECTION].find_one({"_id": ident},
                                                                     session=uow.session)
                raise FloorBreached(transfer.branch, account,
                                    dec(current["balance"] if current else None), transfer.amount)
        else:
            await uow.db[ACCOUNTS_COLLECTION].update_one(
                {"_id": ident},
                {**change, "$setOnInsert": {"branch": transfer.branch, "account": account,
                                            "normal_side": NORMAL_SIDE[account]}},
                upsert=True, session=uow.session)
    now = uow.clock.now()
    await transfers.insert_one({
        "_id": transfer.id,
        "branch": transfer.branch,
        "kind": transfer.kind,
        "debit": transfer.debit,
        "credit": transfer.credit,
        "amount": amount,
        "contract_id": transfer.contract_id,
        "pending_id": transfer.pending_id,
        "reference": transfer.reference,
        "booked_at": now,
        # unique and in booking order, for cursor pagination
        "sequence": f"{now.strftime('%Y%m%dT%H%M%S.%f')}|{transfer.id}",
    }, session=uow.session)
    return True


async def book_all(uow: UnitOfWork, transfers: list[Transfer]) -> list[Transfer]:
    """Book each transfer; returns those booked now (not before)."""
    return [transfer for transfer in transfers if await book(uow, transfer)]


async def balance(uow: UnitOfWork, branch: str, account: Account) -> Decimal:
    doc = await uow.db[ACCOUNTS_COLLECTION].find_one({"_id": account_id(branch, account)},
                                                     session=uow.session)
    return dec(doc["balance"] if doc else None)


def transfer_view(doc: Document) -> dict[str, Any]:
    return {
        "transfer_id": doc["_id"],
        "branch": doc["branch"],
        "kind": doc["kind"],
        "debit": doc["debit"],
        "credit": doc["credit"],
        "amount": {"amount": str(dec(doc["amount"])), "currency": "EUR"},
        "contract_id": doc.get("contract_id"),
        "pending_id": doc.get("pending_id"),
        "reference": doc.get("reference"),
        "booked_at": doc["booked_at"].isoformat(),
    }


# ------------------------------------------------------------------------------- guarantees


async def find_guarantee(uow: UnitOfWork, contract_id: str) -> Document | None:
    return await uow.db[GUARANTEES].find_one({"_id": contract_id}, session=uow.session)


def guarantee_from(doc: Document) -> Guarantee:
    names = {f.name for f in fields(Guarantee)}
    values: dict[str, Any] = {k: (dec(v) if k in _GUARANTEE_DECIMALS else v)
                              for k, v in doc.items() if k in names and k != "contract_id"}
    return Guarantee(contract_id=doc["_id"], **values)


def guarantee_fields(guarantee: Guarantee) -> Document:
    values = asdict(guarantee)
    values.pop("contract_id")
    for name in _GUARANTEE_DECIMALS:
        values[name] = str(values[name])
    values["reserved"] = str(guarantee.reserved)
    values["outstanding_advance"] = str(guarantee.outstanding_advance)
    values["exposure"] = str(guarantee.exposure)
    return values


async def save_guarantee(uow: UnitOfWork, guarantee: Guarantee, **extra: Any) -> None:
    await uow.db[GUARANTEES].update_one(
        {"_id": guarantee.contract_id},
        {"$set": {**guarantee_fields(guarantee), **extra, "updated_at": uow.clock.now()}},
        upsert=True, session=uow.session)


# -------------------------------------------------------------------------------- exposures


def exposure_ids(branch: str, client_key: str, member_id: str) -> tuple[str, str]:
    return f"{branch}:client:{client_key}", f"{branch}:member:{member_id}"


async def exposures(uow: UnitOfWork, branch: str, client_key: str,
                    member_id: str) -> tuple[Decimal, Decimal]:
    """The client's and the member's outstanding guaranteed exposure."""
    client_id, member_doc_id = exposure_ids(branch, client_key, member_id)
    docs = {doc["_id"]: dec(doc["amount"]) async for doc in uow.db[EXPOSURES].find(
        {"_id": {"$in": [client_id, member_doc_id]}}, session=uow.session)}
    return docs.get(client_id, Decimal("0.00")), docs.get(member_doc_id, Decimal("0.00"))


async def move_exposure(uow: UnitOfWork, guarantee: Guarantee, before: Decimal) -> None:
    """Follow the guarantee's exposure on its client's and member's totals."""
    delta = guarantee.exposure - before
    if delta == 0:
        return
    for ident in exposure_ids(guarantee.branch, guarantee.client_key, guarantee.member_id):
        await uow.db[EXPOSURES].update_one({"_id": ident}, {"$inc": {"amount": d128(delta)}},
                                           upsert=True, session=uow.session)
