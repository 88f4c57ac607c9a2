"""Events in: the members projection, and what a member's erasure does to their contracts."""

from __future__ import annotations

from smart_shared.consumer import EventHandlers
from smart_shared.events import MemberActivated, MemberErased, MemberUpdated
from smart_shared.mail import forget_mails_of
from smart_shared.mongo import UnitOfWork

from contracts.cancellation import cancel_unsigned_contracts
from contracts.domain import member_after
from contracts.domain.members import MemberEvent
from contracts.store import load_member, store_member

handlers = EventHandlers()


@handlers.on(MemberActivated, MemberUpdated, MemberErased)
async def keep_member(uow: UnitOfWork, event: MemberEvent) -> None:
    """Keep the member's status and activities; stale versions change nothing."""
    known = await load_member(uow, event.member_id)
    member = member_after(known, event)
    if member is None:
        return
    await store_member(uow, member, replacing=known is not None)
    if isinstance(event, MemberErased):
        await cancel_unsigned_contracts(uow, event.branch, event.member_id)
        await forget_mails_of(uow, event.member_id)

