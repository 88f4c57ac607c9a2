"""The member: registration, activation by a paid share, status changes, updates and erasure.

Every change that others must know of returns the event to publish, carrying the member's next
version. Functions never mutate: they return the member as it is after the change.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict
from smart_shared.events.catalogue import (
    Activity,
    Address,
    Language,
    MemberActivated,
    MemberContact,
    MemberErased,
    MemberRegistered,
    MemberStatus,
    MemberUpdated,
    PayoutDetails,
)
from smart_shared.money import Money

from members.domain.activities import validate_activities
from members.domain.errors import NotNow, RuleBroken, UnknownShare
from members.domain.identity import validate_national_id
from members.domain.payout import holder_name, validate_iban
from members.domain.shares import Share, ShareRules, paid_shares, pay

StaffAction = Literal["suspend", "reinstate", "leave"]
TRANSITIONS: dict[StaffAction, tuple[frozenset[MemberStatus], MemberStatus]] = {
    "suspend": (frozenset({"active"}), "suspended"),
    "reinstate": (frozenset({"suspended"}), "active"),
    "leave": (frozenset({"applicant", "active", "suspended"}), "left"),
}
ERASED_NAME = "erased"
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
OLDEST_AGE = 120


class Applicant(BaseModel):
    """What a person gives to register, before any rule has looked at it."""

    model_config = ConfigDict(frozen=True)

    branch: str
    first_name: str
    last_name: str
    email: str
    birth_date: date
    national_id: str
    address: Address
    iban: str
    account_holder: str | None = None
    activities: list[Activity]
    language: Language | None = None


class Member(BaseModel):
    """A member of the cooperative in one branch. Personal fields are ``None`` once erased."""

    model_config = ConfigDict(frozen=True)

    member_id: str
    branch: str
    status: MemberStatus
    version: int
    first_name: str | None
    last_name: str | None
    email: str | None
    birth_date: date | None
    national_id: str | None
    address: Address | None
    payout: PayoutDetails | None
    activities: list[Activity]
    shares: list[Share] = []
    registered_at: datetime
    language: Language | None = None
    activated_at: datetime | None = None
    left_at: datetime | None = None
    erased_at: datetime | None = None

    def share(self, share_id: str) -> Share:
        for share in self.shares:
            if share.share_id == share_id:
                return share
        raise UnknownShare(share_id)

    def may_sign_contracts(self) -> bool:
        return self.status == "active"


def validate_email(value: str, field: str = "email") -> str:
    """A plausible address, with its domain in lower case."""
    value = value.strip()
    if len(value) > 254 or not EMAIL.match(value):
        raise RuleBroken.on(field, "is not an email address")
    local, _, domain = value.rpartition("@")
    return f"{local}@{domain.lower()}"


def _validate_birth_date(birth_date: date, today: date) -> None:
    if birth_date >= today:
        raise RuleBroken.on("birth_date", "must be in the past")
    if today.year - birth_date.year > OLDEST_AGE:
        raise RuleBroken.on("birth_date", f"more than {OLDEST_AGE} years ago")


def _collect(errors: list[tuple[str, str]], check: Callable[[], object]) -> None:
    """Run ``check`` and keep its failures with the others."""
    try:
        check()
    except RuleBroken as broken:
        errors.extend(broken.errors)


def contact_of(member: Member) -> MemberContact | None:
    """What the services that mail the member need of them (nothing once erased)."""
    if not member.email or not member.first_name:
        return None
    return MemberContact(name=f"{member.first_name} {member.last_name}", email=member.email,
                         language=member.language, address=member.address)


def register(applicant: Applicant, member_id: str, at: datetime,
             today: date) -> tuple[Member, MemberRegistered]:
    """An applicant, once every field is valid (all failing fields are reported at once)."""
    errors: list[tuple[str, str]] = []
    values: dict[str, object] = {}

    def name(field: str) -> None:
        value = " ".join(str(getattr(applicant, field)).split())
        if not value:
            raise RuleBroken.on(field, "must not be empty")
        values[field] = value

    def national_id() -> None:
        _validate_birth_date(applicant.birth_date, today)
        values["national_id"] = validate_national_id(
            applicant.branch, applicant.national_id, applicant.birth_date)

    def email() -> None:
        values["email"] = validate_email(applicant.email)

    def iban() -> None:
        values["iban"] = validate_iban(applicant.iban)

    def activities() -> None:
        values["activities"] = validate_activities(applicant.activities)

    for check in (lambda: name("first_name"), lambda: name("last_name"), email, national_id,
                  iban, activities):
        _collect(errors, check)
    if errors:
        raise RuleBroken(errors)
    first, last = str(values["first_name"]), str(values["last_name"])
    holder = " ".join((applicant.account_holder or "").split()) or holder_name(first, last)
    member = Member(
        member_id=member_id, branch=applicant.branch, status="applicant", version=1,
        first_name=first, last_name=last, email=str(values["email"]),
        birth_date=applicant.birth_date, national_id=str(values["national_id"]),
        address=applicant.address,
        payout=PayoutDetails(iban=str(values["iban"]), holder_name=holder),
        activities=values["activities"],
        registered_at=at,
        language=applicant.language,
    )
    event = MemberRegistered(member_id=member_id, branch=member.branch, version=1,
                             occurred_at=at, activities=member.activities)
    return member, event


def _refuse_when_gone(member: Member, doing: str) -> None:
    if member.status in ("left", "erased"):
        raise NotNow(f"Member has {member.status}",
                     f"Member {member.member_id} has {member.status}; cannot {doing}")


def subscribe(member: Member, share: Share) -> Member:
    """The member with one more (unpaid) subscription."""
    _refuse_when_gone(member, "subscribe shares")
    return member.model_copy(update={"shares": [*member.shares, share]})


def record_share_payment(
    member: Member, share_id: str, amount: Money, paid_on: date, today: date, at: datetime,
    recorded_by: str, rules: ShareRules,
) -> tuple[Member, MemberActivated | None]:
    """The member after a subscription's payment; an applicant who now holds enough paid
    shares becomes active, which is announced by ``MemberActivated``."""
    _refuse_when_gone(member, "pay shares")
    paid = pay(member.share(share_id), amount, paid_on, today, recorded_by)
    shares = [paid if s.share_id == share_id else s for s in member.shares]
    member = member.model_copy(update={"shares": shares})
    if member.status != "applicant" or paid_shares(shares) < rules.shares_to_activate.value:
        return member, None
    assert member.payout is not None
    member = member.model_copy(update={"status": "active", "activated_at": at,
                                       "version": member.version + 1})
    return member, MemberActivated(
        member_id=member.member_id, branch=member.branch, version=member.version,
        occurred_at=at, activities=member.activities, payout=member.payout,
        contact=contact_of(member))


def _updated(member: Member, at: datetime, changed: list[str]) -> MemberUpdated:
    assert member.payout is not None
    return MemberUpdated(member_id=member.member_id, branch=member.branch,
                         version=member.version, occurred_at=at, status=member.status,
                         activities=member.activities, payout=member.payout, changed=changed,
                         contact=contact_of(member))


def change_status(member: Member, action: StaffAction,
                  at: datetime) -> tuple[Member, MemberUpdated]:
    """A status change made by staff: suspend, reinstate or leave."""
    allowed_from, to = TRANSITIONS[action]
    if member.status not in allowed_from:
        raise NotNow("Status change not allowed",
                     f"A member who is {member.status} cannot {action} "
                     f"(allowed from: {', '.join(sorted(allowed_from))})")
    update: dict[str, object] = {"status": to, "version": member.version + 1}
    if to == "left":
        update["left_at"] = at
    member = member.model_copy(update=update)
    return member, _updated(member, at, ["status"])


class Changes(BaseModel):
    """What a member (or staff) may change; ``None`` leaves a field as it is."""

    model_config = ConfigDict(frozen=True)

    email: str | None = None
    address: Address | None = None
    iban: str | None = None
    account_holder: str | None = None
    activities: list[Activity] | None = None


def update(member: Member, changes: Changes, at: datetime) -> tuple[Member, MemberUpdated | None]:
    """The member with ``changes`` applied; no event when nothing actually changed."""
    if member.status == "erased":
        raise NotNow("Member erased", f"Member {member.member_id} was erased")
    assert member.payout is not None
    errors: list[tuple[str, str]] = []
    new: dict[str, object] = {}
    if changes.email is not None:
        _collect(errors, lambda: new.__setitem__("email", validate_email(changes.email or "")))
    if changes.iban is not None:
        _collect(errors, lambda: new.__setitem__("iban", validate_iban(changes.iban or "")))
    if changes.account_holder is not None and not changes.account_holder.strip():
        errors.append(("account_holder", "must not be empty"))
    if changes.activities is not None:
        _collect(errors, lambda: new.__setitem__(
            "activities", validate_activities(changes.activities or [])))
    if errors:
        raise RuleBroken(errors)
    payout = PayoutDetails(
        iban=str(new.get("iban", member.payout.iban)),
        holder_name=" ".join((changes.account_holder or member.payout.holder_name).split()),
    )
    candidate = {
        "email": new.get("email", member.email),
        "address": changes.address or member.address,
        "payout": payout,
        "activities": new.get("activities", member.activities),
    }
    changed = [field for field, value in candidate.items() if value != getattr(member, field)]
    if not changed:
        return member, None
    member = member.model_copy(update={**candidate, "version": member.version + 1})
    return member, _updated(member, at, changed)


def erase(member: Member, at: datetime) -> tuple[Member, MemberErased | None]:
    """GDPR erasure: personal data replaced by nothing; the member id stays as a pseudonym, the
    share register keeps amounts and dates only. Erasing twice changes nothing more."""
    if member.status == "erased":
        return member, None
    shares = [s.model_copy(update={"recorded_by": None}) for s in member.shares]
    member = member.model_copy(update={
        "status": "erased", "version": member.version + 1, "erased_at": at,
        "first_name": ERASED_NAME, "last_name": ERASED_NAME, "email": None, "birth_date": None,
        "national_id": None, "address": None, "payout": None, "activities": [],
        "shares": shares,
    })
    return member, MemberErased(member_id=member.member_id, branch=member.branch,
                                version=member.version, occurred_at=at)
