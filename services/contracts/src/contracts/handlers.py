"""Events in: the members projection, and what a member's erasure does to their contracts."""

from __future__ import annotations

import logging

from smart_shared.consumer import EventHandlers
from smart_shared.events import MemberActivated, MemberErased, MemberUpdated
from smart_shared.mail import forget_mails_of
from smart_shared.mongo import UnitOfWork

from contracts.domain import member_after
from contracts.domain.lifecycle import NOT_YET_BINDING
from contracts.domain.members import MemberEvent
from contracts.store import CONTRACTS, contract_from, load_member, save_contract, store_member

log = logging.getLogger("contracts.handlers")
handlers = EventHandlers()


@handlers.on(MemberActivated, MemberUpdated, MemberErased)
async def keep_member(event: MemberEvent, uow: UnitOfWork) -> None:
    """Keep the member's status and activities; stale versions change nothing."""
    known = await load_member(uow, event.member_id)
    member = member_after(known, event)
    if member is None:
        return
    await store_member(uow, member, replacing=known is not None)
    if isinstance(event, MemberErased):
        await cancel_unsigned_contracts(event.member_id, uow)
        await forget_mails_of(uow, event.member_id)


async def cancel_unsigned_contracts(member_id: str, uow: UnitOfWork) -> None:
    """An erased member's contracts that SMart has not validated yet are cancelled; validated
    ones stay (the law keeps them) and follow their course."""
    cursor = uow.db[CONTRACTS].find(
        {"member_id": member_id, "status": {"$in": [s.value for s in NOT_YET_BINDING]}},
        session=uow.session,
    )
    async for doc in cursor:
        contract = contract_from(doc)
        read_status = contract.status.value
        event = contract.cancel("member erased", uow.clock.today(), uow.clock.now())
        if await save_contract(uow, contract, read_status):
            uow.publish(event)
