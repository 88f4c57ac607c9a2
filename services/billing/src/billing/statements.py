"""Importing camt.053 bank statements: every credit line booked or parked, exactly once."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from smart_shared.mongo import UnitOfWork
from smart_shared.problems import Problem, invalid

from billing.domain.camt053 import BankStatement, StatementLine
from billing.domain.rules import collection_account_branch
from billing.payments import IncomingPayment, StatementBookings, booked_keys, receive_payment
from billing.store import record_statements_imported


def check_accounts(branch: str, statements: Sequence[BankStatement]) -> None:
    """Each statement must be of ``branch``'s collection account: another branch's account is
    refused (403) for this branch's staff, an account that is no branch's is refused (400)."""
    for statement in statements:
        field = f"{statement.where}/Acct/Id/IBAN"
        owner = collection_account_branch(statement.account_iban or "")
        if owner is None:
            raise invalid(field, f"{statement.account_iban} is no branch's collection account")
        if owner != branch:
            message = f"{statement.account_iban} is the collection account of branch {owner}"
            raise Problem(403, "Not your branch's account", f"{field}: {message}", "forbidden",
                          errors=[{"field": field, "message": message}])


def line_key(branch: str, line: StatementLine) -> str:
    """The payment's de-duplication key: the branch, then the account and the bank's reference
    or the line's content (both in the line's own key)."""
    return f"camt053:{branch}:{line.dedup_key}"


async def import_statements(
    uow: UnitOfWork, branch: str, statements: Sequence[BankStatement],
    message_id: str | None = None,
) -> dict[str, Any]:
    """Book each credit line of each statement of a file by its structured communication and
    report what became of it: the file's summary, each statement's, and every line.

    Lines already booked (the same statement imported again, or an overlapping one) are
    reported as ``already_booked`` and change nothing; lines the bank has not booked yet are
    reported as ``pending``. Whatever the number of statements and lines, the import costs
    the same few MongoDB commands.
    """
    check_accounts(branch, statements)
    credits = [line for statement in statements for line in statement.lines
               if line.credit and not line.pending]
    booked = await booked_keys(uow, [line_key(branch, line) for line in credits])
    # the statements' invoices in one query; their bookings written once, before the commit
    bookings = uow.staged(StatementBookings)
    await bookings.read(uow, branch, [line.structured_reference for line in credits
                                      if line.structured_reference])
    lines: list[dict[str, Any]] = []
    summaries = []
    for statement in statements:
        first = len(lines)
        for line in statement.lines:
            report: dict[str, Any] = {
                "statement_id": statement.statement_id,
                "key": line.dedup_key,
                "amount": {"amount": str(line.amount), "currency": line.currency},
                "booked_on": line.booked_on.isoformat(),
                "reference": line.structured_reference or line.remittance,
            }
            if line.pending:
                lines.append({**report, "outcome": "pending"})
            elif not line.credit:
                lines.append({**report, "outcome": "not_a_credit"})
            else:
                lines.append({**report, **await receive_payment(uow, IncomingPayment(
                    branch=branch, amount=line.amount, currency=line.currency,
                    received_on=line.booked_on, payer_iban=line.payer_iban,
                    payer_name=line.payer_name, reference=line.structured_reference,
                    source=f"camt.053:{statement.statement_id}",
                    dedup_key=line_key(branch, line),
                ), booked=booked, bookings=bookings)})
        summaries.append({"statement_id": statement.statement_id,
                          "account": statement.account_iban,
                          "summary": _summary(lines[first:])})
    await record_statements_imported(uow, [
        f"{branch}:{statement.account_iban}:{statement.statement_id}" for statement in statements])
    return {"message_id": message_id, "summary": _summary(lines), "statements": summaries,
            "lines": lines}


def _summary(lines: list[dict[str, Any]]) -> dict[str, int]:
    return dict(Counter(str(line["outcome"]) for line in lines))
