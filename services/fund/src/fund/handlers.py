"""Events in → the fund's use cases: decide, advance, recover, release, absorb the loss.

Each use case is safe to run twice and in any order: the guarantee's state says what is still to
do, transfer ids are derived from the facts, and the consumer's inbox drops redelivered events.

A whole batch of events runs in one transaction: before its handlers, the batch reads in one
command everything they all need (``read_what_the_batch_needs``), so a use case finds what it
reads known and only stages its changes, which the transaction writes once per collection just
before it commits.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from smart_shared.consumer import EventHandlers
from smart_shared.events import (
    AdvancePaid,
    AdvanceRecovered,
    ContractCancelled,
    ContractSigned,
    DebtWrittenOff,
    Event,
    GuaranteeDeclined,
    GuaranteeGranted,
    InvoiceIssued,
    InvoicePaid,
    LossAbsorbed,
    SalaryDue,
)
from smart_shared.mail import send_mail
from smart_shared.money import Money, round2
from smart_shared.mongo import Document, UnitOfWork
from smart_shared.rulepacks import UnknownRulePack
from smart_shared.telemetry import current_traceparent

from fund import members, store
from fund.domain import (
    Decision,
    Guarantee,
    GuaranteeRequest,
    Transfer,
    contract_transfer_ids,
    contribution,
    decide_guarantee,
    transfer_id,
)
from fund.members import declined_guarantee_mail
from fund.rules import contribution_rate, guarantee_policy

handlers = EventHandlers()
members.register(handlers)


def documents_needed(event: Event) -> dict[str, list[str]]:
    """What handling ``event`` reads, as ``store.read_ahead`` arguments: the branch's balances,
    the guarantee, the exposures, the invoice and which of its transfers are booked."""
    branches = [event.branch]
    match event:
        case ContractSigned():
            return dict(branches=branches, guarantees=[event.contract_id],
                        exposures=list(store.exposure_ids(event.branch, event.client.client_key,
                                                          event.member_id)),
                        transfers=contract_transfer_ids(event.contract_id))
        case InvoiceIssued():
            return dict(guarantees=[event.contract_id], invoices=[event.invoice_id])
        case InvoicePaid():
            return dict(branches=branches, guarantees=[event.contract_id],
                        invoices=[event.invoice_id],
                        transfers=[*contract_transfer_ids(event.contract_id),
                                   transfer_id("contribution", event.invoice_id)])
        case SalaryDue() if not event.guaranteed:
            return {}
        case SalaryDue() | ContractCancelled() | DebtWrittenOff():
            return dict(branches=branches, guarantees=[event.contract_id],
                        transfers=contract_transfer_ids(event.contract_id))
    return {}


@handlers.before_batch
async def read_what_the_batch_needs(events: list[Event], uow: UnitOfWork) -> None:
    needed: defaultdict[str, list[str]] = defaultdict(list)
    for event in events:
        for name, idents in documents_needed(event).items():
            needed[name] += idents
    await store.read_ahead(uow, **needed)


def _money(amount: Decimal) -> Money:
    return Money.of(amount)


def _version(doc: Document | None) -> int:
    return int(doc.get("version", 0) if doc else 0) + 1


def _placeholder(contract_id: str, branch: str, member_id: str) -> Guarantee:
    """A contract heard of before its signature (facts kept until the decision)."""
    return Guarantee(contract_id, branch, member_id, client_key="", granted=False)


async def decide(uow: UnitOfWork, event: ContractSigned) -> Decision:
    """Decide the contract's guarantee and reserve its salary cost when granted."""
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


@handlers.on(ContractSigned)
async def decide_guarantee_for_contract(event: ContractSigned, uow: UnitOfWork) -> None:
    doc = await store.find_guarantee(uow, event.contract_id)
    if doc and doc.get("decided"):
        return
    decision = await decide(uow, event)
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
    version = _version(doc)
    common: dict[str, Any] = dict(branch=event.branch, version=version,
                                  occurred_at=uow.clock.now(), contract_id=event.contract_id,
                                  member_id=event.member_id)
    if decision.granted:
        uow.publish(GuaranteeGranted(**common, client_key=event.client.client_key,
                                     amount=_money(decision.amount)))
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


@handlers.on(InvoiceIssued)
async def link_invoice_to_contract(event: InvoiceIssued, uow: UnitOfWork) -> None:
    doc = await store.find_invoice(uow, event.invoice_id) or {}
    changes: dict[str, Any] = {}
    if (doc.get("version") or 0) < event.version:  # a stale or repeated version changes nothing
        changes = {"contract_id": event.contract_id, "branch": event.branch,
                   "member_id": event.member_id, "number": event.number,
                   "amount_excl_vat": str(event.amount_excl_vat.amount), "version": event.version}
    changes["status"] = doc.get("status") or "issued"
    await store.save_invoice(uow, event.invoice_id, changes)
    store.link_invoice(uow, event.contract_id, event.invoice_id)


@handlers.on(SalaryDue)
async def advance_salary_cost(event: SalaryDue, uow: UnitOfWork) -> None:
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
    version = _version(doc)
    common: dict[str, Any] = dict(branch=event.branch, occurred_at=uow.clock.now(),
                                  contract_id=event.contract_id, member_id=guarantee.member_id)
    advance = _of_kind(transfers, "advance")
    if advance:
        uow.publish(AdvancePaid(**common, version=version, salary_id=event.salary_id,
                                amount=_money(guarantee.advanced), transfer_id=advance.id))
    loss = _of_kind(transfers, "loss")
    if loss:
        version += 1
        uow.publish(LossAbsorbed(**common, version=version, invoice_id=guarantee.invoice_id or "",
                                 amount=_money(loss.amount), transfer_id=loss.id))
    store.save_guarantee(uow, guarantee, version=version, salary_id=event.salary_id)


def _of_kind(transfers: list[Transfer], kind: str) -> Transfer | None:
    return next((t for t in transfers if t.kind == kind), None)


@handlers.on(InvoicePaid)
async def recover_advance(event: InvoicePaid, uow: UnitOfWork) -> None:
    if await store.invoice_status(uow, event.invoice_id) == "paid":
        return
    await store.save_invoice(uow, event.invoice_id, {
        "status": "paid", "contract_id": event.contract_id, "branch": event.branch,
        "member_id": event.member_id, "paid_on": event.paid_on.isoformat(),
        "amount_excl_vat": str(event.amount_excl_vat.amount)})
    doc = await store.find_guarantee(uow, event.contract_id)
    guarantee = (store.guarantee_from(doc) if doc
                 else _placeholder(event.contract_id, event.branch, event.member_id))
    guarantee.invoice_id = event.invoice_id
    before = guarantee.exposure
    recovered, transfers = guarantee.settle_payment(event.invoice_id)
    share = round2(event.amount_excl_vat.amount * contribution_rate(event.branch, event.paid_on))
    transfers += contribution(event.branch, event.invoice_id, event.contract_id, share)
    await store.book_all(uow, transfers)
    store.move_exposure(uow, guarantee, before)
    version = _version(doc)
    main = next((t for kind in ("recover", "loss_recovery", "release", "contribution")
                 if (t := _of_kind(transfers, kind))), None)
    uow.publish(AdvanceRecovered(
        branch=event.branch, version=version, occurred_at=uow.clock.now(),
        contract_id=event.contract_id, member_id=guarantee.member_id,
        invoice_id=event.invoice_id, amount=_money(recovered), contribution=_money(share),
        transfer_id=main.id if main else f"contribution:{event.invoice_id}"))
    extra: dict[str, Any] = {} if doc else {"decided": False, "status": "awaiting_contract"}
    store.save_guarantee(uow, guarantee, version=version, **extra)


@handlers.on(ContractCancelled)
async def release_reservation(event: ContractCancelled, uow: UnitOfWork) -> None:
    doc = await store.find_guarantee(uow, event.contract_id)
    if not doc or not doc.get("decided"):
        return
    guarantee = store.guarantee_from(doc)
    before = guarantee.exposure
    transfers = guarantee.cancel()
    await store.book_all(uow, transfers)
    store.move_exposure(uow, guarantee, before)
    store.save_guarantee(uow, guarantee, status="cancelled")


@handlers.on(DebtWrittenOff)
async def absorb_loss(event: DebtWrittenOff, uow: UnitOfWork) -> None:
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
    loss = _of_kind(transfers, "loss")
    if loss:
        version += 1
        uow.publish(LossAbsorbed(
            branch=event.branch, version=version, occurred_at=uow.clock.now(),
            contract_id=event.contract_id, member_id=guarantee.member_id,
            invoice_id=event.invoice_id, amount=_money(loss.amount), transfer_id=loss.id))
    store.save_guarantee(uow, guarantee, version=version)
