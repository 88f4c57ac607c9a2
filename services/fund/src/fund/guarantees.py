"""A contract's guarantee through its life: decided when signed, its invoice noted, its salary
cost advanced when due, its reservation released when cancelled, its loss absorbed when the debt
is written off.

Each use case is safe to run twice and in any order: the guarantee's state says what is still to
do, transfer ids are derived from the facts, and the consumer's inbox drops redelivered events.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from smart_shared.codec import iso
from smart_shared.events import (
    AdvancePaid,
    ContractCancelled,
    ContractSigned,
    DebtWrittenOff,
    GuaranteeDeclined,
    GuaranteeGranted,
    InvoiceIssued,
    LossAbsorbed,
    SalaryDue,
)
from smart_shared.mail import send_mail
from smart_shared.money import Money
from smart_shared.mongo import Document, UnitOfWork
from smart_shared.rulepacks import UnknownRulePack
from smart_shared.telemetry import current_traceparent

from fund import store
from fund.domain import Decision, Guarantee, GuaranteeRequest, Transfer, decide_guarantee
from fund.domain.rules import guarantee_policy
from fund.members import declined_guarantee_mail


def next_version(doc: Document | None) -> int:
    """The version the guarantee's next event carries."""
    return int(doc.get("version", 0) if doc else 0) + 1


def of_kind(transfers: list[Transfer], kind: str) -> Transfer | None:
    return next((t for t in transfers if t.kind == kind), None)


async def _decision(uow: UnitOfWork, event: ContractSigned) -> Decision:
    """The guarantee decision on the branch's rules and what the fund already stands behind."""
    day = event.signed_at.date()
    try:
        policy = guarantee_policy(event.branch, day)
    except UnknownRulePack:
        cost = event.amount_excl_vat.amount
        return Decision(False, cost, "branch_not_covered",
                        f"No fund rules for branch {event.branch} on {day}")
    client_exposure, member_exposure = await store.exposures(
        uow, event.branch, event.client.client_key, event.member_id)
    request = GuaranteeRequest(
        amount_excl_vat=event.amount_excl_vat.amount,
        client_country=event.client.country,
        client_signed_at=event.client_signed_at,
        signed_at=event.signed_at,
        client_exposure=client_exposure,
        member_exposure=member_exposure,
        free_balance=await store.balance(uow, event.branch, "free"),
    )
    return decide_guarantee(request, policy)


async def decide(uow: UnitOfWork, event: ContractSigned) -> None:
    """Decide the contract's guarantee and reserve its salary cost when granted."""
    doc = await store.find_guarantee(uow, event.contract_id)
    if doc and doc.get("decided"):
        return
    decision = await _decision(uow, event)
    earlier = store.guarantee_from(doc) if doc else None
    guarantee = Guarantee(
        event.contract_id, event.branch, event.member_id, event.client.client_key,
        granted=decision.granted, amount=decision.amount,
        invoice_id=earlier.invoice_id if earlier else None,
    )
    transfers = guarantee.reserve()
    if earlier and earlier.invoice_paid:
        # the client paid before the signature reached the fund: nothing left to guarantee
        transfers += guarantee.settle_payment(earlier.invoice_id or "")[1]
    await store.book_all(uow, transfers)
    store.move_exposure(uow, guarantee, Decimal("0.00"))
    version = next_version(doc)
    common: dict[str, Any] = dict(branch=event.branch, version=version,
                                  occurred_at=uow.clock.now(), contract_id=event.contract_id,
                                  member_id=event.member_id)
    if decision.granted:
        uow.publish(GuaranteeGranted(**common, client_key=event.client.client_key,
                                     amount=Money.of(decision.amount)))
    else:
        assert decision.reason is not None
        uow.publish(GuaranteeDeclined(**common, reason=decision.reason, detail=decision.detail))
        mail = await declined_guarantee_mail(uow, event, decision.reason, decision.detail)
        if mail:
            send_mail(uow, mail)
    store.save_guarantee(
        uow, guarantee, version=version, decided=True, status=(
            "granted" if decision.granted else "declined"),
        reason=decision.reason, detail=decision.detail, client_country=event.client.country,
        decided_at=uow.clock.now(), traceparent=current_traceparent())


async def note_invoice(uow: UnitOfWork, event: InvoiceIssued) -> None:
    """Keep the contract's invoice, and note it on the contract's guarantee."""
    doc = await store.find_invoice(uow, event.invoice_id) or {}
    changes: dict[str, Any] = {}
    if (doc.get("version") or 0) < event.version:  # a stale or repeated version changes nothing
        changes = {"contract_id": event.contract_id, "branch": event.branch,
                   "member_id": event.member_id, "number": event.number,
                   "amount_excl_vat": str(event.amount_excl_vat.amount), "version": event.version,
                   "issue_date": iso(event.issue_date)}  # the member's turnover, for lending
    changes["status"] = doc.get("status") or "issued"
    await store.save_invoice(uow, event.invoice_id, changes)
    store.link_invoice(uow, event.contract_id, event.invoice_id)


async def advance_salary_cost(uow: UnitOfWork, event: SalaryDue) -> None:
    """The guaranteed salary is due before the client paid: the fund advances its cost."""
    if not event.guaranteed:
        return
    doc = await store.find_guarantee(uow, event.contract_id)
    if not doc or not doc.get("decided"):
        return
    guarantee = store.guarantee_from(doc)
    before = guarantee.exposure
    cost = event.breakdown.amount_excl_vat.amount - event.breakdown.fee.amount
    transfers = guarantee.advance(event.salary_id, cost)
    if not transfers:
        return
    await store.book_all(uow, transfers)
    store.move_exposure(uow, guarantee, before)
    version = next_version(doc)
    common: dict[str, Any] = dict(branch=event.branch, occurred_at=uow.clock.now(),
                                  contract_id=event.contract_id, member_id=guarantee.member_id)
    advance = of_kind(transfers, "advance")
    if advance:
        uow.publish(AdvancePaid(**common, version=version, salary_id=event.salary_id,
                                amount=Money.of(guarantee.advanced), transfer_id=advance.id))
    loss = of_kind(transfers, "loss")
    if loss:
        version += 1
        uow.publish(LossAbsorbed(**common, version=version, invoice_id=guarantee.invoice_id or "",
                                 amount=Money.of(loss.amount), transfer_id=loss.id))
    store.save_guarantee(uow, guarantee, version=version, salary_id=event.salary_id)


async def release_reservation(uow: UnitOfWork, event: ContractCancelled) -> None:
    """The contract was cancelled: what was reserved for it is free again."""
    doc = await store.find_guarantee(uow, event.contract_id)
    if not doc or not doc.get("decided"):
        return
    guarantee = store.guarantee_from(doc)
    before = guarantee.exposure
    transfers = guarantee.cancel()
    await store.book_all(uow, transfers)
    store.move_exposure(uow, guarantee, before)
    store.save_guarantee(uow, guarantee, status="cancelled")


async def absorb_loss(uow: UnitOfWork, event: DebtWrittenOff) -> None:
    """The client's debt was written off: the fund bears the advance it made."""
    doc = await store.find_guarantee(uow, event.contract_id)
    if not doc or not doc.get("decided"):
        return
    guarantee = store.guarantee_from(doc)
    guarantee.invoice_id = guarantee.invoice_id or event.invoice_id
    before = guarantee.exposure
    transfers = guarantee.write_off()
    await store.book_all(uow, transfers)
    store.move_exposure(uow, guarantee, before)
    version = int(doc.get("version", 0))
    loss = of_kind(transfers, "loss")
    if loss:
        version += 1
        uow.publish(LossAbsorbed(
            branch=event.branch, version=version, occurred_at=uow.clock.now(),
            contract_id=event.contract_id, member_id=guarantee.member_id,
            invoice_id=event.invoice_id, amount=Money.of(loss.amount), transfer_id=loss.id))
    store.save_guarantee(uow, guarantee, version=version)
