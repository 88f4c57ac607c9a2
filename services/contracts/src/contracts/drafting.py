"""Drafting a contract for an active member, and submitting it to the client with a single-use
signing link."""

from __future__ import annotations

from dataclasses import dataclass

from smart_shared.auth import Principal, visible_or_404
from smart_shared.ids import new_id
from smart_shared.mail import send_mail
from smart_shared.money import Money
from smart_shared.mongo import UnitOfWork
from smart_shared.problems import Problem, conflict, forbidden, invalid
from smart_shared.rulepacks import rule_pack
from smart_shared.service import Platform

from contracts.bodies import NewContract
from contracts.domain import (
    ClientRefused,
    Contract,
    PaymentTermRefused,
    TransitionRefused,
    WorkDaysRefused,
    checked_work_days,
    issue_signing_link,
    make_client,
    payment_term,
)
from contracts.domain.signing import SigningLink
from contracts.mails import signing_link_mail
from contracts.refusals import contract_rules, status_refused
from contracts.store import contract_from, insert_contract, load_with_member, read_member, save_step


@dataclass(frozen=True)
class DraftContract:
    """A member (or staff for them) drafts a contract."""

    principal: Principal
    contract: NewContract


@dataclass(frozen=True)
class SubmitContract:
    """The contract goes to its client: the signing link opens ``portal_url``'s signing page."""

    principal: Principal
    contract_id: str
    portal_url: str


def _currency_checked(body: NewContract, currency: str) -> None:
    if body.amount_excl_vat.currency != currency:
        raise invalid("amount_excl_vat.currency", f"must be {currency}")
    if body.expenses.currency != currency:
        raise invalid("expenses.currency", f"must be {currency}")


async def draft_contract(platform: Platform, command: DraftContract) -> Contract:
    """Draft a contract for an active member (``draft``); nothing is published yet, so no
    transaction: one read of the member, one insert."""
    principal, body = command.principal, command.contract
    member_id = body.member_id or principal.member_id
    if not member_id:
        raise invalid("member_id", "is required when staff draft a contract")
    if principal.role == "member" and member_id != principal.member_id:
        raise forbidden("A member drafts contracts only for themselves")
    if body.expenses.currency == body.amount_excl_vat.currency and \
            body.expenses >= body.amount_excl_vat:
        raise invalid("expenses", "must be less than the amount excl. VAT")

    member = await read_member(platform.db, member_id)
    if member is not None:
        principal.require_branch(member.branch)
    if member is None or not member.may_contract:
        status = member.status if member else "unknown"
        raise Problem(409, "Member not active",
                      f"Only active members make contracts; member {member_id} is {status}",
                      "member-not-active", errors=[{"field": "member_id",
                                                    "message": f"member is {status}"}])
    today = platform.clock.today()
    rules = contract_rules(member.branch, today)
    _currency_checked(body, rule_pack(member.branch, today).currency)
    activity = member.activity(body.activity)
    if activity is None:
        known = ", ".join(a.name for a in member.activities) or "none"
        raise invalid("activity", f"is not one of the member's activities ({known})")
    try:
        work_days = checked_work_days(body.work_days, today)
    except WorkDaysRefused as error:
        raise invalid("work_days", str(error)) from None
    try:
        client = make_client(body.client)
    except ClientRefused as error:
        raise invalid(error.field, error.message) from None
    try:
        term = payment_term(rules, client.kind, body.payment_term_days)
    except PaymentTermRefused as error:
        raise invalid("payment_term_days", str(error)) from None
    contract = Contract(
        contract_id=new_id(), branch=member.branch, member_id=member_id, activity=activity,
        client=client, description=body.description, work_days=work_days,
        amount_excl_vat=Money(amount=body.amount_excl_vat.amount,
                              currency=body.amount_excl_vat.currency),
        expenses=Money(amount=body.expenses.amount, currency=body.expenses.currency),
        payment_term_days=term, work_nature=body.work_nature,
        created_at=platform.clock.now(), created_by=principal.sub,
    )
    await insert_contract(platform.db, contract)
    return contract


async def submit_contract(uow: UnitOfWork, command: SubmitContract) -> tuple[Contract, SigningLink]:
    """Ready for the client: a new single-use signing link (only its hash is kept), mailed to
    the client in the transaction of the step (the contract and its member are read with one
    command)."""
    found = await load_with_member(uow.db, {"_id": command.contract_id}, session=uow.session)
    read, member = found or ({}, None)
    contract = visible_or_404(command.principal, contract_from(read) if found else None,
                              "Contract", command.contract_id)
    if member is None or not member.may_contract:
        raise Problem(409, "Member not active", "Only active members submit contracts",
                      "member-not-active")
    now = uow.clock.now()
    rules = contract_rules(contract.branch, uow.clock.today())
    link = issue_signing_link(now, rules.signing_link_valid_days.value)
    try:
        contract.submit(link, now)
    except TransitionRefused as error:
        raise status_refused(error) from None
    if not await save_step(uow.db, read, contract, session=uow.session):
        raise conflict("Contract changed", "The contract changed meanwhile; try again")
    send_mail(uow, signing_link_mail(contract, member, link, command.portal_url))
    return contract, link
