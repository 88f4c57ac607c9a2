"""Approved loans paid out: booked in the ledger and put in a SEPA credit transfer file from the
fund's account (staff download it for the bank), then confirmed (``LoanDisbursed``).

The disbursement is booked when the file is made, so two files can never lend the same euros,
and only from what the guarantees do not need (``domain.ledger.check_lending_floor``): a loan
the fund cannot afford today stays approved, for a later file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from smart_shared.auth import Principal, visible_or_404
from smart_shared.codec import iso
from smart_shared.events import LoanDisbursed
from smart_shared.ids import new_id
from smart_shared.money import Money
from smart_shared.mongo import Document, UnitOfWork
from smart_shared.problems import conflict
from smart_shared.rulepacks import UnknownRulePack
from smart_shared.sepa import Debtor, Transfer, sepa_credit_transfer_file

from fund import store
from fund.domain import GuaranteeReserveNeeded, post_in_order
from fund.domain.loan import disbursement
from fund.domain.rules import lending_rules


@dataclass(frozen=True)
class PayOutLoans:
    """Staff ask for the file paying out the branch's approved loans."""

    branch: str
    execution_date: date | None = None


@dataclass(frozen=True)
class ConfirmDisbursement:
    """Staff confirm the bank executed a disbursement file."""

    principal: Principal
    disbursement_id: str


def end_to_end_id(loan_id: str) -> str:
    """The loan's id as the bank reports it back (at most 35 characters)."""
    return loan_id.replace("-", "")[:35]


async def payee(uow: UnitOfWork, loan: Document) -> tuple[str, str] | None:
    """Who the loan is paid to (name, IBAN): a lease's supplier, else the member's payout
    account (None when the fund knows none yet)."""
    if loan["financing"] == "leasing":
        return loan["supplier"], loan["supplier_iban"]
    payout = await store.member_payout(uow, loan["member_id"])
    return (payout["holder_name"], payout["iban"]) if payout else None


async def pay_out_loans(uow: UnitOfWork, command: PayOutLoans) -> Document:
    """Book every approved loan the fund can afford and the file paying them; the others are
    held back with the reason."""
    today = uow.clock.today()
    try:
        account = lending_rules(command.branch, today).account
    except UnknownRulePack:
        raise conflict("The branch does not lend",
                       f"Branch {command.branch} has no lending in its rules on {today}") from None
    balances = {command.branch: await store.branch_balances(uow, command.branch)}
    disbursement_id = new_id()
    booked, payments, held = [], [], []
    for loan in await store.loans_to_pay_out(uow, command.branch):
        amount = store.dec(loan["amount"])
        to = await payee(uow, loan)
        if to is None:
            held.append({"loan_id": loan["_id"], "reason": "no payout account known"})
            continue
        try:
            transfer = disbursement(command.branch, loan["_id"], amount,
                                    balances[command.branch])
        except GuaranteeReserveNeeded as refused:
            held.append({"loan_id": loan["_id"], "reason": str(refused)})
            continue
        post_in_order([transfer], balances)
        booked.append(transfer)
        payments.append(Transfer(end_to_end_id(loan["_id"]), to[0], to[1], amount,
                                 f"SMart loan {loan['_id']}"))
        store.save_loan(uow, loan["_id"], {"status": "paying_out",
                                           "disbursement_id": disbursement_id,
                                           "transfer_id": transfer.id})
    if not booked:
        raise conflict("No loan to pay out", "No approved loan of branch "
                       f"{command.branch} can be paid out now" + (
                           f": {'; '.join(h['reason'] for h in held)}" if held else ""))
    await store.book_all(uow, booked)
    execution = command.execution_date or today
    pain001 = sepa_credit_transfer_file(
        Debtor(account.name.value, account.iban.value, account.bic.value), execution, payments)
    doc = {"branch": command.branch, "status": "sent", "created_on": iso(today),
           "execution_date": iso(execution), "loan_ids": [t.reference for t in booked],
           "total": str(sum(t.amount for t in booked)), "held_back": held,
           "pain001": pain001.decode()}
    store.save_disbursement(uow, disbursement_id, doc)
    return {**doc, "_id": disbursement_id}


async def confirm_disbursement(uow: UnitOfWork, command: ConfirmDisbursement) -> Document:
    """The bank paid the loans of the file: each is disbursed (``LoanDisbursed``)."""
    doc = visible_or_404(command.principal,
                         await store.find_disbursement(uow, command.disbursement_id),
                         "Disbursement", command.disbursement_id)
    if doc["status"] != "sent":
        raise conflict("The disbursement is confirmed already",
                       f"Disbursement {command.disbursement_id} is {doc['status']}")
    today = uow.clock.today()
    for loan_id in doc["loan_ids"]:
        loan = await store.find_loan(uow, loan_id)
        assert loan is not None
        version = int(loan["version"]) + 1
        common: dict[str, Any] = dict(branch=loan["branch"], version=version,
                                      occurred_at=uow.clock.now(), loan_id=loan_id,
                                      member_id=loan["member_id"])
        uow.publish(LoanDisbursed(
            **common, amount=Money.of(store.dec(loan["amount"])),
            paid_to="supplier" if loan["financing"] == "leasing" else "member",
            disbursement_id=command.disbursement_id, transfer_id=loan["transfer_id"],
            disbursed_on=today))
        store.save_loan(uow, loan_id, {"status": "disbursed", "disbursed_on": iso(today),
                                       "next_check": loan["schedule"][0]["due_date"],
                                       "version": version})
    store.save_disbursement(uow, command.disbursement_id,
                            {"status": "confirmed", "confirmed_on": iso(today)})
    return {**doc, "status": "confirmed", "confirmed_on": iso(today),
            "_id": command.disbursement_id}
