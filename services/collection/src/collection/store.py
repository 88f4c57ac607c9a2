"""MongoDB documents of the collection service: dunning cases and the invoices' payment facts;
the cases of members' defaulted loans and the members' contacts.

``cases`` holds one dunning case per overdue invoice (unique ``invoice_id``). ``invoices`` keeps
what billing told us about payments and credit notes of any invoice, whether or not a case is open
yet, so that events arriving in any order give the same result. Amounts are decimal strings,
days ISO dates (``YYYY-MM-DD``, which sort as dates).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from pymongo import ASCENDING, ReplaceOne
from pymongo.asynchronous.database import AsyncDatabase
from smart_shared.codec import stored_amount, stored_day
from smart_shared.http import find_page
from smart_shared.mongo import Database, Document, KnownDocuments, UnitOfWork
from smart_shared.projections import keep_if_newer

from collection.domain import BalanceChange, CaseState, Claim, Instalment, TakenStep

CASES = "cases"
INVOICES = "invoices"

ACTIVE = ("open", "paused")
STATUSES = ("open", "paused", "recovered", "written_off", "credited")


async def create_indexes(db: AsyncDatabase[Document]) -> None:
    """One case per invoice; the scheduler's and the list's look-ups."""
    await db[CASES].create_index("invoice_id", unique=True, name="one_case_per_invoice")
    await db[CASES].create_index(
        [("status", ASCENDING), ("next_step_on", ASCENDING)], name="steps_due"
    )
    await db[CASES].create_index(
        [("status", ASCENDING), ("plan.check_on", ASCENDING)], name="plans_to_check"
    )
    await db[CASES].create_index(
        [("branch", ASCENDING), ("status", ASCENDING), ("level", ASCENDING), ("_id", ASCENDING)],
        name="staff_list",
    )
    await create_loan_case_indexes(db)


def case_state(doc: Document) -> CaseState:
    """The schedule's view of a stored case."""
    return CaseState(
        branch=doc["branch"],
        kind=doc["client"]["kind"],
        due_date=stored_day(doc["due_date"]),
        steps=tuple(TakenStep(s["level"], stored_day(s["on"]), s.get("channel", "email"))
                    for s in doc.get("steps", [])),
        paused=doc["status"] == "paused",
        closed=doc["status"] not in ACTIVE,
    )


def balance_changes(doc: Document) -> list[BalanceChange]:
    """Payments and credit notes after the case opened, in billing's order."""
    return [BalanceChange(stored_day(change["on"]), stored_amount(change["balance"]))
            for change in doc.get("balance_changes", [])]


def claim_document(claim: Claim) -> dict[str, str]:
    return {
        "outstanding": str(claim.outstanding),
        "interest": str(claim.interest),
        "compensation": str(claim.compensation),
        "total": str(claim.total),
    }


def last_claim(doc: Document) -> Claim | None:
    stored = doc.get("last_claim")
    if not stored:
        return None
    return Claim(stored_amount(stored["outstanding"]), stored_amount(stored["interest"]),
                 stored_amount(stored["compensation"]))


def instalments(doc: Document) -> list[Instalment]:
    plan = doc.get("plan") or {}
    return [Instalment(stored_day(i["due_on"]), stored_amount(i["amount"]))
            for i in plan.get("instalments", [])]


def timeline_entry(uow: UnitOfWork, kind: str, **details: Any) -> Document:
    """One line of a case's history, stamped with the platform clock."""
    now: datetime = uow.clock.now()
    entry: Document = {"at": now, "on": uow.clock.today().isoformat(), "kind": kind}
    entry.update({k: v for k, v in details.items() if v is not None})
    return entry


class InvoiceFacts:
    """What one unit of work knows of its invoices: billing's facts and the dunning case of each.

    A consumer batch reads them for all its invoices at once (one query per collection), its
    handlers read and change them here, and the changed facts are written with one
    ``bulk_write`` just before the commit. Cases are written at once by the use cases; the copy
    kept here follows each write, so a later event of the batch sees the case as it now is.
    """

    def __init__(self) -> None:
        self._invoices = KnownDocuments(INVOICES)
        self._cases = KnownDocuments(CASES, key="invoice_id")
        self._changed: dict[str, Document] = {}

    async def read(self, uow: UnitOfWork, invoice_ids: Iterable[str]) -> None:
        wanted = list(invoice_ids)
        await self._invoices.read(uow, wanted)
        await self._cases.read(uow, wanted)

    async def invoice(self, uow: UnitOfWork, invoice_id: str) -> Document | None:
        return await self._invoices.get(uow, invoice_id)

    async def case(self, uow: UnitOfWork, invoice_id: str) -> Document | None:
        return await self._cases.get(uow, invoice_id)

    def change_invoice(self, facts: Document) -> None:
        self._invoices.remember(facts["_id"], facts)
        self._changed[facts["_id"]] = facts

    def case_written(self, doc: Document) -> None:
        self._cases.remember(doc["invoice_id"], doc)

    async def write(self, uow: UnitOfWork) -> None:
        changed, self._changed = self._changed, {}
        if changed:
            await uow.db[INVOICES].bulk_write(
                [ReplaceOne({"_id": invoice_id}, facts, upsert=True)
                 for invoice_id, facts in changed.items()],
                ordered=True, session=uow.session,
            )


async def find_case(uow: UnitOfWork, case_id: str, status: str | None = None,
                    ) -> Document | None:
    """The case, in the unit of work (only when it has ``status``, if given)."""
    query: Document = {"_id": case_id} if status is None else {"_id": case_id, "status": status}
    return await uow.db[CASES].find_one(query, session=uow.session)


async def insert_case(uow: UnitOfWork, doc: Document) -> None:
    await uow.db[CASES].insert_one(doc, session=uow.session)


async def set_case_fields(uow: UnitOfWork, case_id: str, fields: Document) -> None:
    """Fields that follow from the case itself (the next step's day, the plan's next check)."""
    await uow.db[CASES].update_one({"_id": case_id}, {"$set": fields}, session=uow.session)


async def record_step(uow: UnitOfWork, doc: Document, changes: Document, step: Document,
                      entries: list[Document]) -> bool:
    """A step taken on the open case as read (its version); False if it changed meanwhile."""
    result = await uow.db[CASES].update_one(
        {"_id": doc["_id"], "version": doc["version"], "status": "open"},
        {"$set": changes, "$push": {"steps": step, "timeline": {"$each": entries}}},
        session=uow.session,
    )
    return bool(result.modified_count == 1)


async def record_balance_change(uow: UnitOfWork, case_id: str, sets: Document, change: Document,
                                entries: list[Document]) -> None:
    await uow.db[CASES].update_one(
        {"_id": case_id},
        {"$set": sets, "$push": {"balance_changes": change, "timeline": {"$each": entries}}},
        session=uow.session,
    )


async def pause_for_plan(uow: UnitOfWork, case_id: str, plan: Document, entry: Document) -> None:
    await uow.db[CASES].update_one(
        {"_id": case_id},
        {"$set": {"status": "paused", "plan": plan}, "$push": {"timeline": entry}},
        session=uow.session,
    )


async def resume_after_missed_plan(uow: UnitOfWork, case_id: str, next_step_on: str | None,
                                   entry: Document) -> None:
    await uow.db[CASES].update_one(
        {"_id": case_id, "status": "paused"},
        {"$set": {"status": "open", "plan.status": "missed", "plan.check_on": None,
                  "next_step_on": next_step_on},
         "$push": {"timeline": entry}},
        session=uow.session,
    )


async def close_written_off(uow: UnitOfWork, doc: Document, version: int, today: date,
                            entry: Document) -> None:
    await uow.db[CASES].update_one(
        {"_id": doc["_id"], "status": doc["status"]},
        {"$set": {"status": "written_off", "version": version, "next_step_on": None,
                  "closed_on": today.isoformat()},
         "$push": {"timeline": entry}},
        session=uow.session,
    )


async def mark_letter_posted(uow: UnitOfWork, case_id: str, index: int, today: date,
                             entry: Document) -> None:
    """The letter at ``timeline[index]`` posted, and the posting added to the timeline."""
    # one update cannot both change an entry of the timeline and add one to it
    await uow.db[CASES].update_one(
        {"_id": case_id, f"timeline.{index}.posting": "to_be_posted"},
        {"$set": {f"timeline.{index}.posting": "posted",
                  f"timeline.{index}.posted_on": today.isoformat()}},
        session=uow.session,
    )
    await uow.db[CASES].update_one({"_id": case_id}, {"$push": {"timeline": entry}},
                                   session=uow.session)


async def read_case(db: AsyncDatabase[Document], case_id: str) -> Document | None:
    """A case read outside a transaction (the API's pages, the mail relay's attachments)."""
    return await db[CASES].find_one({"_id": case_id})


async def case_of_invoice(db: AsyncDatabase[Document], invoice_id: str) -> Document | None:
    return await db[CASES].find_one({"invoice_id": invoice_id})


async def cases_page(database: Database, branch: str, status: str | None, level: str | None,
                     cursor: str | None, limit: int) -> tuple[list[Document], str | None]:
    """A page of the branch's cases, by status and level (``"none"``: no step taken yet)."""
    query: dict[str, Any] = {"branch": branch}
    if status is not None:
        query["status"] = status
    if level is not None:
        query["level"] = None if level == "none" else level
    return await find_page(database, CASES, query, cursor, limit)


async def note_plan_request(uow: UnitOfWork, invoice_id: str, entry: Document) -> str | None:
    """Add a client's plan request to the invoice's open case; its id, or None without one."""
    doc = await uow.db[CASES].find_one_and_update(
        {"invoice_id": invoice_id, "status": "open"},
        {"$set": {"plan_requested_on": entry["on"]}, "$push": {"timeline": entry}},
        session=uow.session)
    return None if doc is None else str(doc["_id"])


async def cases_with_a_step_due(db: AsyncDatabase[Document], today: date,
                                limit: int) -> list[str]:
    return await _ids(db, {"status": "open", "next_step_on": {"$lte": today.isoformat()}}, limit)


async def plans_to_check(db: AsyncDatabase[Document], today: date, limit: int) -> list[str]:
    return await _ids(db, {"status": "paused", "plan.check_on": {"$lte": today.isoformat()}},
                      limit)


async def _ids(db: AsyncDatabase[Document], query: Document, limit: int) -> list[str]:
    return [doc["_id"] async for doc in db[CASES].find(query, {"_id": 1}).limit(limit)]


async def waiting_for_staff(uow: UnitOfWork, branch: str) -> tuple[int, int]:
    """Debts handed over for legal recovery, and letters waiting to be posted, of ``branch``."""
    handed_over = await uow.db[CASES].count_documents(
        {"branch": branch, "status": "open", "level": "legal_handover"}, session=uow.session)
    to_post = await uow.db[CASES].count_documents(
        {"branch": branch, "timeline": {"$elemMatch": {"kind": "reminder_sent",
                                                       "posting": "to_be_posted"}}},
        session=uow.session)
    return handed_over, to_post


# ------------------------------------------------------------------ members' defaulted loans

LOAN_CASES = "loan_cases"
MEMBER_CONTACTS = "member_contacts"


async def create_loan_case_indexes(db: AsyncDatabase[Document]) -> None:
    """One case per defaulted loan; the scheduler's and the list's look-ups."""
    await db[LOAN_CASES].create_index("loan_id", unique=True, name="one_case_per_loan")
    await db[LOAN_CASES].create_index([("status", ASCENDING), ("next_step_on", ASCENDING)],
                                      name="steps_due")
    await db[LOAN_CASES].create_index(
        [("branch", ASCENDING), ("status", ASCENDING), ("_id", ASCENDING)], name="staff_list")


async def keep_member_contact(uow: UnitOfWork, member_id: str, version: int,
                              contact: Document | None) -> None:
    """The member's contact (None: forgotten) unless a newer version is kept."""
    await uow.db[MEMBER_CONTACTS].bulk_write(
        [keep_if_newer(member_id, version, {"contact": contact})], session=uow.session)


async def member_contact(uow: UnitOfWork, member_id: str) -> Document | None:
    doc = await uow.db[MEMBER_CONTACTS].find_one({"_id": member_id}, session=uow.session)
    return doc.get("contact") if doc else None


async def loan_case_of(uow: UnitOfWork, loan_id: str) -> Document | None:
    return await uow.db[LOAN_CASES].find_one({"loan_id": loan_id}, session=uow.session)


async def insert_loan_case(uow: UnitOfWork, doc: Document) -> None:
    await uow.db[LOAN_CASES].insert_one(doc, session=uow.session)


async def find_loan_case(uow: UnitOfWork, case_id: str) -> Document | None:
    return await uow.db[LOAN_CASES].find_one({"_id": case_id}, session=uow.session)


async def save_loan_case(uow: UnitOfWork, case_id: str, changes: Document) -> None:
    await uow.db[LOAN_CASES].update_one({"_id": case_id}, {"$set": changes},
                                        session=uow.session)


async def read_loan_case(db: AsyncDatabase[Document], case_id: str) -> Document | None:
    """A loan case read outside a transaction (the API's pages)."""
    return await db[LOAN_CASES].find_one({"_id": case_id})


async def loan_cases_page(database: Database, branch: str, member_id: str | None,
                          status: str | None, cursor: str | None,
                          limit: int) -> tuple[list[Document], str | None]:
    query: dict[str, Any] = {"branch": branch}
    if member_id is not None:
        query["member_id"] = member_id
    if status is not None:
        query["status"] = status
    return await find_page(database, LOAN_CASES, query, cursor, limit)


async def loan_cases_with_a_step_due(db: AsyncDatabase[Document], today: date,
                                     limit: int) -> list[str]:
    return [doc["_id"] async for doc in db[LOAN_CASES].find(
        {"status": "open", "next_step_on": {"$lte": today.isoformat()}}, {"_id": 1}).limit(limit)]


async def loan_cases_to_follow(uow: UnitOfWork, branch: str) -> int:
    """Open loan cases of ``branch`` at their last step, or whose member could not be mailed."""
    return await uow.db[LOAN_CASES].count_documents(
        {"branch": branch, "status": "open", "$or": [
            {"level": "write_off_proposed"}, {"steps": {"$elemMatch": {"mailed": False}}}]},
        session=uow.session)
