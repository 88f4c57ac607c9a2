"""Refunding a client's overpayment to the account it came from: staff request it, another
staff member approves it (the credit leaves the invoice → ``OverpaymentRefunded``), and the
branch's approved refunds go to the bank in one SEPA credit transfer file (pain.001)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pymongo import ReturnDocument
from smart_shared.auth import Principal
from smart_shared.codec import jsonable
from smart_shared.events.catalogue import OverpaymentRefunded
from smart_shared.ids import new_id
from smart_shared.mongo import Document, UnitOfWork
from smart_shared.problems import conflict, invalid, not_found
from smart_shared.sepa import Debtor, Transfer, sepa_credit_transfer_file

from billing.domain.rules import billing_rules
from billing.payments import find_invoice
from billing.store import INVOICES, PAYMENTS, REFUNDS, account_fields


async def request_refund(uow: UnitOfWork, principal: Principal, invoice_id: str,
                         payee_iban: str | None, payee_name: str | None) -> dict[str, Any]:
    """Ask for the invoice's whole credit to be refunded, by default to the account of its last
    payment; nothing moves until another staff member approves."""
    invoice = await find_invoice(uow, principal.branch, invoice_id=invoice_id)
    if invoice is None:
        raise not_found("Invoice", invoice_id)
    credit = invoice.account.credit
    if credit <= 0:
        raise conflict("No credit to refund", f"Invoice {invoice.number} holds no credit")
    if await uow.db[REFUNDS].find_one({"invoice_id": invoice_id, "status": "requested"},
                                      {"_id": 1}, session=uow.session):
        raise conflict("Refund already requested",
                       f"A refund of invoice {invoice.number} waits for approval")
    if payee_iban is None:
        last = await uow.db[PAYMENTS].find_one(
            {"invoice_id": invoice_id, "payer_iban": {"$type": "string"}},
            sort=[("booked_at", -1)], session=uow.session)
        if last is None:
            raise invalid("payee_iban", "no payment of the invoice names an account: give one")
        payee_iban, payee_name = last["payer_iban"], payee_name or last.get("payer_name")
    document: Document = {
        "_id": new_id(), "branch": invoice.branch, "invoice_id": invoice.invoice_id,
        "invoice_number": invoice.number, "amount": str(credit), "currency": invoice.currency,
        "payee_iban": payee_iban, "payee_name": payee_name or invoice.client.name,
        "status": "requested", "requested_by": principal.sub, "requested_at": uow.clock.now(),
    }
    await uow.db[REFUNDS].insert_one(document, session=uow.session)
    return refund_view(document)


async def decide_refund(uow: UnitOfWork, principal: Principal, refund_id: str,
                        approve: bool) -> dict[str, Any]:
    """Approve (the credit leaves the invoice → ``OverpaymentRefunded``) or reject a refund
    requested by someone else."""
    refund = await uow.db[REFUNDS].find_one({"_id": refund_id, "branch": principal.branch},
                                            session=uow.session)
    if refund is None:
        raise not_found("Refund", refund_id)
    if refund["status"] != "requested":
        raise conflict("Refund already decided", f"The refund is {refund['status']}")
    if refund["requested_by"] == principal.sub:
        raise conflict("Another person approves", "A refund is decided by someone other than "
                       "the person who requested it")
    changes: Document = {"status": "approved" if approve else "rejected",
                         "decided_by": principal.sub, "decided_at": uow.clock.now()}
    if approve:
        await _release_credit(uow, refund)
    updated = await uow.db[REFUNDS].find_one_and_update(
        {"_id": refund_id, "status": "requested"}, {"$set": changes},
        return_document=ReturnDocument.AFTER, session=uow.session)
    return refund_view(updated)


async def _release_credit(uow: UnitOfWork, refund: Document) -> None:
    invoice = await find_invoice(uow, refund["branch"], invoice_id=refund["invoice_id"])
    amount = Decimal(refund["amount"])
    if invoice is None or invoice.account.credit < amount:
        raise conflict("Credit no longer there", "The credit was deducted from another invoice "
                       "since the refund was requested")
    after = invoice.account.release_credit(amount)
    version = invoice.version + 1
    updated = await uow.db[INVOICES].update_one(
        {"_id": invoice.invoice_id, "version": invoice.version},
        {"$set": {**account_fields(after), "version": version}}, session=uow.session)
    if updated.matched_count != 1:
        raise RuntimeError(f"invoice {invoice.invoice_id} changed during the refund")
    uow.publish(OverpaymentRefunded(
        branch=invoice.branch, version=version, occurred_at=uow.clock.now(),
        invoice_id=invoice.invoice_id, contract_id=invoice.contract_id,
        member_id=invoice.member_id or "", refund_id=refund["_id"],
        amount=invoice.money(amount), approved_on=uow.clock.today(),
        credit=invoice.money(after.credit)))


async def refund_file(uow: UnitOfWork, branch: str) -> tuple[str, bytes]:
    """The pain.001 file of the branch's approved refunds not sent yet, from its collection
    account; they are marked sent in it."""
    refunds = await uow.db[REFUNDS].find(
        {"branch": branch, "status": "approved"}, session=uow.session).sort("_id", 1).to_list(None)
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
    await uow.db[REFUNDS].update_many(
        {"_id": {"$in": [refund["_id"] for refund in refunds]}, "status": "approved"},
        {"$set": {"status": "in_file", "file_id": file_id, "filed_at": uow.clock.now()}},
        session=uow.session)
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
