"""Use cases on the members payroll pays: keep their payout details and contact from members'
events, and forget them on erasure (salaries and payment runs stay: payroll records must be kept
by law)."""

from __future__ import annotations

from smart_shared.events import MemberActivated, MemberErased, MemberUpdated
from smart_shared.mail import forget_mails_of
from smart_shared.mongo import UnitOfWork

from payroll import store


async def remember_member(uow: UnitOfWork, event: MemberActivated | MemberUpdated) -> None:
    """The member's payout details, activities and contact, unless a newer version is known."""
    store.keep_member(uow, event)


async def forget_erased_member(uow: UnitOfWork, event: MemberErased) -> None:
    store.keep_member(uow, event)
    await forget_mails_of(uow, event.member_id)
