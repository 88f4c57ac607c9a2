"""The scheduled job that tells collection about invoices unpaid after their due date."""

from __future__ import annotations

from smart_shared.codec import iso
from smart_shared.events.catalogue import DebtOverdue
from smart_shared.mongo import UnitOfWork
from smart_shared.service import Platform
from smart_shared.telemetry import continue_trace

from billing.store import INVOICES, read_invoice

BATCH = 200


async def flag_overdue_debts(platform: Platform) -> int:
    """``DebtOverdue`` once for each invoice whose due date has passed with a balance left."""
    today = platform.clock.today()
    candidates = await platform.db[INVOICES].find(
        {"overdue_watch": True, "due_date": {"$lt": iso(today)}}, {"_id": 1}
    ).limit(BATCH).to_list(BATCH)
    flagged = 0
    for candidate in candidates:

        async def flag(uow: UnitOfWork, invoice_id: str = candidate["_id"]) -> int:
            doc = await uow.db[INVOICES].find_one(
                {"_id": invoice_id, "overdue_watch": True, "status": "open"}, session=uow.session
            )
            invoice = read_invoice(doc)
            if doc is None or invoice is None:
                return 0
            version = invoice.version + 1
            if invoice.balance_due <= 0:
                await uow.db[INVOICES].update_one(
                    {"_id": invoice_id}, {"$set": {"overdue_watch": False}}, session=uow.session
                )
                return 0
            await uow.db[INVOICES].update_one(
                {"_id": invoice_id, "version": invoice.version},
                {"$set": {"overdue_watch": False, "overdue_since": iso(today),
                          "version": version}},
                session=uow.session,
            )
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
