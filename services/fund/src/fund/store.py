"""Every read and write of the fund's collections (accounts, transfers, guarantees, exposures,
invoices, member contacts) and their indexes.

Amounts the database must add up (account balances, transfer amounts, exposures) are Decimal128,
which MongoDB adds exactly; amounts only read back (on guarantees) are decimal strings.

A consumer handles a whole batch of events in one transaction, one event after the other, and
every MongoDB command is a round trip. So the batch reads what all its events need in one command
(``read_ahead``); the use cases then read what the transaction knows (its ``BatchState``: the
snapshot with the transaction's own staged changes, what a read in it would return once they are
written) and stage their changes, written just before the commit, one command per collection:
the transfers inserted together, each account moved once by its net change, each exposure,
guarantee and invoice written once with its final state.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Iterable
from dataclasses import fields
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

from pymongo import UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from smart_shared.codec import decimal128, iso, stored_amount, stored_day
from smart_shared.http import Order, find_page
from smart_shared.mongo import BatchState, Database, Document, UnitOfWork
from smart_shared.projections import keep_if_newer

from fund.domain import (
    ACCOUNTS,
    NORMAL_SIDE,
    Account,
    Guarantee,
    Transfer,
    post_in_order,
    zero_balances,
)

ACCOUNTS_COLLECTION = "accounts"
TRANSFERS = "transfers"
GUARANTEES = "guarantees"
EXPOSURES = "exposures"
INVOICES = "invoices"
MEMBER_CONTACTS = "member_contacts"
LOANS = "loans"
BORROWERS = "borrowers"
DISBURSEMENTS = "loan_disbursements"
DIRECT_DEBITS = "loan_direct_debits"
# the statuses of a loan still owed
OUTSTANDING_LOAN = ("approved", "paying_out", "disbursed", "defaulted")

_GUARANTEE_DECIMALS = {"amount", "advanced", "recovered", "lost", "loss_recovered"}
ZERO = Decimal("0.00")
_CENT = Decimal("0.01")
_FLOOR = Decimal("0.00")  # no balance goes below zero on its normal side


def dec(value: Any) -> Decimal:
    """A stored amount (Decimal128, string or missing) as a Decimal rounded to the cent."""
    return stored_amount(value).quantize(_CENT)


def account_id(branch: str, account: Account) -> str:
    return f"{branch}:{account}"


async def create_indexes(db: AsyncDatabase[Document]) -> None:
    """Indexes of the fund's collections (a transfer's ``_id`` is its unique, derived id)."""
    await db[TRANSFERS].create_index([("branch", 1), ("sequence", 1)], name="branch_in_order")
    await db[TRANSFERS].create_index("contract_id", name="by_contract", sparse=True)
    await db[GUARANTEES].create_index([("branch", 1), ("client_key", 1)], name="by_client")
    await db[GUARANTEES].create_index([("branch", 1), ("member_id", 1)], name="by_member")
    await db[INVOICES].create_index("contract_id", name="by_contract")
    await db[INVOICES].create_index([("member_id", 1), ("issue_date", 1)], name="by_member")
    await db[LOANS].create_index([("branch", 1), ("member_id", 1)], name="by_member")
    await db[LOANS].create_index([("branch", 1), ("status", 1)], name="by_status")
    await db[LOANS].create_index([("status", 1), ("next_check", 1)], name="to_check")
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
                                  "normal_side": NORMAL_SIDE[account],
                                  "balance": decimal128(Decimal(0)),
                                  "debits": decimal128(Decimal(0)),
                                  "credits": decimal128(Decimal(0))}},
                upsert=True,
            )


# ------------------------------------------------------------------------------------ reads


def _state(uow: UnitOfWork) -> BatchState:
    """What this attempt of the transaction has read and staged (a retry starts from nothing)."""
    return uow.staged(BatchState)


def _branch_accounts(branches: Iterable[str]) -> list[str]:
    return [ident for branch in dict.fromkeys(branches) for ident in _account_ids(branch)]


@cache
def _account_ids(branch: str) -> tuple[str, ...]:
    return tuple(account_id(branch, account) for account in ACCOUNTS)


async def read_ahead(uow: UnitOfWork, *, branches: Iterable[str] = (),
                     guarantees: Iterable[str] = (), exposures: Iterable[str] = (),
                     invoices: Iterable[str] = (), transfers: Iterable[str] = (),
                     contacts: Iterable[str] = ()) -> None:
    """Read, in one command, whichever of these documents the transaction does not know yet
    (``branches``: all their accounts); the reads that follow find them known. The members'
    ``contacts`` are only expected: read together, if one of them is ever asked for."""
    _state(uow).expect(MEMBER_CONTACTS, contacts)
    await _state(uow).load(uow, {
        ACCOUNTS_COLLECTION: _branch_accounts(branches), GUARANTEES: list(guarantees),
        EXPOSURES: list(exposures), INVOICES: list(invoices), TRANSFERS: list(transfers),
    })


# ------------------------------------------------------------------------------------ ledger


def transfer_document(transfer: Transfer, booked_at: datetime) -> Document:
    """The stored transfer, without its ``_id`` (the transfer's own id)."""
    return {
        "branch": transfer.branch,
        "kind": transfer.kind,
        "debit": transfer.debit,
        "credit": transfer.credit,
        "amount": decimal128(transfer.amount),
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
    balances are written. Nothing is written until the commit; reads nothing when the
    transaction knows the transfers and their branches' balances.
    """
    if not transfers:
        return []
    state = _state(uow)
    await state.load(uow, {TRANSFERS: [transfer.id for transfer in transfers]})
    fresh: dict[str, Transfer] = {}
    for transfer in transfers:
        if transfer.id not in fresh and state.current(TRANSFERS, transfer.id) is None:
            fresh[transfer.id] = transfer
    booked = list(fresh.values())
    if not booked:
        return []
    branches = list(dict.fromkeys(transfer.branch for transfer in booked))
    await state.load(uow, {ACCOUNTS_COLLECTION: _branch_accounts(branches)})
    post_in_order(booked, {branch: _balances(state, branch) for branch in branches})
    now = uow.clock.now()
    for transfer in booked:
        state.insert(TRANSFERS, {"_id": transfer.id, **transfer_document(transfer, now)})
        for account, delta in transfer.effects().items():
            side = "debits" if account == transfer.debit else "credits"
            state.update(
                ACCOUNTS_COLLECTION, account_id(transfer.branch, account),
                increments={"balance": delta, side: transfer.amount, "transfers": 1},
                on_insert={"branch": transfer.branch, "account": account,
                           "normal_side": NORMAL_SIDE[account]},
                floors={"balance": _FLOOR})
    return booked


def _balances(state: BatchState, branch: str) -> dict[Account, Decimal]:
    balances: dict[Account, Decimal] = {}
    for account in ACCOUNTS:
        doc = state.current(ACCOUNTS_COLLECTION, account_id(branch, account))
        balances[account] = dec(doc.get("balance") if doc else None)
    return balances


async def balance(uow: UnitOfWork, branch: str, account: Account) -> Decimal:
    doc = await _state(uow).get(uow, ACCOUNTS_COLLECTION, account_id(branch, account))
    return dec(doc.get("balance") if doc else None)


async def branch_balances(uow: UnitOfWork, branch: str) -> dict[Account, Decimal]:
    """Every account's balance as this transaction will leave it."""
    state = _state(uow)
    await state.load(uow, {ACCOUNTS_COLLECTION: _branch_accounts([branch])})
    return _balances(state, branch)


async def stored_balances(db: AsyncDatabase[Document], branch: str) -> dict[Account, Decimal]:
    """Every account's balance as committed (outside any transaction)."""
    balances = zero_balances()
    async for doc in db[ACCOUNTS_COLLECTION].find({"branch": branch}):
        balances[doc["account"]] = dec(doc["balance"])
    return balances


async def transfer_page(database: Database, branch: str, contract_id: str | None,
                        cursor: str | None, limit: int) -> tuple[list[Document], str | None]:
    """One page of the branch's transfers (of one contract when given) in booking order."""
    query: Document = {"branch": branch}
    if contract_id:
        query["contract_id"] = contract_id
    return await find_page(database, TRANSFERS, query, cursor, limit, sort_field="sequence")


# ---------------------------------------------------------------- reconciliation (committed)


async def transfer_totals(db: AsyncDatabase[Document], branches: list[str],
                          ) -> dict[tuple[str, str], dict[str, Decimal]]:
    """Per (branch, account): the debits, credits and number of transfers booked on it."""
    totals: dict[tuple[str, str], dict[str, Decimal]] = defaultdict(
        lambda: {"debits": ZERO, "credits": ZERO, "transfers": ZERO})
    for side, name in (("debits", "$debit"), ("credits", "$credit")):
        pipeline: list[Document] = [
            {"$match": {"branch": {"$in": branches}}},
            {"$group": {"_id": {"branch": "$branch", "account": name},
                        "total": {"$sum": "$amount"}, "count": {"$sum": 1}}},
        ]
        async for row in await db[TRANSFERS].aggregate(pipeline):
            key = (row["_id"]["branch"], row["_id"]["account"])
            totals[key][side] = dec(row["total"])
            totals[key]["transfers"] += row["count"]
    return totals


async def contract_postings(db: AsyncDatabase[Document],
                            branches: list[str]) -> AsyncIterator[Document]:
    """Every transfer of a contract: its contract, accounts and amount."""
    query = {"branch": {"$in": branches}, "contract_id": {"$ne": None}}
    async for doc in db[TRANSFERS].find(query, {"contract_id": 1, "debit": 1, "credit": 1,
                                                "amount": 1}):
        yield doc


async def stored_accounts(db: AsyncDatabase[Document], branches: list[str]) -> dict[str, Document]:
    """The branches' account documents by id."""
    return {doc["_id"]: doc async for doc in db[ACCOUNTS_COLLECTION].find(
        {"branch": {"$in": branches}})}


async def decided_guarantees(db: AsyncDatabase[Document],
                             branches: list[str]) -> AsyncIterator[Guarantee]:
    async for doc in db[GUARANTEES].find({"branch": {"$in": branches}, "decided": True}):
        yield guarantee_from(doc)


async def stored_exposures(db: AsyncDatabase[Document], branches: list[str]) -> dict[str, Decimal]:
    """The branches' client and member exposures by id."""
    return {doc["_id"]: dec(doc["amount"]) async for doc in db[EXPOSURES].find({})
            if doc["_id"].split(":", 1)[0] in branches}


async def count_transfers(db: AsyncDatabase[Document], branches: list[str]) -> int:
    return await db[TRANSFERS].count_documents({"branch": {"$in": branches}})


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
    return await _state(uow).get(uow, GUARANTEES, contract_id)


async def read_guarantee(db: AsyncDatabase[Document], contract_id: str) -> Document | None:
    """The contract's guarantee as committed (outside any transaction)."""
    return await db[GUARANTEES].find_one({"_id": contract_id})


# a guarantee's state as stored: its fields but the contract id (the document's _id), all of
# them scalars (a shallow copy is the whole state)
_GUARANTEE_STATE = tuple(f.name for f in fields(Guarantee) if f.name != "contract_id")


def guarantee_from(doc: Document) -> Guarantee:
    values: dict[str, Any] = {k: (dec(doc[k]) if k in _GUARANTEE_DECIMALS else doc[k])
                              for k in _GUARANTEE_STATE if k in doc}
    return Guarantee(contract_id=doc["_id"], **values)


def guarantee_fields(guarantee: Guarantee) -> Document:
    values = {name: getattr(guarantee, name) for name in _GUARANTEE_STATE}
    for name in _GUARANTEE_DECIMALS:
        values[name] = str(values[name])
    values["reserved"] = str(guarantee.reserved)
    values["outstanding_advance"] = str(guarantee.outstanding_advance)
    values["exposure"] = str(guarantee.exposure)
    return values


def save_guarantee(uow: UnitOfWork, guarantee: Guarantee, **extra: Any) -> None:
    """Stage the guarantee's state (created if missing), written at the commit."""
    changes = {**guarantee_fields(guarantee), **extra, "updated_at": uow.clock.now()}
    _state(uow).update(GUARANTEES, guarantee.contract_id, fields=changes)


def link_invoice(uow: UnitOfWork, contract_id: str, invoice_id: str) -> None:
    """Note the contract's invoice on its guarantee, if there is one."""
    state = _state(uow)
    if state.known(GUARANTEES, contract_id):
        doc = state.current(GUARANTEES, contract_id)
        if doc is None or doc.get("invoice_id") == invoice_id:
            return  # no such guarantee, or noted already: nothing would change
    state.update(GUARANTEES, contract_id, fields={"invoice_id": invoice_id}, upsert=False)


# -------------------------------------------------------------------------------- exposures


def exposure_ids(branch: str, client_key: str, member_id: str) -> tuple[str, str]:
    return f"{branch}:client:{client_key}", f"{branch}:member:{member_id}"


async def exposures(uow: UnitOfWork, branch: str, client_key: str,
                    member_id: str) -> tuple[Decimal, Decimal]:
    """The client's and the member's outstanding guaranteed exposure."""
    state = _state(uow)
    client_id, member_doc_id = exposure_ids(branch, client_key, member_id)
    await state.load(uow, {EXPOSURES: [client_id, member_doc_id]})
    client, member = (state.current(EXPOSURES, ident) for ident in (client_id, member_doc_id))
    return dec(client and client.get("amount")), dec(member and member.get("amount"))


def move_exposure(uow: UnitOfWork, guarantee: Guarantee, before: Decimal) -> None:
    """Follow the guarantee's exposure on its client's and member's totals (staged)."""
    delta = guarantee.exposure - before
    if delta == 0:
        return
    state = _state(uow)
    for ident in exposure_ids(guarantee.branch, guarantee.client_key, guarantee.member_id):
        state.update(EXPOSURES, ident, increments={"amount": delta})


# --------------------------------------------------------------------------------- invoices


async def find_invoice(uow: UnitOfWork, invoice_id: str) -> Document | None:
    """The fund's projection of the invoice, None when it has not heard of it."""
    return await _state(uow).get(uow, INVOICES, invoice_id)


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
    _state(uow).update(INVOICES, invoice_id, fields=changes)


# -------------------------------------------------------------------------- member contacts


def keep_contact(uow: UnitOfWork, member_id: str, version: int,
                 contact: Document | None, payout: Document | None = None) -> None:
    """Stage the member's contact and payout account (``None``: forgotten) unless a newer
    version is kept."""
    _state(uow).stage(MEMBER_CONTACTS, member_id,
                      keep_if_newer(member_id, version, {"contact": contact, "payout": payout}))


async def member_payout(uow: UnitOfWork, member_id: str) -> Document | None:
    """The member's payout account (``iban``, ``holder_name``), None when none is known."""
    doc = await _state(uow).get(uow, MEMBER_CONTACTS, member_id)
    return doc.get("payout") if doc else None


async def member_contact(uow: UnitOfWork, member_id: str) -> Document | None:
    """The member's contact as this transaction leaves it (None: none known)."""
    doc = await _state(uow).get(uow, MEMBER_CONTACTS, member_id)
    return doc.get("contact") if doc else None


# ---------------------------------------------------------------------------------- lending


def note_member_since(uow: UnitOfWork, member_id: str, day: date) -> None:
    """Stage the member's first activation day (an earlier one wins)."""
    _state(uow).stage(BORROWERS, member_id, UpdateOne(
        {"_id": member_id}, {"$min": {"member_since": iso(day)}}, upsert=True))


def note_write_off(uow: UnitOfWork, member_id: str, day: date) -> None:
    """Stage a debt of the member's written off on ``day`` (the latest one wins)."""
    _state(uow).stage(BORROWERS, member_id, UpdateOne(
        {"_id": member_id}, {"$max": {"last_write_off": iso(day)}}, upsert=True))


def forget_borrower(uow: UnitOfWork, member_id: str) -> None:
    """An erased member's standing is forgotten (their loans, a contract, are kept)."""
    _state(uow).stage(BORROWERS, member_id, UpdateOne(
        {"_id": member_id}, {"$unset": {"member_since": "", "last_write_off": ""}}))


async def borrower(uow: UnitOfWork, member_id: str) -> tuple[date | None, date | None]:
    """The member's first activation day and the day of their last write-off, if known."""
    doc = await _state(uow).get(uow, BORROWERS, member_id) or {}
    since, write_off = doc.get("member_since"), doc.get("last_write_off")
    return (stored_day(since) if since else None,
            stored_day(write_off) if write_off else None)


async def turnover_since(uow: UnitOfWork, branch: str, member_id: str, day: date) -> Decimal:
    """What the member's invoices issued from ``day`` on total excl. VAT."""
    pipeline: list[Document] = [
        {"$match": {"branch": branch, "member_id": member_id, "issue_date": {"$gte": iso(day)}}},
        {"$group": {"_id": None, "total": {"$sum": {"$toDecimal": "$amount_excl_vat"}}}},
    ]
    rows = [row async for row in await uow.db[INVOICES].aggregate(pipeline, session=uow.session)]
    return dec(rows[0]["total"]) if rows else ZERO


async def loans_outstanding(uow: UnitOfWork, branch: str, member_id: str,
                            other_than: str) -> int:
    """How many of the member's loans, other than ``other_than``, are still owed."""
    return await uow.db[LOANS].count_documents(
        {"branch": branch, "member_id": member_id, "status": {"$in": list(OUTSTANDING_LOAN)},
         "_id": {"$ne": other_than}}, session=uow.session)


async def find_loan(uow: UnitOfWork, loan_id: str) -> Document | None:
    return await _state(uow).get(uow, LOANS, loan_id)


def save_loan(uow: UnitOfWork, loan_id: str, changes: Document) -> None:
    """Stage these fields of the loan (created if missing), written at the commit."""
    _state(uow).update(LOANS, loan_id, fields={**changes, "updated_at": uow.clock.now()})


async def read_loan(db: AsyncDatabase[Document], loan_id: str) -> Document | None:
    """The loan as committed (outside any transaction)."""
    return await db[LOANS].find_one({"_id": loan_id})


async def loan_page(database: Database, branch: str, member_id: str | None, status: str | None,
                    cursor: str | None, limit: int,
                    order: Order = "oldest") -> tuple[list[Document], str | None]:
    """One page of the branch's loans (of one member, of one status when given), in the order
    applied (loan ids are UUIDv7), or newest first."""
    query: Document = {"branch": branch}
    if member_id:
        query["member_id"] = member_id
    if status:
        query["status"] = status
    return await find_page(database, LOANS, query, cursor, limit, order=order)


async def loans_to_pay_out(uow: UnitOfWork, branch: str) -> list[Document]:
    """The branch's approved loans not yet in a disbursement file, oldest first."""
    found = await _state(uow).find(uow, LOANS, {"branch": branch, "status": "approved"})
    return sorted(found, key=lambda doc: str(doc["_id"]))


def save_disbursement(uow: UnitOfWork, disbursement_id: str, changes: Document) -> None:
    """Stage these fields of the disbursement file (created if missing)."""
    _state(uow).update(DISBURSEMENTS, disbursement_id,
                       fields={**changes, "updated_at": uow.clock.now()})


async def find_disbursement(uow: UnitOfWork, disbursement_id: str) -> Document | None:
    return await _state(uow).get(uow, DISBURSEMENTS, disbursement_id)


async def read_disbursement(db: AsyncDatabase[Document],
                            disbursement_id: str) -> Document | None:
    """The disbursement file as committed (outside any transaction)."""
    return await db[DISBURSEMENTS].find_one({"_id": disbursement_id})


async def loans_being_repaid(uow: UnitOfWork, branch: str) -> list[Document]:
    """The branch's disbursed loans, oldest first."""
    found = await _state(uow).find(uow, LOANS, {"branch": branch, "status": "disbursed"})
    return sorted(found, key=lambda doc: str(doc["_id"]))


def save_direct_debit(uow: UnitOfWork, collection_id: str, changes: Document) -> None:
    """Stage these fields of the direct debit file (created if missing)."""
    _state(uow).update(DIRECT_DEBITS, collection_id,
                       fields={**changes, "updated_at": uow.clock.now()})


async def find_direct_debit(uow: UnitOfWork, collection_id: str) -> Document | None:
    return await _state(uow).get(uow, DIRECT_DEBITS, collection_id)


async def read_direct_debit(db: AsyncDatabase[Document], collection_id: str) -> Document | None:
    """The direct debit file as committed (outside any transaction)."""
    return await db[DIRECT_DEBITS].find_one({"_id": collection_id})


async def loans_to_check(db: AsyncDatabase[Document], today: date, limit: int) -> list[str]:
    """Disbursed loans with an instalment fallen due or missed by ``today``."""
    cursor = db[LOANS].find({"status": "disbursed", "next_check": {"$lte": iso(today)}},
                            {"_id": 1}).limit(limit)
    return [doc["_id"] async for doc in cursor]


async def loan_postings(db: AsyncDatabase[Document],
                        branches: list[str]) -> AsyncIterator[Document]:
    """Every transfer moving the ``loans`` account: its loan, accounts and amount."""
    query = {"branch": {"$in": branches}, "$or": [{"debit": "loans"}, {"credit": "loans"}]}
    async for doc in db[TRANSFERS].find(query, {"reference": 1, "debit": 1, "credit": 1,
                                                "amount": 1}):
        yield doc


async def paid_out_loans(db: AsyncDatabase[Document],
                         branches: list[str]) -> AsyncIterator[Document]:
    """The loans booked in the ledger: being paid out, repaid, ended."""
    async for doc in db[LOANS].find({"branch": {"$in": branches}, "status": {
            "$in": ["paying_out", "disbursed", "repaid", "defaulted", "recovered",
                    "written_off"]}}):
        yield doc
