"""The portal's one read model: each contract's timeline, projected from the six topics.

Every fact about a contract (signed, declared, invoiced, guaranteed, salary due, paid, reminded…)
becomes one entry; a member's erasure removes their entries. Open pages receive new entries by
server-sent events (``stream``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date, datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from smart_shared.consumer import EventHandlers
from smart_shared.events import Event
from smart_shared.events.catalogue import (
    AdvancePaid,
    AdvanceRecovered,
    ContractCancelled,
    ContractSigned,
    CreditNoteIssued,
    DebtOverdue,
    DebtRecovered,
    DebtWrittenOff,
    EmploymentDeclared,
    GuaranteeDeclined,
    GuaranteeGranted,
    InstalmentWithheld,
    InvoiceIssued,
    InvoicePaid,
    LossAbsorbed,
    MemberErased,
    PaymentReceived,
    ReminderSent,
    SalaryDue,
    SalaryPaid,
    WorkCompleted,
)
from smart_shared.money import Money
from smart_shared.mongo import Document, UnitOfWork, set_fields

TIMELINE = "timeline"

CONTRACT_STEPS: tuple[type[Event], ...] = (
    ContractSigned, EmploymentDeclared, WorkCompleted, ContractCancelled,
    InvoiceIssued, PaymentReceived, InvoicePaid, DebtOverdue, CreditNoteIssued,
    SalaryDue, SalaryPaid, InstalmentWithheld,
    GuaranteeGranted, GuaranteeDeclined, AdvancePaid, AdvanceRecovered, LossAbsorbed,
    ReminderSent, DebtRecovered, DebtWrittenOff,
)
# the facts a page shows beside a step, when the event carries them
FACTS = ("number", "amount", "total", "balance_due", "due_date", "pay_date", "paid_on",
         "first_work_day", "last_work_day", "declaration_reference", "level", "reason",
         "total_claimed", "guaranteed")

handlers = EventHandlers()


class TimelineEntries:
    """The entries a batch adds, written with one command before it commits."""

    def __init__(self) -> None:
        self.entries: dict[str, Document] = {}

    async def write(self, uow: UnitOfWork) -> None:
        entries, self.entries = self.entries, {}
        await set_fields(uow, TIMELINE, entries)


def _plain(value: Any) -> Any:
    if isinstance(value, Money):
        return {"amount": str(value.amount), "currency": value.currency}
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def entry_of(event: Event) -> tuple[str, Document]:
    """The timeline entry of one fact about a contract (its id is the fact's own)."""
    contract_id = str(event.__dict__["contract_id"])
    step = type(event).__name__
    ident = f"{contract_id}:{step}:{event.aggregate_id}:{event.version}"
    facts = {name: _plain(getattr(event, name)) for name in FACTS if hasattr(event, name)}
    return ident, {
        "contract_id": contract_id,
        "member_id": getattr(event, "member_id", None),
        "branch": event.branch,
        "step": step,
        "at": event.occurred_at,
        "facts": facts,
    }


@handlers.on(*CONTRACT_STEPS)
async def add_step(uow: UnitOfWork, event: Event) -> None:
    ident, entry = entry_of(event)
    uow.staged(TimelineEntries).entries[ident] = entry


@handlers.on(MemberErased)
async def forget_member(uow: UnitOfWork, event: MemberErased) -> None:
    await uow.staged(TimelineEntries).write(uow)
    await uow.db[TIMELINE].delete_many({"member_id": event.member_id}, session=uow.session)


async def create_indexes(db: AsyncDatabase[Document]) -> None:
    await db[TIMELINE].create_index([("contract_id", ASCENDING), ("at", ASCENDING)])
    await db[TIMELINE].create_index("member_id")


async def entries(db: AsyncDatabase[Document], contract_id: str) -> list[Document]:
    """A contract's timeline, oldest first."""
    cursor = db[TIMELINE].find({"contract_id": contract_id}).sort([("at", 1), ("_id", 1)])
    return [doc async for doc in cursor]


async def stream(db: AsyncDatabase[Document], contract_id: str, known: set[str],
                 poll_seconds: float = 0.5, lasting_seconds: float = 600,
                 ) -> AsyncIterator[Document]:
    """The contract's entries not in ``known`` as they arrive; ends after ``lasting_seconds``
    (the browser's EventSource then reconnects)."""
    loop = asyncio.get_running_loop()
    ends = loop.time() + lasting_seconds
    while loop.time() < ends:
        for entry in await entries(db, contract_id):
            if entry["_id"] not in known:
                known.add(entry["_id"])
                yield entry
        await asyncio.sleep(poll_seconds)
