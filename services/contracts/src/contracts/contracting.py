"""Use cases of the contract's life that people start: draft, submit, client signature, cancel."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from smart_shared.auth import Principal, visible_or_404
from smart_shared.events import WorkNature
from smart_shared.ids import new_id
from smart_shared.mail import send_mail
from smart_shared.money import Money, NonNegativeMoney, PositiveMoney
from smart_shared.mongo import UnitOfWork, text_equals
from smart_shared.problems import Problem, conflict, forbidden, invalid
from smart_shared.rulepacks import UnknownRulePack, rule_pack
from smart_shared.service import Platform
from smart_shared.telemetry import current_traceparent
from smart_shared.text import OneLine, Paragraph

from contracts.domain import (
    ClientDetails,
    ClientRefused,
    Contract,
    ContractRules,
    EmploymentGateway,
    GatewayUnavailable,
    PaymentTermRefused,
    SignatureEvidence,
    SigningRefused,
    TermsChanged,
    TransitionRefused,
    WorkDaysRefused,
    checked_work_days,
    issue_signing_link,
    make_client,
    payment_term,
)
from contracts.domain.members import KnownMember
from contracts.domain.signing import SigningLink, hash_token
from contracts.mails import contract_signed_mail, signing_link_mail
from contracts.store import (
    CONTRACTS,
    contract_from,
    insert_contract,
    load_contract,
    load_with_member,
    read_member,
    save_contract,
    save_step,
)

log = logging.getLogger("contracts")


class NewContract(BaseModel):
    """A contract as the member (or staff for them) drafts it."""

    model_config = ConfigDict(extra="forbid")

    member_id: str | None = Field(None, max_length=100,
                                  description="Required for staff; a member drafts for themselves.")
    activity: Annotated[OneLine, StringConstraints(max_length=200)]
    client: ClientDetails
    description: Annotated[Paragraph, StringConstraints(max_length=4000)]
    work_days: list[date] = Field(min_length=1, max_length=366)
    amount_excl_vat: PositiveMoney
    expenses: NonNegativeMoney = Field(
        default_factory=lambda: NonNegativeMoney(amount=Decimal("0.00")))
    payment_term_days: int | None = Field(None, ge=0, le=365)
    work_nature: WorkNature = Field(
        "other", description="What the work is, which decides the invoice's VAT category "
        "(billing's rule pack): 'copyright' (transfer or licence of the author's rights, not "
        "software), 'performance' (a performer's work), 'performance_for_organiser' (the same, "
        "for an organiser of shows or concerts, a record publisher or a film producer), "
        "'other'.")


class Cancellation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[Paragraph, StringConstraints(max_length=500)] = "cancelled on request"


def contract_rules(branch: str, today: date) -> ContractRules:
    """The contracts section of the branch's rule pack in force today."""
    try:
        return rule_pack(branch, today).section("contracts", ContractRules)
    except UnknownRulePack:
        raise Problem(409, "Branch not served", f"No contract rules for branch {branch}",
                      "branch-not-served") from None


def _refused(error: TransitionRefused) -> Problem:
    return Problem(409, "Not allowed in this status", error.why, "contract-status",
                   status_now=error.current.value)


def _currency_checked(body: NewContract, currency: str) -> None:
    if body.amount_excl_vat.currency != currency:
        raise invalid("amount_excl_vat.currency", f"must be {currency}")
    if body.expenses.currency != currency:
        raise invalid("expenses.currency", f"must be {currency}")


async def draft_contract(platform: Platform, principal: Principal, body: NewContract) -> Contract:
    """Draft a contract for an active member (``draft``); nothing is published yet."""
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
    # a single insert and no event: no transaction needed
    await insert_contract(platform.db, contract)
    return contract


async def _own_contract(uow: UnitOfWork, principal: Principal, contract_id: str) -> Contract:
    return visible_or_404(principal, await load_contract(uow, contract_id), "Contract", contract_id)


async def find_contract(platform: Platform, principal: Principal, contract_id: str) -> Contract:
    """The contract, if the caller may see it (else 404)."""
    doc = await platform.db[CONTRACTS].find_one({"_id": contract_id})
    return visible_or_404(principal, contract_from(doc) if doc else None, "Contract", contract_id)


async def submit_contract(platform: Platform, principal: Principal,
                          contract_id: str) -> tuple[Contract, SigningLink]:
    """Ready for the client: a new single-use signing link (only its hash is kept), mailed to
    the client in the transaction of the step (the contract and its member are read with one
    command before it)."""
    found = await load_with_member(platform.db, {"_id": contract_id})
    read, member = found or ({}, None)
    contract = visible_or_404(principal, contract_from(read) if found else None, "Contract",
                              contract_id)
    if member is None or not member.may_contract:
        raise Problem(409, "Member not active", "Only active members submit contracts",
                      "member-not-active")
    now = platform.clock.now()
    rules = contract_rules(contract.branch, platform.clock.today())
    link = issue_signing_link(now, rules.signing_link_valid_days.value)
    try:
        contract.submit(link, now)
    except TransitionRefused as error:
        raise _refused(error) from None
    mail = signing_link_mail(contract, member, link, platform.settings.portal_url)

    async def work(uow: UnitOfWork) -> None:
        if not await save_step(uow.db, read, contract, session=uow.session):
            raise conflict("Contract changed", "The contract changed meanwhile; try again")
        send_mail(uow, mail)

    await platform.database.transaction(work)
    return contract, link


def _link_refused(error: SigningRefused) -> Problem:
    return Problem(404 if error.reason == "unknown" else 410, "Signing link not usable",
                   error.detail, f"signing-link-{error.reason}")


_LINK_USED = Problem(410, "Signing link not usable", "This signing link was used already or "
                     "its contract was cancelled", "signing-link-used")


async def contract_to_sign(platform: Platform, token: str) -> Contract:
    """The contract a signing link shows its client, without using the link."""
    doc = await platform.db[CONTRACTS].find_one(
        {"signing.token_hash": text_equals(hash_token(token))})
    if doc is None:
        raise Problem(404, "Signing link not valid", "This signing link is not valid",
                      "signing-link-unknown")
    contract = contract_from(doc)
    try:
        contract.check_signing_token(token, platform.clock.now())
    except SigningRefused as error:
        raise _link_refused(error) from None
    except TransitionRefused:
        raise _LINK_USED from None
    return contract


# the link that signed a contract opens its signed copy this long after the signature
SIGNED_COPY_DAYS = 30


async def signed_contract(platform: Platform, principal: Principal,
                          contract_id: str) -> tuple[Contract, KnownMember | None]:
    """The contract and its member, once its client signed it, if the caller may see it."""
    found = await load_with_member(platform.db, {"_id": contract_id})
    read, member = found or ({}, None)
    contract = visible_or_404(principal, contract_from(read) if found else None, "Contract",
                              contract_id)
    return _signed(contract), member


async def signed_contract_by_link(platform: Platform,
                                  token: str) -> tuple[Contract, KnownMember | None]:
    """The contract the signing link signed, for its client, during ``SIGNED_COPY_DAYS``."""
    found = await load_with_member(
        platform.db, {"signing.token_hash": text_equals(hash_token(token))})
    if found is None:
        raise Problem(404, "Signing link not valid", "This signing link is not valid",
                      "signing-link-unknown")
    contract = _signed(contract_from(found[0]))
    assert contract.client_signature is not None
    if platform.clock.now() > contract.client_signature.signed_at + timedelta(
            days=SIGNED_COPY_DAYS):
        raise Problem(410, "Signed copy no longer available",
                      f"The signing link opens the signed contract for {SIGNED_COPY_DAYS} days "
                      "after the signature; ask the member or the cooperative for a copy",
                      "signed-copy-expired")
    return contract, found[1]


async def insured_contract(platform: Platform, principal: Principal,
                           contract_id: str) -> tuple[Contract, KnownMember | None]:
    """The contract and its member once SMart validated it (and recorded its insurance cover),
    if the caller may see it."""
    contract, member = await signed_contract(platform, principal, contract_id)
    return _insured(contract), member


async def insured_contract_by_link(platform: Platform,
                                   token: str) -> tuple[Contract, KnownMember | None]:
    """The insured contract the signing link signed, for its client, as long as the link opens
    the signed copy."""
    contract, member = await signed_contract_by_link(platform, token)
    return _insured(contract), member


def _insured(contract: Contract) -> Contract:
    if contract.insurance is None:
        raise conflict("Contract not covered yet",
                       f"Contract {contract.contract_id} is covered once SMart validated it "
                       "after the client's signature; it is not yet")
    return contract


def _signed(contract: Contract) -> Contract:
    if contract.client_signature is None:
        raise conflict("Contract not signed yet",
                       f"Contract {contract.contract_id} is not signed by its client yet")
    return contract


async def sign_by_client(platform: Platform, token: str, ip: str,
                         evidence: SignatureEvidence | None = None) -> Contract:
    """The client signs with the link's token, then SMart validates: ``ContractSigned``.

    The token is the only authority; it works once and until it expires. ``evidence`` (name,
    address, browser, SHA-256 of the terms shown) is kept with the signature; terms that no
    longer match the contract refuse the signature (409).
    """
    token_hash = hash_token(token)
    traceparent = current_traceparent()

    async def work(uow: UnitOfWork) -> Contract:
        found = await load_with_member(uow.db, {"signing.token_hash": text_equals(token_hash)},
                                       session=uow.session)
        if found is None:
            raise Problem(404, "Signing link not valid", "This signing link is not valid",
                          "signing-link-unknown")
        read, member = found
        contract = contract_from(read)
        try:
            contract.sign_by_client(token, ip, uow.clock.now(), traceparent, evidence)
        except SigningRefused as error:
            raise _link_refused(error) from None
        except TransitionRefused:
            raise _LINK_USED from None
        except TermsChanged:
            raise Problem(409, "Terms changed", "The terms signed are not the contract's "
                          "terms: show the contract again", "terms-changed",
                          errors=[{"field": "terms_sha256",
                                   "message": "does not match the contract's terms"}]) from None
        today = uow.clock.today()
        signed = contract.validate_for_smart(bool(member and member.may_contract), today,
                                             uow.clock.now(),
                                             contract_rules(contract.branch, today).insurance)
        if not await save_step(uow.db, read, contract, session=uow.session):
            raise Problem(410, "Signing link not usable", "This signing link was used already",
                          "signing-link-used")
        if signed is not None:
            uow.publish(signed)
            signed_mail = contract_signed_mail(contract, member)
            if signed_mail:
                send_mail(uow, signed_mail)
        else:
            log.warning("contract %s signed by the client but not validated: %s",
                        contract.contract_id, contract.validation_refused)
        return contract

    return await platform.database.transaction(work)


async def cancel_contract(platform: Platform, principal: Principal, contract_id: str,
                          reason: str) -> Contract:
    """Cancel before the first work day: ``ContractCancelled``; the declaration is cancelled
    with the gateway right after (or by the scheduler if the gateway is down)."""

    async def work(uow: UnitOfWork) -> Contract:
        contract = await _own_contract(uow, principal, contract_id)
        read_status = contract.status.value
        try:
            event = contract.cancel(reason, uow.clock.today(), uow.clock.now())
        except TransitionRefused as error:
            raise _refused(error) from None
        if not await save_contract(uow, contract, read_status):
            raise conflict("Contract changed", "The contract changed meanwhile; try again")
        uow.publish(event)
        return contract

    contract = await platform.database.transaction(work)
    if contract.declaration.cancel_pending:
        await cancel_declaration(platform, gateway_of(platform), contract.contract_id)
        refreshed = await platform.db[CONTRACTS].find_one({"_id": contract_id})
        if refreshed:
            contract = contract_from(refreshed)
    return contract


def gateway_of(platform: Platform) -> EmploymentGateway:
    gateway: EmploymentGateway = platform.extras["gateway"]
    return gateway


async def cancel_declaration(platform: Platform, gateway: EmploymentGateway,
                             contract_id: str) -> bool:
    """Cancel a cancelled contract's declaration with the gateway; False if it must wait."""
    doc = await platform.db[CONTRACTS].find_one(
        {"_id": contract_id, "declaration.cancel_pending": True})
    if doc is None:
        return False
    reference = doc["declaration"]["reference"]
    try:
        await gateway.cancel(reference)
    except GatewayUnavailable as error:
        log.warning("declaration %s of contract %s not cancelled yet: %s",
                    reference, contract_id, error)
        return False

    # one conditional update and no event: no transaction needed
    result = await platform.db[CONTRACTS].update_one(
        {"_id": contract_id, "declaration.cancel_pending": True},
        {"$set": {"declaration.cancel_pending": False,
                  "declaration.cancelled_at": platform.clock.now()}},
    )
    return result.modified_count == 1
