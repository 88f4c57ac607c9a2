"""The scheduled job that tells collection about invoices unpaid after their due date."""

from __future__ import annotations

from smart_shared.events.catalogue import DebtOverdue
from smart_shared.mongo import UnitOfWork
from smart_shared.service import Platform
from smart_shared.telemetry import continue_trace

from billing.store import (
    mark_overdue,
    overdue_candidates,
    read_invoice,
    stop_overdue_watch,
    watched_open_invoice,
)

BATCH = 200


async def flag_overdue_debts(platform: Platform) -> int:
    """``DebtOverdue`` once for each invoice whose due date has passed with a balance left."""
    today = platform.clock.today()
    flagged = 0
    for candidate in await overdue_candidates(platform.db, today, BATCH):

        async def flag(uow: UnitOfWork, invoice_id: str = candidate) -> int:
            doc = await watched_open_invoice(uow, invoice_id)
            invoice = read_invoice(doc)
            if doc is None or invoice is None:
                return 0
            version = invoice.version + 1
            if invoice.balance_due <= 0:
                await stop_overdue_watch(uow, invoice_id)
                return 0
            await mark_overdue(uow, invoice, today)
            with continue_trace("invoice overdue", doc.get("traceparent"),
                                invoice_id=invoice_id):
                uow.publish(DebtOverdue(
                    branch=invoice.branch, version=version, occurred_at=uow.clock.now(),
                    invoice_id=invoice_id, contract_id=invoice.contract_id,
                    member_id=invoice.member_id or "", number=invoice.number,
                    client=invoice.client, issue_date=invoice.issue_date,
                    due_date=invoice.due_date, total=invoice.money(invoice.total),
                    outstanding=invoice.money(invoice.balance_due),
                    description="; ".join(line.description for line in invoice.lines),
                ))
            return 1

        flagged += await platform.database.transaction(flag)
    return flagged
