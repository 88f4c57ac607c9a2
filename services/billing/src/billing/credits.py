"""A client's credit (an overpayment) deducted from their next invoice when it is issued.

A consumer batch reads the credits of all its clients with one query; each invoice it issues
takes what it can of its client's credit, oldest first, and the invoices the credit leaves are
written together just before the commit, each conditional on the version it was read at.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from smart_shared.events.catalogue import CreditApplied
from smart_shared.mongo import Document, UnitOfWork

from billing.store import Invoice, account_fields, invoices_holding_credit, update_invoices

ClientKey = tuple[str, str]  # (branch, client_key)


class ClientCredits:
    """The invoices holding credit of the clients a unit of work invoices, and their changes."""

    def __init__(self) -> None:
        self._by_client: dict[ClientKey, list[Invoice]] = {}
        self._changes: dict[str, tuple[int, Document]] = {}

    async def read(self, uow: UnitOfWork, clients: Iterable[ClientKey]) -> None:
        """Read the credits of the clients this unit of work does not know yet, in one query."""
        wanted = [c for c in dict.fromkeys(clients) if c not in self._by_client]
        if not wanted:
            return
        for client in wanted:
            self._by_client[client] = []
        for doc in await invoices_holding_credit(uow, wanted):
            key = (doc["branch"], doc["client"]["client_key"])
            if key in self._by_client:
                self._by_client[key].append(Invoice.model_validate(doc))

    async def take(self, uow: UnitOfWork, client: ClientKey, at_most: Decimal,
                   for_invoice: Invoice) -> list[tuple[Invoice, Decimal]]:
        """Deduct up to ``at_most`` of the client's credit for ``for_invoice``, oldest credit
        first → what came from which invoice; publishes ``CreditApplied`` for each."""
        await self.read(uow, [client])
        taken: list[tuple[Invoice, Decimal]] = []
        holders = self._by_client[client]
        for position, holder in enumerate(holders):
            if at_most <= 0:
                break
            amount = min(holder.account.credit, at_most)
            if amount <= 0:
                continue
            after = holder.account.release_credit(amount)
            version = holder.version + 1
            first_version = self._changes.get(holder.invoice_id, (holder.version, {}))[0]
            changes = {**account_fields(after), "version": version}
            self._changes[holder.invoice_id] = (first_version, changes)
            holders[position] = holder.model_copy(update={
                "paid": after.paid, "credit": after.credit, "version": version})
            taken.append((holder, amount))
            at_most -= amount
            uow.publish(CreditApplied(
                branch=holder.branch, version=version, occurred_at=uow.clock.now(),
                invoice_id=holder.invoice_id, contract_id=holder.contract_id,
                member_id=holder.member_id or "", amount=holder.money(amount),
                to_invoice_id=for_invoice.invoice_id, to_number=for_invoice.number,
                credit=holder.money(after.credit)))
        return taken

    async def write(self, uow: UnitOfWork) -> None:
        changes, self._changes = self._changes, {}
        await update_invoices(uow, [(invoice_id, version, fields)
                                    for invoice_id, (version, fields) in changes.items()],
                              "the deduction of its credit")
