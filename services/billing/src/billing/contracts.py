"""Billing's projection of contracts, as one unit of work reads and changes it.

A consumer batch reads the contracts of all its events with one query before its handlers run;
the handlers record their facts (and an invoice's claim) on these documents, and the changes are
written with one bulk write just before the commit. Every change is a write to its contract in the
transaction, so a concurrent transaction that changes the same contract still meets a write
conflict and is retried, as it would after a direct update.
"""

from __future__ import annotations

from collections.abc import Iterable

from smart_shared.mongo import Document, KnownDocuments, UnitOfWork, set_fields

from billing.store import CONTRACTS


class Contracts:
    """The contracts a unit of work knows (``None``: not recorded yet) and its unwritten changes."""

    def __init__(self) -> None:
        self._known = KnownDocuments(CONTRACTS)
        self._changes: dict[str, Document] = {}

    async def read(self, uow: UnitOfWork, contract_ids: Iterable[str]) -> None:
        """Read the contracts this unit of work does not know yet, with one query."""
        await self._known.read(uow, contract_ids)

    async def get(self, uow: UnitOfWork, contract_id: str) -> Document | None:
        """The contract as this unit of work knows it, changes included."""
        return await self._known.get(uow, contract_id)

    def change(self, contract_id: str, fields: Document) -> Document:
        """Set ``fields`` on the contract (recording it if need be); returns it changed."""
        contract = {**(self._known.current(contract_id) or {"_id": contract_id}), **fields}
        self._known.remember(contract_id, contract)
        self._changes.setdefault(contract_id, {}).update(fields)
        return contract

    async def write(self, uow: UnitOfWork) -> None:
        changes, self._changes = self._changes, {}
        await set_fields(uow, CONTRACTS, changes)
