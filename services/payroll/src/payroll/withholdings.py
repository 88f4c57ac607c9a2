"""Loan instalments the fund announced (``InstalmentDue``), withheld from the member's next
salaries: never more than the loan's share of a net, never making it negative; what could not be
withheld stays due for the next salary.

The open instalments of the members whose salaries a unit of work makes due are read once, when
the first salary needs them, and what is withheld is written once, just before the commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from pymongo import UpdateOne
from smart_shared.codec import decimal128, iso, stored_amount
from smart_shared.events import (
    DirectDebitRequested,
    DirectDebitReturned,
    InstalmentDue,
    LoanDefaulted,
    LoanRepaid,
    SalaryBreakdown,
)
from smart_shared.money import Money
from smart_shared.mongo import Document, UnitOfWork
from smart_shared.withholding import withholdable

from payroll.store import LOAN_INSTALMENTS

ZERO = Decimal("0.00")


async def note_instalment_due(uow: UnitOfWork, event: InstalmentDue) -> None:
    """Keep the instalment to withhold (a repeated announcement changes nothing)."""
    await uow.db[LOAN_INSTALMENTS].update_one(
        {"_id": f"{event.loan_id}:{event.number}"},
        {"$setOnInsert": {
            "branch": event.branch, "member_id": event.member_id, "loan_id": event.loan_id,
            "number": event.number, "due_date": iso(event.due_date),
            "amount": decimal128(event.amount.amount), "withheld": decimal128(ZERO),
            "share": str(event.max_withholding_share), "settled": False}},
        upsert=True, session=uow.session)


async def stop_withholding(uow: UnitOfWork, event: LoanRepaid | LoanDefaulted) -> None:
    """The loan ended (repaid, early or not, or defaulted): nothing of it is withheld any more."""
    await uow.db[LOAN_INSTALMENTS].update_many(
        {"loan_id": event.loan_id, "settled": False}, {"$set": {"settled": True}},
        session=uow.session)


async def follow_direct_debit(uow: UnitOfWork,
                              event: DirectDebitRequested | DirectDebitReturned) -> None:
    """The fund collects the instalment by direct debit: nothing of it is withheld meanwhile;
    the debit returned, it is withheld again."""
    await uow.db[LOAN_INSTALMENTS].update_one(
        {"_id": f"{event.loan_id}:{event.number}"},
        {"$set": {"direct_debit": isinstance(event, DirectDebitRequested)}},
        session=uow.session)


class LoanDues:
    """The open instalments of a unit of work's members, and what its salaries withhold."""

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


async def withhold_instalments(uow: UnitOfWork, member_id: str, breakdown: SalaryBreakdown
                               ) -> tuple[SalaryBreakdown, list[dict[str, Any]]]:
    """The salary with the member's due instalments withheld from its net, oldest first, and
    what was withheld for each (loan, number, amount)."""
    dues = uow.staged(LoanDues)
    net = breakdown.net.amount
    withheld: list[dict[str, Any]] = []
    total = ZERO
    for doc in await dues.of(uow, member_id):
        # the share caps the whole salary's withholding, not each instalment's
        share = Decimal(doc["share"])
        amount = min(withholdable(dues.outstanding(doc), net, share),
                     withholdable(net, net, share) - total)
        if amount <= 0:
            continue
        dues.withhold(doc, amount)
        total += amount
        withheld.append({"loan_id": doc["loan_id"], "number": doc["number"],
                         "amount": Money.of(amount)})
    if not withheld:
        return breakdown, []
    return breakdown.model_copy(update={
        "loan_withheld": Money.of(total),
        "paid": Money.of(breakdown.paid.amount - total)}), withheld
