"""MongoDB documents of the fund: accounts, transfers, guarantees, exposures, invoices.

Amounts the database must add up (account balances, transfer amounts, exposures) are Decimal128,
which MongoDB adds exactly; amounts only read back (on guarantees) are decimal strings.

A consumer handles a whole batch of events in one transaction, one event after the other, and
every MongoDB command is a round trip. So each use case reads what it needs in one command
(``prefetch``), books all the transfers of one fact in two (the transfers, then the accounts),
and the transaction remembers what it has read or written (``Known``): a later event of the same
batch does not read the branch's balances, a guarantee or an exposure again. What is remembered
is exactly what a read in the same transaction would return (its snapshot plus its own writes);
it belongs to one attempt of the transaction (one ``UnitOfWork``), so a retried transaction starts
from nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from decimal import Decimal, localcontext
from typing import Any
from weakref import WeakKeyDictionary

from bson.decimal128 import Decimal128, create_decimal128_context
from pymongo import UpdateOne
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


# ------------------------------------------------------------------- what a transaction knows


@dataclass
class Known:
    """Documents this transaction has read or written, as a read in it would now return them."""

    balances: dict[str, Decimal] = field(default_factory=dict)    # account id → balance
    branches: set[str] = field(default_factory=set)               # every account's balance known
    guarantees: dict[str, Document | None] = field(default_factory=dict)  # None: no such doc
    exposures: dict[str, Decimal] = field(default_factory=dict)   # exposure id → amount
    invoices: dict[str, str | None] = field(default_factory=dict)  # invoice id → status


_KNOWN: WeakKeyDictionary[UnitOfWork, Known] = WeakKeyDictionary()


def known(uow: UnitOfWork) -> Known:
    """What this attempt of the transaction knows (a new ``UnitOfWork`` knows nothing)."""
    state = _KNOWN.get(uow)
    if state is None:
        state = _KNOWN[uow] = Known()
    return state


async def prefetch(uow: UnitOfWork, *, branch: str | None = None,
                   guarantees: Iterable[str] = (), exposures: Iterable[str] = (),
                   invoices: Iterable[str] = ()) -> None:
    """Read, in one command, whichever of these documents the transaction does not know yet.

    ``branch``: the balances of all its accounts. Missing documents are remembered as missing
    (a guarantee or invoice as ``None``, an exposure or a balance as zero).
    """
    state = known(uow)
    queries: dict[str, tuple[str, Document]] = {}
    account_ids: list[str] = []
    if branch is not None and branch not in state.branches:
        account_ids = [account_id(branch, account) for account in ACCOUNTS]
        queries["accounts"] = (ACCOUNTS_COLLECTION, {"_id": {"$in": account_ids}})
    guarantee_ids = [ident for ident in dict.fromkeys(guarantees)
                     if ident not in state.guarantees]
    if guarantee_ids:
        queries["guarantees"] = (GUARANTEES, {"_id": {"$in": guarantee_ids}})
    exposure_ids_ = [ident for ident in dict.fromkeys(exposures) if ident not in state.exposures]
    if exposure_ids_:
        queries["exposures"] = (EXPOSURES, {"_id": {"$in": exposure_ids_}})
    invoice_ids = [ident for ident in dict.fromkeys(invoices) if ident not in state.invoices]
    if invoice_ids:
        queries["invoices"] = (INVOICES, {"_id": {"$in": invoice_ids}})
    if not queries:
        return
    found: dict[str, list[Document]]
    if len(queries) == 1:
        [(name, (collection, query))] = queries.items()
        found = {name: [doc async for doc in uow.db[collection].find(query,
                                                                     session=uow.session)]}
    else:
        # one round trip for documents of several collections ($unionWith is not allowed in a
        # transaction, $lookup is)
        pipeline: list[Document] = [{"$documents": [{}]}]
        for name, (collection, query) in queries.items():
            pipeline.append({"$lookup": {"from": collection, "pipeline": [{"$match": query}],
                                         "as": name}})
        cursor = await uow.db.aggregate(pipeline, session=uow.session)
        rows = [row async for row in cursor]
        found = {name: rows[0][name] for name in queries}
    if account_ids:
        assert branch is not None
        stored = {doc["_id"]: dec(doc.get("balance")) for doc in found["accounts"]}
        for ident in account_ids:
            state.balances[ident] = stored.get(ident, Decimal("0.00"))
        state.branches.add(branch)
    if guarantee_ids:
        docs = {doc["_id"]: doc for doc in found["guarantees"]}
        for ident in guarantee_ids:
            state.guarantees[ident] = docs.get(ident)
    if exposure_ids_:
        amounts = {doc["_id"]: dec(doc.get("amount")) for doc in found["exposures"]}
        for ident in exposure_ids_:
            state.exposures[ident] = amounts.get(ident, Decimal("0.00"))
    if invoice_ids:
        statuses = {doc["_id"]: doc.get("status") for doc in found["invoices"]}
        for ident in invoice_ids:
            state.invoices[ident] = statuses.get(ident)


# ------------------------------------------------------------------------------------ ledger


def transfer_document(transfer: Transfer, booked_at: datetime) -> Document:
    """The stored transfer, without its ``_id`` (the transfer's own id)."""
    return {
        "branch": transfer.branch,
        "kind": transfer.kind,
        "debit": transfer.debit,
        "credit": transfer.credit,
        "amount": d128(transfer.amount),
        "contract_id": transfer.contract_id,
        "pending_id": transfer.pending_id,
        "reference": transfer.reference,
        "booked_at": booked_at,
        # unique and in booking order, for cursor pagination
        "sequence": f"{booked_at.strftime('%Y%m%dT%H%M%S.%f')}|{transfer.id}",
    }


async def book(uow: UnitOfWork, transfer: Transfer) -> bool:
    """Book ``transfer`` with its accounts' balances; False if it was booked before."""
    return bool(await book_all(uow, [transfer]))


async def book_all(uow: UnitOfWork, transfers: list[Transfer]) -> list[Transfer]:
    """Book the transfers in order, with their accounts' balances; returns those booked now.

    Two commands whatever their number: the transfers are upserted by id (one already there is
    left as it is and books nothing), then each account touched moves once by the sum of its
    changes. Every floor holds after each transfer, in order: it is checked against the balances
    this transaction knows, and again by the database, where it is a condition of the balance
    update itself, so two transactions racing for the same money cannot both pass it: the second
    one conflicts, retries and sees the first.
    """
    if not transfers:
        return []
    result = await uow.db[TRANSFERS].bulk_write(
        [UpdateOne({"_id": transfer.id},
                   {"$setOnInsert": transfer_document(transfer, uow.clock.now())}, upsert=True)
         for transfer in transfers],
        ordered=True, session=uow.session)
    booked = [transfers[index] for index in sorted(result.upserted_ids or {})]
    if not booked:
        return []
    state = known(uow)
    # per account, in booking order: the net change, the lowest the balance goes on the way
    # (relative to where it starts), debits, credits and the number of transfers
    moves: dict[str, dict[str, Any]] = {}
    for transfer in booked:
        for account, delta in transfer.effects().items():
            ident = account_id(transfer.branch, account)
            move = moves.setdefault(ident, {
                "branch": transfer.branch, "account": account, "net": Decimal("0.00"),
                "low": Decimal("0.00"), "debits": Decimal("0.00"), "credits": Decimal("0.00"),
                "count": 0})
            move["net"] += delta
            move["low"] = min(move["low"], move["net"])
            move["debits" if account == transfer.debit else "credits"] += transfer.amount
            move["count"] += 1
    for branch in {move["branch"] for ident, move in moves.items()
                   if move["low"] < 0 and ident not in state.balances}:
        await prefetch(uow, branch=branch)
    # the same floors, checked transfer by transfer before anything moves
    running = {ident: state.balances[ident] for ident, move in moves.items() if move["low"] < 0}
    for transfer in booked:
        for account, delta in transfer.effects().items():
            ident = account_id(transfer.branch, account)
            if ident in running:
                if running[ident] + delta < 0:
                    raise FloorBreached(transfer.branch, account, running[ident],
                                        transfer.amount)
                running[ident] += delta
    operations = []
    for ident, move in moves.items():
        change: Document = {"$inc": {"balance": d128(move["net"]), "debits": d128(move["debits"]),
                                     "credits": d128(move["credits"]), "transfers": move["count"]}}
        if move["low"] < 0:
            operations.append(UpdateOne({"_id": ident, "balance": {"$gte": d128(-move["low"])}},
                                        change))
        else:
            operations.append(UpdateOne(
                {"_id": ident},
                {**change, "$setOnInsert": {"branch": move["branch"], "account": move["account"],
                                            "normal_side": NORMAL_SIDE[move["account"]]}},
                upsert=True))
    moved = await uow.db[ACCOUNTS_COLLECTION].bulk_write(operations, ordered=True,
                                                         session=uow.session)
    if moved.matched_count + moved.upserted_count != len(operations):
        ident, move = next((i, m) for i, m in moves.items() if m["low"] < 0)
        raise FloorBreached(move["branch"], move["account"], state.balances.get(ident, Decimal(0)),
                            -move["low"])
    for ident, move in moves.items():
        if ident in state.balances:
            state.balances[ident] += move["net"]
    return booked


async def balance(uow: UnitOfWork, branch: str, account: Account) -> Decimal:
    await prefetch(uow, branch=branch)
    return known(uow).balances[account_id(branch, account)]


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
    await prefetch(uow, guarantees=[contract_id])
    return known(uow).guarantees[contract_id]


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
    changes = {**guarantee_fields(guarantee), **extra, "updated_at": uow.clock.now()}
    await uow.db[GUARANTEES].update_one({"_id": guarantee.contract_id}, {"$set": changes},
                                        upsert=True, session=uow.session)
    _remember_guarantee(uow, guarantee.contract_id, changes, upserted=True)


async def link_invoice(uow: UnitOfWork, contract_id: str, invoice_id: str) -> None:
    """Note the contract's invoice on its guarantee, if there is one."""
    state = known(uow)
    if contract_id in state.guarantees and state.guarantees[contract_id] is None:
        return  # known not to exist: the update would change nothing
    await uow.db[GUARANTEES].update_one({"_id": contract_id}, {"$set": {"invoice_id": invoice_id}},
                                        session=uow.session)
    _remember_guarantee(uow, contract_id, {"invoice_id": invoice_id}, upserted=False)


def _remember_guarantee(uow: UnitOfWork, contract_id: str, changes: Document,
                        upserted: bool) -> None:
    state = known(uow)
    if contract_id not in state.guarantees:
        return  # not read by this transaction: stays unknown
    before = state.guarantees[contract_id]
    if before is None and not upserted:
        return
    state.guarantees[contract_id] = {**(before or {"_id": contract_id}), **changes}


# -------------------------------------------------------------------------------- exposures


def exposure_ids(branch: str, client_key: str, member_id: str) -> tuple[str, str]:
    return f"{branch}:client:{client_key}", f"{branch}:member:{member_id}"


async def exposures(uow: UnitOfWork, branch: str, client_key: str,
                    member_id: str) -> tuple[Decimal, Decimal]:
    """The client's and the member's outstanding guaranteed exposure."""
    client_id, member_doc_id = exposure_ids(branch, client_key, member_id)
    await prefetch(uow, exposures=[client_id, member_doc_id])
    state = known(uow)
    return state.exposures[client_id], state.exposures[member_doc_id]


async def move_exposure(uow: UnitOfWork, guarantee: Guarantee, before: Decimal) -> None:
    """Follow the guarantee's exposure on its client's and member's totals (one command)."""
    delta = guarantee.exposure - before
    if delta == 0:
        return
    idents = exposure_ids(guarantee.branch, guarantee.client_key, guarantee.member_id)
    await uow.db[EXPOSURES].bulk_write(
        [UpdateOne({"_id": ident}, {"$inc": {"amount": d128(delta)}}, upsert=True)
         for ident in idents], ordered=True, session=uow.session)
    state = known(uow)
    for ident in idents:
        if ident in state.exposures:
            state.exposures[ident] += delta


# --------------------------------------------------------------------------------- invoices


async def invoice_status(uow: UnitOfWork, invoice_id: str) -> str | None:
    """The invoice's status (``issued``, ``paid``), None when the fund has not heard of it."""
    await prefetch(uow, invoices=[invoice_id])
    return known(uow).invoices[invoice_id]


def remember_invoice_status(uow: UnitOfWork, invoice_id: str, status: str) -> None:
    """After a write that set it: the invoice's status as stored now."""
    known(uow).invoices[invoice_id] = status
