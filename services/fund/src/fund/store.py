"""MongoDB documents of the fund: accounts, transfers, guarantees, exposures, invoices.

Amounts the database must add up (account balances, transfer amounts, exposures) are Decimal128,
which MongoDB adds exactly; amounts only read back (on guarantees) are decimal strings.

A consumer handles a whole batch of events in one transaction, one event after the other, and
every MongoDB command is a round trip. So the batch reads what all its events need in one command
(``prefetch``), the use cases then work on what the transaction knows (``Known``: its snapshot
plus its own changes, exactly what a read in it would return) and stage their changes
(``Pending``), which are written just before the commit, one command per collection: the
transfers inserted together, each account moved once by its net change, each exposure, guarantee
and invoice written once with its final state. Both belong to one attempt of the transaction (one
``UnitOfWork``), so a retried transaction starts from nothing.
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
from smart_shared.mongo import Document, UnitOfWork, set_fields

from fund.domain import (
    ACCOUNTS,
    NORMAL_SIDE,
    Account,
    FloorBreached,
    Guarantee,
    Transfer,
    post_in_order,
)

ACCOUNTS_COLLECTION = "accounts"
TRANSFERS = "transfers"
GUARANTEES = "guarantees"
EXPOSURES = "exposures"
INVOICES = "invoices"

_DECIMAL_CONTEXT = create_decimal128_context()
_GUARANTEE_DECIMALS = {"amount", "advanced", "recovered", "lost", "loss_recovered"}
ZERO = Decimal("0.00")


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
    """Documents this transaction has read, with its staged changes: what a read would return
    once they are written."""

    balances: dict[str, Decimal] = field(default_factory=dict)    # account id → balance
    branches: set[str] = field(default_factory=set)               # every account's balance known
    guarantees: dict[str, Document | None] = field(default_factory=dict)  # None: no such doc
    exposures: dict[str, Decimal] = field(default_factory=dict)   # exposure id → amount
    invoices: dict[str, Document | None] = field(default_factory=dict)    # None: no such doc
    transfers: dict[str, bool] = field(default_factory=dict)      # transfer id → booked


_KNOWN: WeakKeyDictionary[UnitOfWork, Known] = WeakKeyDictionary()


def known(uow: UnitOfWork) -> Known:
    """What this attempt of the transaction knows (a new ``UnitOfWork`` knows nothing)."""
    state = _KNOWN.get(uow)
    if state is None:
        state = _KNOWN[uow] = Known()
    return state


# --------------------------------------------------------------- what a transaction will write


@dataclass
class AccountMove:
    """An account's staged change: in booking order, the net change, the lowest the balance goes
    on the way (relative to where it starts), debits, credits and the number of transfers."""

    branch: str
    account: Account
    net: Decimal = ZERO
    low: Decimal = ZERO
    debits: Decimal = ZERO
    credits: Decimal = ZERO
    count: int = 0


@dataclass
class GuaranteeChange:
    changes: Document = field(default_factory=dict)
    upsert: bool = False


@dataclass
class Pending:
    """The transaction's changes, written once per collection just before it commits."""

    transfers: dict[str, Document] = field(default_factory=dict)  # id → document, in order
    accounts: dict[str, AccountMove] = field(default_factory=dict)
    exposures: dict[str, Decimal] = field(default_factory=dict)   # exposure id → change
    guarantees: dict[str, GuaranteeChange] = field(default_factory=dict)
    invoices: dict[str, Document] = field(default_factory=dict)   # invoice id → fields set

    async def write(self, uow: UnitOfWork) -> None:
        """Five commands at most, whatever the number of events staged."""
        transfers, self.transfers = self.transfers, {}
        accounts, self.accounts = self.accounts, {}
        exposures, self.exposures = self.exposures, {}
        guarantees, self.guarantees = self.guarantees, {}
        invoices, self.invoices = self.invoices, {}
        session = uow.session
        if transfers:
            # a transfer read as absent in this snapshot: a duplicate key fails the transaction
            await uow.db[TRANSFERS].insert_many(list(transfers.values()), ordered=True,
                                                session=session)
        if accounts:
            await _move_accounts(uow, accounts)
        if exposures:
            await uow.db[EXPOSURES].bulk_write(
                [UpdateOne({"_id": ident}, {"$inc": {"amount": d128(delta)}}, upsert=True)
                 for ident, delta in exposures.items()], ordered=True, session=session)
        if guarantees:
            await uow.db[GUARANTEES].bulk_write(
                [UpdateOne({"_id": ident}, {"$set": change.changes}, upsert=change.upsert)
                 for ident, change in guarantees.items()], ordered=True, session=session)
        await set_fields(uow, INVOICES, invoices)


def pending(uow: UnitOfWork) -> Pending:
    """The changes this attempt of the transaction has staged."""
    return uow.staged(Pending)


async def _move_accounts(uow: UnitOfWork, moves: dict[str, AccountMove]) -> None:
    """Each account once by its net change; an account that goes down on the way moves only if
    its balance covers the lowest point, a condition the database checks in the update itself, so
    two transactions racing for the same money cannot both pass it: the second one conflicts,
    retries and sees the first."""
    operations = []
    for ident, move in moves.items():
        change: Document = {"$inc": {"balance": d128(move.net), "debits": d128(move.debits),
                                     "credits": d128(move.credits), "transfers": move.count}}
        if move.low < 0:
            operations.append(UpdateOne({"_id": ident, "balance": {"$gte": d128(-move.low)}},
                                        change))
        else:
            operations.append(UpdateOne(
                {"_id": ident},
                {**change, "$setOnInsert": {"branch": move.branch, "account": move.account,
                                            "normal_side": NORMAL_SIDE[move.account]}},
                upsert=True))
    moved = await uow.db[ACCOUNTS_COLLECTION].bulk_write(operations, ordered=True,
                                                         session=uow.session)
    if moved.matched_count + moved.upserted_count != len(operations):
        ident, move = next((i, m) for i, m in moves.items() if m.low < 0)
        raise FloorBreached(move.branch, move.account,
                            known(uow).balances.get(ident, ZERO) - move.net, -move.low)


# ------------------------------------------------------------------------------------ reads


async def prefetch(uow: UnitOfWork, *, branches: Iterable[str] = (),
                   guarantees: Iterable[str] = (), exposures: Iterable[str] = (),
                   invoices: Iterable[str] = (), transfers: Iterable[str] = ()) -> None:
    """Read, in one command, whichever of these documents the transaction does not know yet.

    ``branches``: the balances of all their accounts; ``transfers``: whether they are booked.
    Missing documents are remembered as missing (a guarantee or invoice as ``None``, an exposure
    or a balance as zero), and what the transaction has staged is applied to what is read.
    """
    state = known(uow)
    staged = pending(uow)
    queries: dict[str, tuple[str, Document, Document | None]] = {}
    new_branches = [branch for branch in dict.fromkeys(branches) if branch not in state.branches]
    account_ids = [account_id(branch, account) for branch in new_branches for account in ACCOUNTS]
    if account_ids:
        queries["accounts"] = (ACCOUNTS_COLLECTION, {"_id": {"$in": account_ids}},
                               {"balance": 1})
    guarantee_ids = _unknown(guarantees, state.guarantees)
    if guarantee_ids:
        queries["guarantees"] = (GUARANTEES, {"_id": {"$in": guarantee_ids}}, None)
    exposure_ids_ = _unknown(exposures, state.exposures)
    if exposure_ids_:
        queries["exposures"] = (EXPOSURES, {"_id": {"$in": exposure_ids_}}, {"amount": 1})
    invoice_ids = _unknown(invoices, state.invoices)
    if invoice_ids:
        queries["invoices"] = (INVOICES, {"_id": {"$in": invoice_ids}}, None)
    transfer_ids = _unknown(transfers, state.transfers)
    if transfer_ids:
        queries["transfers"] = (TRANSFERS, {"_id": {"$in": transfer_ids}}, {"_id": 1})
    if not queries:
        return
    found: dict[str, list[Document]]
    if len(queries) == 1:
        [(name, (collection, query, projection))] = queries.items()
        found = {name: [doc async for doc in uow.db[collection].find(query, projection,
                                                                     session=uow.session)]}
    else:
        # one round trip for documents of several collections ($unionWith is not allowed in a
        # transaction, $lookup is)
        pipeline: list[Document] = [{"$documents": [{}]}]
        for name, (collection, query, projection) in queries.items():
            stages: list[Document] = [{"$match": query}]
            if projection:
                stages.append({"$project": projection})
            pipeline.append({"$lookup": {"from": collection, "pipeline": stages, "as": name}})
        cursor = await uow.db.aggregate(pipeline, session=uow.session)
        rows = [row async for row in cursor]
        found = {name: rows[0][name] for name in queries}
    if account_ids:
        stored = {doc["_id"]: dec(doc.get("balance")) for doc in found["accounts"]}
        for ident in account_ids:
            move = staged.accounts.get(ident)
            state.balances[ident] = stored.get(ident, ZERO) + (move.net if move else ZERO)
        state.branches.update(new_branches)
    if guarantee_ids:
        docs = {doc["_id"]: doc for doc in found["guarantees"]}
        for ident in guarantee_ids:
            doc, change = docs.get(ident), staged.guarantees.get(ident)
            if change and (doc or change.upsert):
                doc = {**(doc or {"_id": ident}), **change.changes}
            state.guarantees[ident] = doc
    if exposure_ids_:
        amounts = {doc["_id"]: dec(doc.get("amount")) for doc in found["exposures"]}
        for ident in exposure_ids_:
            state.exposures[ident] = amounts.get(ident, ZERO) + staged.exposures.get(ident, ZERO)
    if invoice_ids:
        docs = {doc["_id"]: doc for doc in found["invoices"]}
        for ident in invoice_ids:
            doc, changes = docs.get(ident), staged.invoices.get(ident)
            state.invoices[ident] = {**(doc or {"_id": ident}), **changes} if changes else doc
    if transfer_ids:
        booked = {doc["_id"] for doc in found["transfers"]}
        for ident in transfer_ids:
            state.transfers[ident] = ident in booked or ident in staged.transfers


def _unknown(idents: Iterable[str], known_ones: dict[str, Any]) -> list[str]:
    return [ident for ident in dict.fromkeys(idents) if ident not in known_ones]


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

    A transfer already booked (stored, or booked earlier in this transaction) books nothing.
    Every floor holds after each transfer, in order: the ledger's rule (``post_in_order``) checks
    it against the balances this transaction knows, and the database again when the staged
    balances are written. Nothing is written until the commit (``Pending``); reads nothing when
    the transaction knows the transfers and their branches' balances.
    """
    if not transfers:
        return []
    state = known(uow)
    await prefetch(uow, transfers=[transfer.id for transfer in transfers])
    booked: list[Transfer] = []
    for transfer in transfers:
        if not state.transfers[transfer.id]:
            state.transfers[transfer.id] = True
            booked.append(transfer)
    if not booked:
        return []
    branches = list(dict.fromkeys(transfer.branch for transfer in booked))
    await prefetch(uow, branches=branches)
    balances = {branch: {account: state.balances[account_id(branch, account)]
                         for account in ACCOUNTS} for branch in branches}
    try:
        post_in_order(booked, balances)  # the floors, before anything is staged
    except FloorBreached:
        for undone in booked:
            state.transfers[undone.id] = False
        raise
    staged = pending(uow)
    now = uow.clock.now()
    for transfer in booked:
        staged.transfers[transfer.id] = {"_id": transfer.id, **transfer_document(transfer, now)}
        for account, delta in transfer.effects().items():
            ident = account_id(transfer.branch, account)
            move = staged.accounts.get(ident)
            if move is None:
                move = staged.accounts[ident] = AccountMove(transfer.branch, account)
            move.net += delta
            move.low = min(move.low, move.net)
            if account == transfer.debit:
                move.debits += transfer.amount
            else:
                move.credits += transfer.amount
            move.count += 1
            if ident in state.balances:
                state.balances[ident] += delta
    return booked


async def balance(uow: UnitOfWork, branch: str, account: Account) -> Decimal:
    await prefetch(uow, branches=[branch])
    return known(uow).balances[account_id(branch, account)]


async def branch_balances(uow: UnitOfWork, branch: str) -> dict[Account, Decimal]:
    """Every account's balance as this transaction will leave it."""
    await prefetch(uow, branches=[branch])
    balances = known(uow).balances
    return {account: balances[account_id(branch, account)] for account in ACCOUNTS}


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


def save_guarantee(uow: UnitOfWork, guarantee: Guarantee, **extra: Any) -> None:
    """Stage the guarantee's state (created if missing), written at the commit."""
    changes = {**guarantee_fields(guarantee), **extra, "updated_at": uow.clock.now()}
    _stage_guarantee(uow, guarantee.contract_id, changes, upsert=True)


async def link_invoice(uow: UnitOfWork, contract_id: str, invoice_id: str) -> None:
    """Note the contract's invoice on its guarantee, if there is one."""
    state = known(uow)
    if contract_id in state.guarantees:
        doc = state.guarantees[contract_id]
        if doc is None or doc.get("invoice_id") == invoice_id:
            return  # no such guarantee, or noted already: nothing would change
    _stage_guarantee(uow, contract_id, {"invoice_id": invoice_id}, upsert=False)


def _stage_guarantee(uow: UnitOfWork, contract_id: str, changes: Document,
                     upsert: bool) -> None:
    staged = pending(uow).guarantees.setdefault(contract_id, GuaranteeChange())
    staged.changes.update(changes)
    staged.upsert = staged.upsert or upsert
    state = known(uow)
    if contract_id not in state.guarantees:
        return  # not read by this transaction: a later read applies what is staged
    before = state.guarantees[contract_id]
    if before is None and not upsert:
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


def move_exposure(uow: UnitOfWork, guarantee: Guarantee, before: Decimal) -> None:
    """Follow the guarantee's exposure on its client's and member's totals (staged)."""
    delta = guarantee.exposure - before
    if delta == 0:
        return
    staged = pending(uow).exposures
    state = known(uow)
    for ident in exposure_ids(guarantee.branch, guarantee.client_key, guarantee.member_id):
        staged[ident] = staged.get(ident, ZERO) + delta
        if ident in state.exposures:
            state.exposures[ident] += delta


# --------------------------------------------------------------------------------- invoices


async def find_invoice(uow: UnitOfWork, invoice_id: str) -> Document | None:
    """The fund's projection of the invoice, None when it has not heard of it."""
    await prefetch(uow, invoices=[invoice_id])
    return known(uow).invoices[invoice_id]


async def invoice_status(uow: UnitOfWork, invoice_id: str) -> str | None:
    """The invoice's status (``issued``, ``paid``), None when the fund has not heard of it."""
    doc = await find_invoice(uow, invoice_id)
    return doc.get("status") if doc else None


async def save_invoice(uow: UnitOfWork, invoice_id: str, changes: Document) -> None:
    """Stage these fields of the invoice (created if missing), written at the commit."""
    doc = await find_invoice(uow, invoice_id)
    if doc is not None:
        changes = {name: value for name, value in changes.items()
                   if name not in doc or doc[name] != value}
        if not changes:
            return
    staged = pending(uow).invoices.setdefault(invoice_id, {})
    staged.update(changes)
    known(uow).invoices[invoice_id] = {**(doc or {"_id": invoice_id}), **changes}
