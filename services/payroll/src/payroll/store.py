"""MongoDB collections of payroll: its own salaries and payment runs, and the projections of
other services' events it needs (members' payout details, contracts with their guarantee and
invoice)."""

from __future__ import annotations

from pymongo.asynchronous.database import AsyncDatabase
from smart_shared.mongo import Document

MEMBERS = "members"
"""member_id → payout details, activities, erased; ``version`` drops stale updates."""
CONTRACTS = "contracts"
"""contract_id → what ContractSigned said, completion, cancellation, guarantee decision,
invoice and its payment, and the ``salary_id`` once the salary is due."""
INVOICES = "invoices"
"""invoice_id → contract_id and payment day."""
SALARIES = "salaries"
"""salary_id → breakdown, pay date, status ``due`` → ``in_run`` → ``paid``."""
LOAN_INSTALMENTS = "loan_instalments"
"""loan_id:number → an instalment the fund announced: amount, share of a net, withheld so far."""
PAYMENT_RUNS = "payment_runs"
"""run_id → the salaries it carries, its SEPA file and the file's message id (which the bank's
status reports name), status ``open`` → ``confirmed``."""


async def create_indexes(db: AsyncDatabase[Document]) -> None:
    """Exactly one salary per contract; due salaries by branch and pay date; lists by member."""
    await db[SALARIES].create_index("contract_id", unique=True, name="one_salary_per_contract")
    await db[SALARIES].create_index(
        [("branch", 1), ("status", 1), ("pay_date", 1)], name="due_by_pay_date"
    )
    await db[SALARIES].create_index([("branch", 1), ("member_id", 1), ("_id", 1)],
                                    name="by_member")
    await db[CONTRACTS].create_index("member_id", name="by_member")
    await db[LOAN_INSTALMENTS].create_index([("member_id", 1), ("settled", 1)],
                                            name="open_by_member")
    await db[PAYMENT_RUNS].create_index([("branch", 1), ("_id", 1)], name="by_branch")
    # the scheduler opens one run per branch and pay date, whatever the replicas and restarts
    await db[PAYMENT_RUNS].create_index(
        [("branch", 1), ("pay_date", 1)], unique=True, name="one_scheduled_run_per_pay_date",
        partialFilterExpression={"opened_by": "scheduler"})
    await db[PAYMENT_RUNS].create_index([("branch", 1), ("message_id", 1)],
                                        name="by_payment_file")
