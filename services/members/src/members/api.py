"""HTTP API of the members service (``/v1/members``).

Registration is public: an applicant has no account yet. Everything else needs a token; a member
sees and changes only themselves, staff only the members of their branch.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from functools import partial
from typing import Annotated, Any, Literal, TypeVar

from litestar import Controller, get, patch, post
from litestar.params import Parameter
from pydantic import BaseModel, ConfigDict, Field, model_validator
from smart_shared.auth import Principal, visible_or_404
from smart_shared.events.catalogue import (
    Activity,
    ActivityKind,
    Address,
    Language,
    MemberStatus,
)
from smart_shared.http import Page, idempotent
from smart_shared.money import PositiveMoney
from smart_shared.mongo import UnitOfWork
from smart_shared.openapi import problems
from smart_shared.problems import Problem, conflict, invalid, not_found
from smart_shared.service import Platform
from smart_shared.telemetry import current_traceparent
from smart_shared.text import Email, Identifier, OneLine

from members import domain, membership, store
from members.domain import Member, NotNow, RuleBroken, Share, UnknownShare

Text = Annotated[OneLine, Field(max_length=100)]
T = TypeVar("T")
NOT_NOW = (409, "Not possible in the member's status, or no rule pack for the branch yet")


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AddressIn(_Body):
    street: Annotated[OneLine, Field(max_length=200)]
    postal_code: Annotated[Identifier, Field(max_length=20)]
    city: Text
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$", description="ISO 3166 alpha-2.")]

    def to_address(self) -> Address:
        return Address(**self.model_dump())


class ActivityIn(_Body):
    name: Text = Field(description="E.g. 'musician', 'graphic designer'.")
    kind: ActivityKind
    joint_committee: Literal["304", "200"] = Field(
        "200", description="'304' performing arts, '200' default.")

    def to_activity(self) -> Activity:
        return Activity(**self.model_dump())


class Registration(_Body):
    """An application to become a member of a branch."""

    branch: Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
    first_name: Text
    last_name: Text
    email: Email
    birth_date: date
    national_id: Annotated[Identifier, Field(
        max_length=40,
        description="BE: national number (be.nn) or BIS number (be.bis); FR: NIR. Must match "
        "the birth date.")]
    address: AddressIn
    iban: Annotated[Identifier, Field(max_length=50,
                                      description="Salary account, in a SEPA country.")]
    account_holder: Annotated[OneLine, Field(max_length=140)] | None = Field(
        None, description="Defaults to the member's name.")
    activities: Annotated[list[ActivityIn], Field(min_length=1, max_length=10)]
    language: Language | None = Field(
        None, description="Of the mails and documents; the branch's language otherwise.")


class MemberChanges(_Body):
    """The fields a member may change; leave out what stays the same."""

    email: Email | None = None
    address: AddressIn | None = None
    iban: Annotated[Identifier, Field(max_length=50)] | None = None
    account_holder: Annotated[OneLine, Field(max_length=140)] | None = None
    activities: Annotated[list[ActivityIn], Field(min_length=1, max_length=10)] | None = None

    @model_validator(mode="after")
    def _something(self) -> MemberChanges:
        if not self.model_fields_set:
            raise ValueError("give at least one field to change")
        return self


class SharesSubscription(_Body):
    count: int = Field(ge=1, le=10_000, description="Number of shares at the branch price.")


class SharePayment(_Body):
    amount: PositiveMoney = Field(description="The subscription total.")
    paid_on: date | None = Field(None, description="Defaults to today.")


class SharePaymentRecorded(BaseModel):
    member_id: str
    status: MemberStatus
    activated: bool
    share: Share


def _problem(error: Exception) -> Problem:
    if isinstance(error, RuleBroken):
        errors = [{"field": field, "message": message} for field, message in error.errors]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return Problem(400, "Invalid request", detail, "validation", errors=errors)
    if isinstance(error, NotNow):
        return conflict(error.title, error.detail)
    if isinstance(error, UnknownShare):
        return not_found("Share", str(error))
    raise error


async def _transaction(platform: Platform, work: Callable[[UnitOfWork], Awaitable[T]]) -> T:
    try:
        result: T = await platform.database.transaction(work)
    except (RuleBroken, NotNow, UnknownShare) as error:
        raise _problem(error) from None
    return result


def _staff(principal: Principal) -> None:
    principal.require("staff", "admin")


class MembersController(Controller):
    path = "/v1/members"
    tags = ["members"]

    @post("/", summary="Register as an applicant (public)",
          responses=problems((409, "Someone with this national id is already registered")))
    async def register(self, platform: Platform, data: Registration) -> Member:
        """Public: the applicant has no account yet. The answer holds only their own data."""
        if data.branch not in platform.settings.branches:
            served = ", ".join(platform.settings.branches)
            raise invalid("branch", f"this deployment serves {served}")
        applicant = domain.Applicant(
            **data.model_dump(exclude={"address", "activities"}),
            address=data.address.to_address(),
            activities=[a.to_activity() for a in data.activities],
        )
        command = membership.Register(applicant, current_traceparent())
        try:
            return await _transaction(platform, partial(membership.register_applicant,
                                                        command=command))
        except store.DuplicateNationalId:
            raise conflict("Already a member", "Someone with this national id is already "
                           f"registered in branch {data.branch}") from None

    @get("/", summary="List the branch's members (staff)")
    async def list_members(
        self, platform: Platform, principal: Principal,
        status: MemberStatus | None = None,
        activity: Annotated[str | None, Parameter(max_length=100)] = None,
        cursor: Annotated[str | None, Parameter(max_length=500)] = None,
        limit: Annotated[int, Parameter(ge=1, le=500)] = 50,
    ) -> Page[Member]:
        _staff(principal)
        name = domain.normalise_name(activity) if activity else None
        members, next_cursor = await store.find(platform.database, principal.branch, status, name,
                                                cursor, limit)
        return Page[Member](items=members, next_cursor=next_cursor)

    @get("/{member_id:str}", summary="One member (the member themselves or staff)")
    async def show(self, platform: Platform, principal: Principal, member_id: str) -> Member:
        return visible_or_404(principal, await store.read(platform.db, member_id), "Member",
                              member_id)

    @patch("/{member_id:str}", summary="Change email, address, payout details or activities",
           responses=problems(NOT_NOW))
    async def change(self, platform: Platform, principal: Principal, member_id: str,
                     data: MemberChanges) -> Member:
        changes = domain.Changes(
            email=data.email, iban=data.iban, account_holder=data.account_holder,
            address=data.address.to_address() if data.address else None,
            activities=[a.to_activity() for a in data.activities] if data.activities else None,
        )
        command = membership.ChangeDetails(principal, member_id, changes)
        return await _transaction(platform, partial(membership.change_details, command=command))

    @post("/{member_id:str}/shares", summary="Subscribe cooperative shares",
          responses=problems(NOT_NOW))
    async def subscribe(self, platform: Platform, principal: Principal, member_id: str,
                        data: SharesSubscription) -> Share:
        command = membership.SubscribeShares(principal, member_id, data.count)
        return await _transaction(platform, partial(membership.subscribe_shares,
                                                    command=command))

    @post("/{member_id:str}/shares/{share_id:str}/payment", status_code=200,
          summary="Record a share payment (staff); the first paid share activates",
          responses=problems(NOT_NOW))
    async def record_payment(
        self, platform: Platform, principal: Principal, member_id: str, share_id: str,
        data: SharePayment,
        idempotency_key: Annotated[str | None, Parameter(header="Idempotency-Key")] = None,
    ) -> SharePaymentRecorded:
        _staff(principal)

        command = membership.RecordSharePayment(principal, member_id, share_id, data.amount,
                                                data.paid_on, platform.settings.portal_url)

        async def work(uow: UnitOfWork) -> dict[str, Any]:
            recorded = await membership.record_share_payment(uow, command)
            return SharePaymentRecorded(
                member_id=member_id, status=recorded.member.status, activated=recorded.activated,
                share=recorded.share).model_dump(mode="json")

        try:
            result, _ = await idempotent(
                platform.database, idempotency_key, f"share-payment:{member_id}:{share_id}",
                data.model_dump(mode="json"), work, required=False)
        except (RuleBroken, NotNow, UnknownShare) as error:
            raise _problem(error) from None
        return SharePaymentRecorded.model_validate(result)

    async def _staff_action(self, platform: Platform, principal: Principal, member_id: str,
                            action: domain.StaffAction) -> Member:
        _staff(principal)
        command = membership.ChangeStatus(principal, member_id, action)
        return await _transaction(platform, partial(membership.change_status, command=command))

    @post("/{member_id:str}/suspend", status_code=200, summary="Suspend an active member (staff)",
          responses=problems(NOT_NOW))
    async def suspend(self, platform: Platform, principal: Principal, member_id: str) -> Member:
        return await self._staff_action(platform, principal, member_id, "suspend")

    @post("/{member_id:str}/reinstate", status_code=200,
          summary="Reinstate a suspended member (staff)",
          responses=problems(NOT_NOW))
    async def reinstate(self, platform: Platform, principal: Principal, member_id: str) -> Member:
        return await self._staff_action(platform, principal, member_id, "reinstate")

    @post("/{member_id:str}/leave", status_code=200, summary="Record a member's leaving (staff)",
          responses=problems(NOT_NOW))
    async def leave(self, platform: Platform, principal: Principal, member_id: str) -> Member:
        return await self._staff_action(platform, principal, member_id, "leave")

    @post("/{member_id:str}/erasure", status_code=200,
          summary="GDPR erasure (the member or staff): personal data pseudonymised",
          responses=problems(NOT_NOW))
    async def erase(self, platform: Platform, principal: Principal, member_id: str) -> Member:
        command = membership.Erase(principal, member_id)
        return await _transaction(platform, partial(membership.erase_member, command=command))
