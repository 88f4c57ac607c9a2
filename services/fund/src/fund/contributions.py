"""The client paid: the advance comes back (or the reservation is released) and the fund takes
its contribution, a share of the invoice set by the branch's rule pack."""

from __future__ import annotations

from typing import Any

from smart_shared.events import AdvanceRecovered, InvoicePaid
from smart_shared.money import Money, round2
from smart_shared.mongo import UnitOfWork

from fund import store
from fund.domain import Guarantee, contribution
from fund.domain.rules import contribution_rate
from fund.guarantees import next_version, of_kind


def _placeholder(contract_id: str, branch: str, member_id: str) -> Guarantee:
    """A contract heard of before its signature (facts kept until the decision)."""
    return Guarantee(contract_id, branch, member_id, client_key="", granted=False)


async def recover_advance(uow: UnitOfWork, event: InvoicePaid) -> None:
    """Settle the contract's guarantee on the payment and book the fund's contribution."""
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
    version = next_version(doc)
    main = next((t for kind in ("recover", "loss_recovery", "release", "contribution")
                 if (t := of_kind(transfers, kind))), None)
    uow.publish(AdvanceRecovered(
        branch=event.branch, version=version, occurred_at=uow.clock.now(),
        contract_id=event.contract_id, member_id=guarantee.member_id,
        invoice_id=event.invoice_id, amount=Money.of(recovered), contribution=Money.of(share),
        transfer_id=main.id if main else f"contribution:{event.invoice_id}"))
    extra: dict[str, Any] = {} if doc else {"decided": False, "status": "awaiting_contract"}
    store.save_guarantee(uow, guarantee, version=version, **extra)
