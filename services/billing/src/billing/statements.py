"""Importing camt.053 bank statements: every credit line booked or parked, exactly once."""

from __future__ import annotations

from collections import Counter
from typing import Any

from smart_shared.mongo import UnitOfWork

from billing.domain.camt053 import BankStatement
from billing.payments import IncomingPayment, StatementBookings, booked_keys, receive_payment
from billing.store import STATEMENTS


async def import_statement(
    uow: UnitOfWork, branch: str, statement: BankStatement
) -> dict[str, Any]:
    """Book each credit line by its structured communication and report what became of it.

    Lines already booked (the same statement imported again, or an overlapping one) are
    reported as ``already_booked`` and change nothing.
    """
    lines: list[dict[str, Any]] = []
    booked = await booked_keys(uow, [f"camt053:{line.dedup_key}" for line in statement.lines
                                     if line.credit])
    # the statement's invoices in one query; its bookings written once, before the commit
    bookings = uow.staged(StatementBookings)
    await bookings.read(uow, branch, [line.structured_reference for line in statement.lines
                                      if line.credit and line.structured_reference])
    for line in statement.lines:
        report: dict[str, Any] = {
            "key": line.dedup_key,
            "amount": {"amount": str(line.amount), "currency": line.currency},
            "booked_on": line.booked_on.isoformat(),
            "reference": line.structured_reference or line.remittance,
        }
        if not line.credit:
            lines.append({**report, "outcome": "not_a_credit"})
            continue
        result = await receive_payment(uow, IncomingPayment(
            branch=branch, amount=line.amount, currency=line.currency,
            received_on=line.booked_on, payer_iban=line.payer_iban, payer_name=line.payer_name,
            reference=line.structured_reference, source=f"camt.053:{statement.statement_id}",
            dedup_key=f"camt053:{line.dedup_key}",
        ), booked=booked, bookings=bookings)
        lines.append({**report, **result})
    await uow.db[STATEMENTS].update_one(
        {"_id": f"{branch}:{statement.account_iban}:{statement.statement_id}"},
        {"$setOnInsert": {"first_imported_at": uow.clock.now()},
         "$inc": {"imports": 1}},
        upsert=True, session=uow.session,
    )
    summary = Counter(str(line["outcome"]) for line in lines)
    return {
        "statement_id": statement.statement_id,
        "account": statement.account_iban,
        "summary": dict(summary),
        "lines": lines,
    }
