"""Refunding a client's overpayment to the account it came from: staff request it, another
staff member approves it (the credit leaves the invoice → ``OverpaymentRefunded``), and the
branch's approved refunds go to the bank in one SEPA credit transfer file (pain.001)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from smart_shared.codec import jsonable
from smart_shared.events.catalogue import OverpaymentRefunded
from smart_shared.ids import new_id
from smart_shared.mongo import Document, UnitOfWork
from smart_shared.problems import conflict, invalid, not_found
from smart_shared.sepa import Debtor, Transfer, sepa_credit_transfer_file

from billing.domain.rules import billing_rules
from billing.payments import find_invoice
from billing.store import (
    account_fields,
    approved_refunds,
    find_refund,
    insert_refund,
    last_payment_with_account,
    mark_refunds_filed,
    record_refund_decision,
    refund_waits,
    update_invoice,
)


@dataclass(frozen=True)
class RequestRefund:
    """Staff ask for an invoice's credit to go back to the payer (default: its last payer)."""

    branch: str
    invoice_id: str
    payee_iban: str | None
    payee_name: str | None
    requested_by: str


@dataclass(frozen=True)
class DecideRefund:
    """Another staff member approves or rejects a requested refund."""

    branch: str
    refund_id: str
    approve: bool
    decided_by: str


@dataclass(frozen=True)
class FileRefunds:
    """Staff ask for the transfer file of their branch's approved refunds."""

    branch: str


async def request_refund(uow: UnitOfWork, command: RequestRefund) -> dict[str, Any]:
    """Ask for the invoice's whole credit to be refunded, by default to the account of its last
    payment; nothing moves until another staff member approves."""
    invoice_id, payee_iban, payee_name = command.invoice_id, command.payee_iban, command.payee_name
    invoice = await find_invoice(uow, command.branch, invoice_id=invoice_id)
    if invoice is None:
        raise not_found("Invoice", invoice_id)
    credit = invoice.account.credit
    if credit <= 0:
        raise conflict("No credit to refund", f"Invoice {invoice.number} holds no credit")
    if await refund_waits(uow, invoice_id):
        raise conflict("Refund already requested",
                       f"A refund of invoice {invoice.number} waits for approval")
    if payee_iban is None:
        last = await last_payment_with_account(uow, invoice_id)
        if last is None:
            raise invalid("payee_iban", "no payment of the invoice names an account: give one")
        payee_iban, payee_name = last["payer_iban"], payee_name or last.get("payer_name")
    document: Document = {
        "_id": new_id(), "branch": invoice.branch, "invoice_id": invoice.invoice_id,
        "invoice_number": invoice.number, "amount": str(credit), "currency": invoice.currency,
        "payee_iban": payee_iban, "payee_name": payee_name or invoice.client.name,
        "status": "requested", "requested_by": command.requested_by,
        "requested_at": uow.clock.now(),
    }
    await insert_refund(uow, document)
    return refund_view(document)


async def decide_refund(uow: UnitOfWork, command: DecideRefund) -> dict[str, Any]:
    """Approve (the credit leaves the invoice → ``OverpaymentRefunded``) or reject a refund
    requested by someone else."""
    refund_id = command.refund_id
    refund = await find_refund(uow, refund_id, command.branch)
    if refund is None:
        raise not_found("Refund", refund_id)
    if refund["status"] != "requested":
        raise conflict("Refund already decided", f"The refund is {refund['status']}")
    if refund["requested_by"] == command.decided_by:
        raise conflict("Another person approves", "A refund is decided by someone other than "
                       "the person who requested it")
    changes: Document = {"status": "approved" if command.approve else "rejected",
                         "decided_by": command.decided_by, "decided_at": uow.clock.now()}
    if command.approve:
        await _release_credit(uow, refund)
    return refund_view(await record_refund_decision(uow, refund_id, changes))


async def _release_credit(uow: UnitOfWork, refund: Document) -> None:
    invoice = await find_invoice(uow, refund["branch"], invoice_id=refund["invoice_id"])
    amount = Decimal(refund["amount"])
    if invoice is None or invoice.account.credit < amount:
        raise conflict("Credit no longer there", "The credit was deducted from another invoice "
                       "since the refund was requested")
    after = invoice.account.release_credit(amount)
    version = invoice.version + 1
    await update_invoice(uow, invoice, {**account_fields(after), "version": version},
                         "the refund")
    uow.publish(OverpaymentRefunded(
        branch=invoice.branch, version=version, occurred_at=uow.clock.now(),
        invoice_id=invoice.invoice_id, contract_id=invoice.contract_id,
        member_id=invoice.member_id or "", refund_id=refund["_id"],
        amount=invoice.money(amount), approved_on=uow.clock.today(),
        credit=invoice.money(after.credit)))


async def refund_file(uow: UnitOfWork, command: FileRefunds) -> tuple[str, bytes]:
    """The pain.001 file of the branch's approved refunds not sent yet, from its collection
    account; they are marked sent in it."""
    branch = command.branch
    refunds = await approved_refunds(uow, branch)
    if not refunds:
        raise conflict("No refund to send", "No approved refund waits for a transfer file")
    today = uow.clock.today()
    seller = billing_rules(branch, today).seller
    content = sepa_credit_transfer_file(
        Debtor(seller.name.value, seller.iban.value, seller.bic.value), today,
        [Transfer(end_to_end_id=refund["_id"].replace("-", "")[:35],
                  holder_name=refund["payee_name"], iban=refund["payee_iban"],
                  amount=Decimal(refund["amount"]),
                  description=f"Refund of overpayment, invoice {refund['invoice_number']}")
         for refund in refunds])
    file_id = new_id()
    await mark_refunds_filed(uow, [refund["_id"] for refund in refunds], file_id,
                             uow.clock.now())
    return file_id, content


def refund_view(document: Document | None) -> dict[str, Any]:
    assert document is not None
    view = {name: value for name, value in document.items() if name != "_id"}
    amount = {"amount": view.pop("amount"), "currency": view.pop("currency")}
    shown: dict[str, Any] = jsonable({
        "refund_id": document["_id"], **view, "amount": amount,
        **{name: value.isoformat() for name, value in view.items()
           if isinstance(value, datetime)}})
    return shown
