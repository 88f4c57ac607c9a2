"""A debt unpaid after its due date: collection is told once (``DebtOverdue``)."""

from __future__ import annotations

from smart_shared.events.catalogue import DebtOverdue
from smart_shared.mongo import UnitOfWork
from smart_shared.telemetry import continue_trace

from billing.store import mark_overdue, read_invoice, stop_overdue_watch, watched_open_invoice


async def flag_overdue_debt(uow: UnitOfWork, invoice_id: str) -> int:
    """``DebtOverdue`` for the invoice if a balance is left (1), else it is no longer watched
    (0). The job picks the invoices whose due date has passed."""
    doc = await watched_open_invoice(uow, invoice_id)
    invoice = read_invoice(doc)
    if doc is None or invoice is None:
        return 0
    if invoice.balance_due <= 0:
        await stop_overdue_watch(uow, invoice_id)
        return 0
    today = uow.clock.today()
    version = invoice.version + 1
    await mark_overdue(uow, invoice, today)
    with continue_trace("invoice overdue", doc.get("traceparent"), invoice_id=invoice_id):
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
