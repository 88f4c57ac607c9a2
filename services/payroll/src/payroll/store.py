"""Payroll's MongoDB collections, every read and write of them, and their indexes: its own
salaries and payment runs, and the projections of other services' events it needs (members'
payout details, contracts with their guarantee and invoice, the fund's loan instalments).

Days are stored as ISO strings (they sort as dates), amounts as the wire's money documents, and
the loan instalments' amounts as Decimal128 (the database adds them up), all through
``smart_shared.codec``.

A consumer batch runs in one snapshot transaction, so the documents it read stay its own until it
commits: another transaction that changes one of them in between makes this one fail with a
write conflict and start again on a fresh unit of work.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pymongo import ReturnDocument, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from smart_shared.codec import ZERO, decimal128, iso, stored_amount
from smart_shared.events import (
    ContractSigned,
    InstalmentDue,
    MemberActivated,
    MemberErased,
    MemberUpdated,
    SalaryBreakdown,
    WorkCompleted,
)
from smart_shared.http import Order, find_page
from smart_shared.mongo import (
    Database,
    Document,
    KnownDocuments,
    StagedInserts,
    UnitOfWork,
    set_fields,
)
from smart_shared.projections import StagedUpdates, keep_if_newer

MEMBERS = "members"
"""member_id → payout details, activities, erased; ``version`` drops stale updates."""
CONTRACTS = "contracts"
"""contract_id → what ContractSigned said, completion, cancellation, guarantee decision,
invoice and its payment, and the ``salary_id`` once the salary is due."""
INVOICES = "invoices"
"""invoice_id → contract_id and payment day."""
SALARIES = "salaries"
"""salary_id → breakdown, pay date, status ``due`` → ``in_run`` → ``paid``."""
LOAN_INSTALMENTS = "loan_instalments"
"""loan_id:number → an instalment the fund announced: amount, share of a net, withheld so far."""
PAYMENT_RUNS = "payment_runs"
"""run_id → the salaries it carries, its SEPA file and the file's message id (which the bank's
status reports name), status ``open`` → ``confirmed``."""


async def create_indexes(db: AsyncDatabase[Document]) -> None:
    """Exactly one salary per contract; due salaries by branch and pay date; lists by member."""
    await db[SALARIES].create_index("contract_id", unique=True, name="one_salary_per_contract")
    await db[SALARIES].create_index(
        [("branch", 1), ("status", 1), ("pay_date", 1)], name="due_by_pay_date"
    )
    await db[SALARIES].create_index([("branch", 1), ("member_id", 1), ("_id", 1)],
                                    name="by_member")
    await db[CONTRACTS].create_index("member_id", name="by_member")
    await db[LOAN_INSTALMENTS].create_index([("member_id", 1), ("settled", 1)],
                                            name="open_by_member")
    await db[PAYMENT_RUNS].create_index([("branch", 1), ("_id", 1)], name="by_branch")
    # the scheduler opens one run per branch and pay date, whatever the replicas and restarts
    await db[PAYMENT_RUNS].create_index(
        [("branch", 1), ("pay_date", 1)], unique=True, name="one_scheduled_run_per_pay_date",
        partialFilterExpression={"opened_by": "scheduler"})
    await db[PAYMENT_RUNS].create_index([("branch", 1), ("message_id", 1)],
                                        name="by_payment_file")


# ------------------------------------------------------------------------------------ members


class MemberUpdates(StagedUpdates):
    """The batch's conditional member updates, sent in event order in one ``bulk_write``: each
    keeps its own condition (only a newer version changes the member), checked by the server."""

    collection = MEMBERS


def keep_member(uow: UnitOfWork, event: MemberActivated | MemberUpdated | MemberErased) -> None:
    """Keep the member's facts unless the projection already holds this version or a newer one
    (a stale or repeated update): one conditional update, a new member inserted, sent with the
    batch's other member updates."""
    facts: Document
    if isinstance(event, MemberActivated):
        facts = {
            "branch": event.branch,
            "payout": event.payout.model_dump(mode="json"),
            "activities": [a.model_dump(mode="json") for a in event.activities],
            "contact": event.contact.model_dump(mode="json") if event.contact else None,
            "erased": False,
        }
    elif isinstance(event, MemberUpdated):
        erased = event.status == "erased"
        facts = {
            "branch": event.branch,
            "status": event.status,
            "payout": None if erased else event.payout.model_dump(mode="json"),
            "activities": [] if erased else [a.model_dump(mode="json") for a in event.activities],
            "contact": (None if erased or not event.contact
                        else event.contact.model_dump(mode="json")),
            "erased": erased,
        }
    else:
        facts = {"branch": event.branch, "status": "erased", "payout": None, "activities": [],
                 "contact": None, "erased": True}
    uow.staged(MemberUpdates).updates.append(keep_if_newer(event.member_id, event.version, facts))


async def members_of(uow: UnitOfWork, member_ids: Iterable[str],
                     contact_only: bool = False) -> dict[str, Document]:
    """The members' projections (or only their contacts), by id, with one query."""
    wanted = list(dict.fromkeys(member_ids))
    if not wanted:
        return {}
    projection = {"contact": 1} if contact_only else None
    return {doc["_id"]: doc async for doc in uow.db[MEMBERS].find(
        {"_id": {"$in": wanted}}, projection, session=uow.session)}


# ---------------------------------------------------------------------------------- contracts

# Facts a contract keeps once (its salary) or only when newer (the guarantee decision): the write
# of a change to them expects them as they were read.
_GUARDED = ("salary_id", "guarantee_version")


class ContractChanged(RuntimeError):
    """A contract changed between this transaction's read and its write."""


class Contracts:
    """The contract documents of a unit of work: read with one ``$in`` query, changed in memory by
    the use cases in event order, then written with one ``bulk_write`` of each one's final state.

    A use case replaces a document's top-level fields and never changes a value in place, so a
    shallow copy keeps the document as it was read."""

    def __init__(self) -> None:
        self._read = KnownDocuments(CONTRACTS)  # as last read or written
        self._current: dict[str, Document] = {}

    async def read(self, uow: UnitOfWork, contract_ids: Iterable[str]) -> None:
        """Read the contracts not read yet (one query)."""
        for contract_id in await self._read.read(uow, contract_ids):
            doc = self._read.current(contract_id)
            if doc is not None:
                self._current[contract_id] = dict(doc)

    async def get(self, uow: UnitOfWork, contract_id: str, branch: str, member_id: str
                  ) -> Document:
        """The contract as this unit of work has it; a new one carries its branch and member."""
        if contract_id not in self._read:
            await self.read(uow, [contract_id])
        contract = self._current.setdefault(contract_id, {"_id": contract_id})
        contract.setdefault("branch", branch)
        contract.setdefault("member_id", member_id)
        return contract

    async def write(self, uow: UnitOfWork) -> None:
        operations: list[UpdateOne] = []
        for contract_id, contract in self._current.items():
            before = self._read.current(contract_id)
            if before is None:
                fields = {name: value for name, value in contract.items() if name != "_id"}
                operations.append(UpdateOne({"_id": contract_id}, {"$set": fields},
                                            upsert=True))
                continue
            changed = {name: value for name, value in contract.items()
                       if name not in before or before[name] != value}
            removed = [name for name in before if name not in contract]
            if not changed and not removed:
                continue
            expected: Document = {"_id": contract_id}
            for name in _GUARDED:
                if name in changed or name in removed:
                    expected[name] = before.get(name)
            update: dict[str, Any] = {}
            if changed:
                update["$set"] = changed
            if removed:
                update["$unset"] = dict.fromkeys(removed, "")
            operations.append(UpdateOne(expected, update))
        for contract_id, contract in self._current.items():
            self._read.remember(contract_id, dict(contract))
        if not operations:
            return
        result = await uow.db[CONTRACTS].bulk_write(operations, ordered=True,
                                                    session=uow.session)
        if result.matched_count + result.upserted_count != len(operations):
            raise ContractChanged("a contract changed while its events were handled")


def signed_facts(event: ContractSigned) -> Document:
    """What a contract's projection keeps of its signature."""
    return {
        "signed": True,
        "activity_kind": event.activity.kind,
        "activity": event.activity.model_dump(mode="json"),
        "amount_excl_vat": event.amount_excl_vat.model_dump(mode="json"),
        "expenses": event.expenses.model_dump(mode="json"),
        "first_work_day": iso(event.first_work_day),
        "last_work_day": iso(event.last_work_day),
        "work_days": [iso(day) for day in event.work_days],
    }


def completed_facts(event: WorkCompleted, traceparent: str | None) -> Document:
    """What a contract's projection keeps of its completion (and the trace its salary joins)."""
    return {"completed": True, "last_work_day": iso(event.last_work_day),
            "completed_at": event.completed_at, "traceparent": traceparent}


def cancelled_facts(cancelled_at: datetime) -> Document:
    return {"cancelled": True, "cancelled_at": cancelled_at}


def decision_facts(decision: str, version: int) -> Document:
    """The fund's guarantee decision on the contract, with the version that made it."""
    return {"guarantee": decision, "guarantee_version": version}


def decision_is_newer(contract: Document, version: int) -> bool:
    """The decision of ``version`` is newer than the one the contract holds, if any."""
    known = contract.get("guarantee_version")
    return (0 if known is None else known) < version


def invoice_paid_facts(invoice_id: str, paid_on: date) -> Document:
    return {"invoice_id": invoice_id, "invoice_paid": True, "invoice_paid_on": iso(paid_on)}


# ----------------------------------------------------------------------------------- invoices


class Invoices:
    """Facts of the batch's invoices, merged per invoice in event order: one upsert each, all in
    one ``bulk_write`` (nothing in payroll reads them back within a batch)."""

    def __init__(self) -> None:
        self.facts: dict[str, Document] = {}

    def record(self, invoice_id: str, facts: Document) -> None:
        self.facts.setdefault(invoice_id, {}).update(facts)

    async def write(self, uow: UnitOfWork) -> None:
        facts, self.facts = self.facts, {}
        await set_fields(uow, INVOICES, facts)


def keep_invoice_issued(uow: UnitOfWork, invoice_id: str, contract_id: str, branch: str,
                        number: str) -> None:
    uow.staged(Invoices).record(invoice_id, {"contract_id": contract_id, "branch": branch,
                                             "number": number})


def keep_invoice_paid(uow: UnitOfWork, invoice_id: str, contract_id: str, branch: str,
                      paid_on: date) -> None:
    uow.staged(Invoices).record(invoice_id, {"contract_id": contract_id, "branch": branch,
                                             "paid_on": iso(paid_on)})


# ------------------------------------------------------------------------------------ salaries


class NewSalaries(StagedInserts):
    """The salaries made due in a unit of work, inserted together when it flushes."""

    collection = SALARIES


def stage_salary(uow: UnitOfWork, salary_id: str, contract: Document, guaranteed: bool,
                 pay_date: date, breakdown: SalaryBreakdown, withheld: list[dict[str, Any]],
                 now: datetime) -> None:
    """The new salary of ``contract``, inserted with the other salaries of the unit of work just
    before it commits (one command), as is the contract's claim."""
    uow.staged(NewSalaries).documents.append({
        "_id": salary_id,
        "branch": contract["branch"],
        "contract_id": contract["_id"],
        "member_id": contract["member_id"],
        "activity_kind": contract["activity_kind"],
        "last_work_day": contract["last_work_day"],
        "guaranteed": guaranteed,
        "pay_date": iso(pay_date),
        "breakdown": breakdown.model_dump(mode="json"),
        "status": "due",
        "payment_run_id": None,
        "loan_withholdings": [{**w, "amount": w["amount"].to_document()} for w in withheld],
        "version": 1 + len(withheld),
        "due_at": now,
        "traceparent": contract.get("traceparent"),
    })


async def salary_document(db: AsyncDatabase[Document], salary_id: str) -> Document | None:
    return await db[SALARIES].find_one({"_id": salary_id})


async def salaries_page(database: Database, branch: str, member_id: str | None,
                        status: str | None, cursor: str | None, limit: int,
                        order: Order = "oldest") -> tuple[list[Document], str | None]:
    """One page of the branch's salaries (of one member, in one status, if given)."""
    query: Document = {"branch": branch}
    if member_id is not None:
        query["member_id"] = member_id
    if status is not None:
        query["status"] = status
    # find_page takes the Database (it reads `.db`; an AsyncDatabase would answer any attribute)
    return await find_page(database, SALARIES, query, cursor, limit, order=order)


async def due_salaries(uow: UnitOfWork, branch: str, pay_date: date) -> list[Document]:
    """The branch's due salaries payable on or before ``pay_date``, oldest first."""
    return await uow.db[SALARIES].find(
        {"branch": branch, "status": "due", "pay_date": {"$lte": iso(pay_date)}},
        session=uow.session,
    ).sort("_id", 1).to_list(None)


async def has_due_salary(db: AsyncDatabase[Document], branch: str, pay_date: date) -> bool:
    return bool(await db[SALARIES].find_one(
        {"branch": branch, "status": "due", "pay_date": {"$lte": iso(pay_date)}}, {"_id": 1}))


async def salaries_at_risk(db: AsyncDatabase[Document], branch: str, pay_date: date,
                           session: AsyncClientSession | None = None) -> int:
    """Guaranteed salaries of the branch still due with a pay date on or before ``pay_date``."""
    return await db[SALARIES].count_documents(
        {"branch": branch, "status": "due", "guaranteed": True,
         "pay_date": {"$lte": iso(pay_date)}}, session=session)


_IN_RUN = "in_run"


def _in_run(run_id: str) -> Document:
    return {"status": _IN_RUN, "payment_run_id": run_id}


async def claim_salaries(uow: UnitOfWork, salary_ids: list[str], run_id: str) -> set[str]:
    """Move the salaries still due into the run (one conditional update for them all); the ids of
    those it moved."""
    if not salary_ids:
        return set()
    claimed = await uow.db[SALARIES].update_many(
        {"_id": {"$in": salary_ids}, "status": "due"},
        {"$set": _in_run(run_id)},
        session=uow.session,
    )
    if claimed.modified_count == len(salary_ids):
        return set(salary_ids)
    # some were no longer due (they were read in this transaction, so a concurrent change would
    # rather have failed it with a write conflict): keep the ones moved into this run
    moved = uow.db[SALARIES].find({"_id": {"$in": salary_ids}, "payment_run_id": run_id},
                                  {"_id": 1}, session=uow.session)
    return {doc["_id"] async for doc in moved}


async def salaries_in_run(uow: UnitOfWork, run_id: str, salary_ids: list[str]
                          ) -> dict[str, Document]:
    """Those of the salaries still in the run, by id (one query)."""
    if not salary_ids:
        return {}
    return {salary["_id"]: salary async for salary in uow.db[SALARIES].find(
        {"_id": {"$in": salary_ids}, **_in_run(run_id)}, session=uow.session)}


async def mark_paid(uow: UnitOfWork, run_id: str, payments: list[tuple[str, str]],
                    paid_on: date) -> None:
    """Each (salary id, end-to-end id) of the run paid, with one command; the salaries were read
    in this transaction, so each update finds its salary still in the run (a concurrent change
    fails the transaction)."""
    if not payments:
        return
    paid = await uow.db[SALARIES].bulk_write([
        UpdateOne({"_id": salary_id, **_in_run(run_id)},
                  {"$set": {"status": "paid", "paid_on": iso(paid_on),
                            "end_to_end_id": end_to_end_id},
                   "$inc": {"version": 1}})
        for salary_id, end_to_end_id in payments
    ], ordered=True, session=uow.session)
    if paid.modified_count != len(payments):
        raise RuntimeError(f"payment run {run_id} changed while it was confirmed")


def rejection_document(run_id: str, end_to_end_id: str, report_id: str, on: date, iban: str,
                       code: str | None, reason: str, account_unusable: bool) -> Document:
    """Why the bank returned a salary's transfer, as kept on the salary."""
    return {"payment_run_id": run_id, "end_to_end_id": end_to_end_id,
            "status_report_id": report_id, "on": iso(on), "iban": iban, "code": code,
            "reason": reason, "account_unusable": account_unusable}


async def return_to_due(uow: UnitOfWork, run_id: str, rejections: dict[str, Document]) -> None:
    """Each salary of ``rejections`` (still in the run) due again, its rejection kept on it,
    with one command."""
    if not rejections:
        return
    written = await uow.db[SALARIES].bulk_write([
        UpdateOne({"_id": salary_id, **_in_run(run_id)}, {
            "$set": {"status": "due", "rejection": rejection},
            "$unset": {"payment_run_id": ""},
            "$push": {"rejections": rejection},
            "$inc": {"version": 1},
        }) for salary_id, rejection in rejections.items()
    ], ordered=True, session=uow.session)
    if written.modified_count != len(rejections):
        raise RuntimeError(f"payment run {run_id} changed while its report was applied")


async def transfers_waiting(uow: UnitOfWork, run_id: str) -> int:
    """How many salaries of the run still wait for the bank's word."""
    return await uow.db[SALARIES].count_documents(_in_run(run_id), session=uow.session)


async def payslip_facts(db: AsyncDatabase[Document], salary: Document
                        ) -> tuple[Document, Document]:
    """The member and the contract of ``salary`` as payroll's projections hold them (empty when
    unknown)."""
    member = await db[MEMBERS].find_one({"_id": salary["member_id"]}) or {}
    contract = await db[CONTRACTS].find_one({"_id": salary["contract_id"]}) or {}
    return member, contract


async def salary_with_facts(db: AsyncDatabase[Document], salary_id: str
                            ) -> tuple[Document, Document, Document] | None:
    """The salary ``salary_id`` with what ``payslip_facts`` gives of it, in one read."""
    cursor = await db[SALARIES].aggregate([
        {"$match": {"_id": salary_id}},
        {"$limit": 1},
        {"$lookup": {"from": MEMBERS, "localField": "member_id", "foreignField": "_id",
                     "as": "_member"}},
        {"$lookup": {"from": CONTRACTS, "localField": "contract_id", "foreignField": "_id",
                     "as": "_contract"}},
    ])
    found = await cursor.to_list(1)
    if not found:
        return None
    salary = found[0]
    members, contracts = salary.pop("_member"), salary.pop("_contract")
    return salary, members[0] if members else {}, contracts[0] if contracts else {}


# -------------------------------------------------------------------------------- payment runs


async def insert_payment_run(uow: UnitOfWork, run: Document) -> None:
    await uow.db[PAYMENT_RUNS].insert_one(run, session=uow.session)


def payment_run_of(run_id: str, branch: str, pay_date: date, execution_date: date,
                   items: list[Document], excluded: list[dict[str, str]], total: Document,
                   opened_by: str, opened_at: datetime, pain001: bytes, message_id: str,
                   payment_blocks: list[str]) -> Document:
    """A payment run just opened, as stored."""
    return {
        "_id": run_id,
        "branch": branch,
        "pay_date": iso(pay_date),
        "execution_date": iso(execution_date),
        "status": "open",
        "items": items,
        "excluded": excluded,
        "count": len(items),
        "total": total,
        "opened_by": opened_by,
        "opened_at": opened_at,
        "confirmed_at": None,
        "pain001": pain001.decode(),
        "message_id": message_id,
        "payment_blocks": payment_blocks,
    }


async def payment_run_document(db: AsyncDatabase[Document], run_id: str) -> Document | None:
    return await db[PAYMENT_RUNS].find_one({"_id": run_id})


async def payment_runs_page(database: Database, branch: str, cursor: str | None, limit: int,
                            order: Order = "oldest") -> tuple[list[Document], str | None]:
    """One page of the branch's payment runs, in the order they were opened (or newest first)."""
    return await find_page(database, PAYMENT_RUNS, {"branch": branch}, cursor, limit,
                           order=order)


async def confirm_open_run(uow: UnitOfWork, branch: str, run_id: str, now: datetime
                           ) -> Document | None:
    """The branch's run confirmed if it was open (``None`` if it was not)."""
    return await uow.db[PAYMENT_RUNS].find_one_and_update(
        {"_id": run_id, "branch": branch, "status": "open"},
        {"$set": {"status": "confirmed", "confirmed_at": now}},
        session=uow.session, return_document=ReturnDocument.AFTER,
    )


async def payment_run(uow: UnitOfWork, run_id: str) -> Document | None:
    return await uow.db[PAYMENT_RUNS].find_one({"_id": run_id}, session=uow.session)


async def run_of_payment_file(uow: UnitOfWork, branch: str, message_id: str) -> Document | None:
    """The branch's run whose pain.001 file has ``message_id``."""
    return await uow.db[PAYMENT_RUNS].find_one({"branch": branch, "message_id": message_id},
                                               session=uow.session)


async def record_status_report(uow: UnitOfWork, run_id: str, report_id: str,
                               confirmed_at: datetime | None) -> None:
    """The report noted on the open run, which it confirms when ``confirmed_at`` is given."""
    update: dict[str, Any] = {"$addToSet": {"status_reports": report_id}}
    if confirmed_at is not None:
        update["$set"] = {"status": "confirmed", "confirmed_at": confirmed_at}
    await uow.db[PAYMENT_RUNS].update_one({"_id": run_id, "status": "open"}, update,
                                          session=uow.session)


async def scheduled_run_exists(db: AsyncDatabase[Document], branch: str, pay_date: date,
                               opened_by: str) -> bool:
    return bool(await db[PAYMENT_RUNS].find_one(
        {"branch": branch, "pay_date": iso(pay_date), "opened_by": opened_by}, {"_id": 1}))


# ------------------------------------------------------------------------- loan instalments


async def keep_instalment(uow: UnitOfWork, event: InstalmentDue) -> None:
    """Keep the instalment to withhold (a repeated announcement changes nothing)."""
    await uow.db[LOAN_INSTALMENTS].update_one(
        {"_id": f"{event.loan_id}:{event.number}"},
        {"$setOnInsert": {
            "branch": event.branch, "member_id": event.member_id, "loan_id": event.loan_id,
            "number": event.number, "due_date": iso(event.due_date),
            "amount": decimal128(event.amount.amount), "withheld": decimal128(ZERO),
            "share": str(event.max_withholding_share), "settled": False}},
        upsert=True, session=uow.session)


async def settle_loan(uow: UnitOfWork, loan_id: str) -> None:
    """Nothing of the loan's instalments is withheld any more."""
    await uow.db[LOAN_INSTALMENTS].update_many(
        {"loan_id": loan_id, "settled": False}, {"$set": {"settled": True}},
        session=uow.session)


async def set_instalment_debited(uow: UnitOfWork, loan_id: str, number: int,
                                 debited: bool) -> None:
    """Mark the instalment as being collected by direct debit (not withheld meanwhile), or no
    longer (the debit returned)."""
    await uow.db[LOAN_INSTALMENTS].update_one(
        {"_id": f"{loan_id}:{number}"}, {"$set": {"direct_debit": debited}},
        session=uow.session)


class LoanDues:
    """The open instalments of a unit of work's members, and what its salaries withhold: read
    once, when the first salary needs them, and written once, just before the commit."""

    def __init__(self) -> None:
        self._expected: set[str] = set()
        self._members: set[str] = set()
        self._open: dict[str, Document] = {}
        self._withheld: dict[str, Decimal] = {}

    def expect(self, members: Iterable[str]) -> None:
        """Members whose salaries the unit of work may make due: read together when one is."""
        self._expected.update(members)

    async def of(self, uow: UnitOfWork, member_id: str) -> list[Document]:
        """The member's instalments still due, oldest first."""
        if member_id not in self._members:
            wanted = {member_id, *self._expected} - self._members
            self._members |= wanted
            async for doc in uow.db[LOAN_INSTALMENTS].find(
                    {"member_id": {"$in": sorted(wanted)}, "settled": False,
                     "direct_debit": {"$ne": True}},
                    session=uow.session):
                self._open[doc["_id"]] = doc
        mine = [doc for doc in self._open.values() if doc["member_id"] == member_id
                and self.outstanding(doc) > 0]
        return sorted(mine, key=lambda doc: (doc["due_date"], doc["_id"]))

    def outstanding(self, doc: Document) -> Decimal:
        return (stored_amount(doc["amount"]) - stored_amount(doc["withheld"])
                - self._withheld.get(doc["_id"], ZERO))

    def withhold(self, doc: Document, amount: Decimal) -> None:
        self._withheld[doc["_id"]] = self._withheld.get(doc["_id"], ZERO) + amount

    async def write(self, uow: UnitOfWork) -> None:
        withheld, self._withheld = self._withheld, {}
        operations = [UpdateOne({"_id": ident}, {
            "$inc": {"withheld": decimal128(amount)},
            "$set": {"settled": stored_amount(self._open[ident]["amount"])
                     <= stored_amount(self._open[ident]["withheld"]) + amount}})
            for ident, amount in withheld.items()]
        for ident, amount in withheld.items():
            doc = self._open[ident]
            self._open[ident] = {**doc, "withheld": stored_amount(doc["withheld"]) + amount}
        if operations:
            await uow.db[LOAN_INSTALMENTS].bulk_write(operations, ordered=True,
                                                      session=uow.session)
