"""A defaulted loan in collection's hands: each payment the member makes on the case is booked
(interest fallen due first, then capital); written off, what is left of the capital is the
fund's loss — only then.

Transfer ids come from the loan and collection's payment id, so a payment books once.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from smart_shared.codec import iso
from smart_shared.events import LoanPaymentCollected, LoanWrittenOff
from smart_shared.mongo import UnitOfWork

from fund import store
from fund.domain.loan import loan_loss, repayment_transfers

log = logging.getLogger("fund.recoveries")
ZERO = Decimal("0.00")


async def book_case_payment(uow: UnitOfWork, event: LoanPaymentCollected) -> None:
    """Book what the member paid on the case; everything paid, the loan is recovered."""
    doc = await store.find_loan(uow, event.loan_id)
    if not doc or doc["status"] != "defaulted":
        log.warning("payment %s on the case of loan %s, which is not in collection",
                    event.payment_id, event.loan_id)
        return
    balance = store.dec(doc["balance"])
    interest_left = store.dec(doc.get("interest_due")) - store.dec(doc.get("recovered_interest"))
    interest = min(event.amount.amount, interest_left)
    capital = min(event.amount.amount - interest, balance)
    if capital + interest < event.amount.amount:
        log.warning("payment %s on loan %s pays %s beyond what is owed", event.payment_id,
                    event.loan_id, event.amount.amount - capital - interest)
    transfers = repayment_transfers(doc["branch"], event.loan_id, 0, f"case:{event.payment_id}",
                                    capital, interest)
    if not transfers or not await store.book_all(uow, transfers):
        return  # nothing owed, or booked already
    changes: dict[str, Any] = {
        "balance": str(balance - capital),
        "recovered": str(store.dec(doc.get("recovered")) + capital + interest),
        "recovered_interest": str(store.dec(doc.get("recovered_interest")) + interest)}
    if balance == capital and interest_left == interest:
        changes |= {"status": "recovered", "recovered_on": iso(event.received_on)}
    store.save_loan(uow, event.loan_id, changes)


async def absorb_loan_loss(uow: UnitOfWork, event: LoanWrittenOff) -> None:
    """The case was written off: what is left of the capital is booked as the fund's loss
    (``losses ← loans``); the unpaid interest was never booked as income, so it costs nothing."""
    doc = await store.find_loan(uow, event.loan_id)
    if not doc or doc["status"] != "defaulted":
        log.warning("write-off of loan %s, which is not in collection", event.loan_id)
        return
    balance = store.dec(doc["balance"])
    if balance > 0:
        await store.book_all(uow, [loan_loss(doc["branch"], event.loan_id, balance)])
    store.note_write_off(uow, event.member_id, event.written_off_on)
    store.save_loan(uow, event.loan_id, {
        "status": "written_off", "written_off_on": iso(event.written_off_on),
        "balance": "0.00", "lost": str(balance)})
