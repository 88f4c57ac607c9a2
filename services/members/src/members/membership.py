"""Membership use cases: registering, changing details, shares, status, erasure.

Each takes the unit of work and one command, loads what it needs through the store (a member
the caller may not see is an unknown one), applies the domain's rules and stores the result
with its events, in the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from smart_shared.auth import Principal, visible_or_404
from smart_shared.events import Event
from smart_shared.ids import new_id
from smart_shared.mail import forget_mails_of, send_mail
from smart_shared.money import PositiveMoney
from smart_shared.mongo import UnitOfWork

from members import domain, identities, store
from members.domain import Member, Share
from members.domain.rules import share_rules
from members.mails import activation_mail


@dataclass(frozen=True)
class Register:
    applicant: domain.Applicant
    traceparent: str | None


@dataclass(frozen=True)
class ForMember:
    """A command about one member, by a caller who must be able to see them."""

    principal: Principal
    member_id: str


@dataclass(frozen=True)
class ChangeDetails(ForMember):
    changes: domain.Changes


@dataclass(frozen=True)
class SubscribeShares(ForMember):
    count: int


@dataclass(frozen=True)
class RecordSharePayment(ForMember):
    share_id: str
    amount: PositiveMoney
    paid_on: date | None
    portal_url: str


@dataclass(frozen=True)
class SharePaymentRecorded:
    member: Member
    share: Share
    activated: bool


@dataclass(frozen=True)
class ChangeStatus(ForMember):
    action: domain.StaffAction


@dataclass(frozen=True)
class Erase(ForMember):
    pass


async def _visible_member(uow: UnitOfWork, command: ForMember) -> Member:
    return visible_or_404(command.principal, await store.get(uow, command.member_id), "Member",
                          command.member_id)


async def _keep(uow: UnitOfWork, before: Member, after: Member, event: Event | None) -> Member:
    if after != before:
        await store.save(uow, after)
    if event is not None:
        uow.publish(event)
    return after


async def register_applicant(uow: UnitOfWork, command: Register) -> Member:
    """A new applicant → ``MemberRegistered`` (``store.DuplicateNationalId`` if known)."""
    member, event = domain.register(command.applicant, new_id(), uow.clock.now(),
                                    uow.clock.today())
    await store.add(uow, member, command.traceparent)
    uow.publish(event)
    return member


async def change_details(uow: UnitOfWork, command: ChangeDetails) -> Member:
    """Email, address, payout details or activities → ``MemberUpdated`` when any changed."""
    member = await _visible_member(uow, command)
    changed, event = domain.update(member, command.changes, uow.clock.now())
    return await _keep(uow, member, changed, event)


async def subscribe_shares(uow: UnitOfWork, command: SubscribeShares) -> Share:
    """A subscription of shares at the branch's price, unpaid until staff record it."""
    member = await _visible_member(uow, command)
    rules, price = share_rules(member.branch, uow.clock.today())
    share = domain.subscription(new_id(), command.count, price, rules, uow.clock.now())
    subscribed = await _keep(uow, member, domain.subscribe(member, share), None)
    return subscribed.share(share.share_id)


async def record_share_payment(uow: UnitOfWork, command: RecordSharePayment,
                               ) -> SharePaymentRecorded:
    """A share paid; the first paid share activates the member (``MemberActivated`` and the
    activation mail)."""
    member = await _visible_member(uow, command)
    today = uow.clock.today()
    rules, _ = share_rules(member.branch, today)
    paid, activated = domain.record_share_payment(
        member, command.share_id, command.amount, command.paid_on or today, today,
        uow.clock.now(), command.principal.sub, rules)
    await store.save(uow, paid)
    if activated:
        uow.publish(activated)
        send_mail(uow, activation_mail(paid, command.portal_url, today))
    return SharePaymentRecorded(paid, paid.share(command.share_id), activated is not None)


async def change_status(uow: UnitOfWork, command: ChangeStatus) -> Member:
    """Suspend, reinstate or record the leaving of a member → ``MemberUpdated``."""
    member = await _visible_member(uow, command)
    changed, event = domain.change_status(member, command.action, uow.clock.now())
    return await _keep(uow, member, changed, event)


async def erase_member(uow: UnitOfWork, command: Erase) -> Member:
    """GDPR erasure: personal data pseudonymised, sent events, mails and login links forgotten
    → ``MemberErased`` (once)."""
    member = await _visible_member(uow, command)
    erased, event = domain.erase(member, uow.clock.now())
    if event is not None:
        await store.save(uow, erased)
        await store.forget_sent_events(uow, command.member_id)
        await forget_mails_of(uow, command.member_id)
        await identities.forget_links_of(uow, member.email)
        uow.publish(event)
    return erased
