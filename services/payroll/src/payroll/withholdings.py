"""Loan instalments the fund announced (``InstalmentDue``), withheld from the member's next
salaries: never more than the loan's share of a net, never making it negative; what could not be
withheld stays due for the next salary.

The open instalments of the members whose salaries a unit of work makes due are read once, when
the first salary needs them, and what is withheld is written once, just before the commit
(``store.LoanDues``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from smart_shared.codec import ZERO
from smart_shared.events import (
    DirectDebitRequested,
    DirectDebitReturned,
    InstalmentDue,
    LoanDefaulted,
    LoanRepaid,
    SalaryBreakdown,
)
from smart_shared.money import Money
from smart_shared.mongo import UnitOfWork
from smart_shared.withholding import withholdable

from payroll import store


async def note_instalment_due(uow: UnitOfWork, event: InstalmentDue) -> None:
    """Keep the instalment to withhold from the member's next salaries (a repeated announcement
    changes nothing)."""
    await store.keep_instalment(uow, event)


async def stop_withholding(uow: UnitOfWork, event: LoanRepaid | LoanDefaulted) -> None:
    """The loan ended (repaid, early or not, or defaulted): nothing of it is withheld any more."""
    await store.settle_loan(uow, event.loan_id)


async def follow_direct_debit(uow: UnitOfWork,
                              event: DirectDebitRequested | DirectDebitReturned) -> None:
    """The fund collects the instalment by direct debit: nothing of it is withheld meanwhile;
    the debit returned, it is withheld again."""
    await store.set_instalment_debited(uow, event.loan_id, event.number,
                                       isinstance(event, DirectDebitRequested))


async def withhold_instalments(uow: UnitOfWork, member_id: str, breakdown: SalaryBreakdown
                               ) -> tuple[SalaryBreakdown, list[dict[str, Any]]]:
    """The salary with the member's due instalments withheld from its net, oldest first, and
    what was withheld for each (loan, number, amount)."""
    dues = uow.staged(store.LoanDues)
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
