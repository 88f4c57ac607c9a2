"""The projections of other services' events, kept for a whole unit of work and written once,
just before it commits: a consumer batch costs one command per collection, not one per event.

A batch runs in one snapshot transaction, so the documents it read stay its own until it commits:
another transaction that changes one of them in between makes this one fail with a write conflict
and start again on a fresh unit of work.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pymongo import UpdateOne
from smart_shared.mongo import Document, KnownDocuments, UnitOfWork, set_fields

from payroll.store import CONTRACTS, INVOICES, MEMBERS

# Facts a contract keeps once (its salary) or only when newer (the guarantee decision): the write
# of a change to them expects them as they were read.
_GUARDED = ("salary_id", "guarantee_version")


class ContractChanged(RuntimeError):
    """A contract changed between this transaction's read and its write."""


class Contracts:
    """The contract documents of a unit of work: read with one ``$in`` query, changed in memory by
    the handlers in event order, then written with one ``bulk_write`` of each one's final state.

    A handler replaces a document's top-level fields and never changes a value in place, so a
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


class MemberUpdates:
    """The batch's conditional member updates, sent in event order in one ``bulk_write``: each
    keeps its own condition (only a newer version changes the member), checked by the server."""

    def __init__(self) -> None:
        self.updates: list[UpdateOne] = []

    async def write(self, uow: UnitOfWork) -> None:
        updates, self.updates = self.updates, []
        if updates:
            await uow.db[MEMBERS].bulk_write(updates, ordered=True, session=uow.session)
