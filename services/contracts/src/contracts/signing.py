"""The client's signature through the signing link, SMart's validation (``ContractSigned``),
and the signed copy and insurance certificate a signed contract gives."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from smart_shared.auth import Principal, visible_or_404
from smart_shared.mail import send_mail
from smart_shared.mongo import UnitOfWork
from smart_shared.problems import Problem, conflict
from smart_shared.service import Platform
from smart_shared.telemetry import current_traceparent

from contracts.domain import (
    Contract,
    SignatureEvidence,
    SigningRefused,
    TermsChanged,
    TransitionRefused,
)
from contracts.domain.members import KnownMember
from contracts.domain.signing import hash_token
from contracts.mails import contract_signed_mail
from contracts.refusals import LINK_USED, contract_rules, link_refused, link_unknown
from contracts.store import (
    by_signing_token,
    contract_from,
    contract_of_link,
    load_with_member,
    save_step,
)

log = logging.getLogger("contracts")

# the link that signed a contract opens its signed copy this long after the signature
SIGNED_COPY_DAYS = 30


@dataclass(frozen=True)
class SignByClient:
    """The client signs with the link's token from ``ip``, with the page's evidence if any."""

    token: str
    ip: str
    evidence: SignatureEvidence | None = None


async def contract_to_sign(platform: Platform, token: str) -> Contract:
    """The contract a signing link shows its client, without using the link."""
    contract = await contract_of_link(platform.db, hash_token(token))
    if contract is None:
        raise link_unknown()
    try:
        contract.check_signing_token(token, platform.clock.now())
    except SigningRefused as error:
        raise link_refused(error) from None
    except TransitionRefused:
        raise LINK_USED from None
    return contract


async def sign_by_client(uow: UnitOfWork, command: SignByClient) -> Contract:
    """The client signs with the link's token, then SMart validates: ``ContractSigned``.

    The token is the only authority; it works once and until it expires. The evidence (name,
    address, browser, SHA-256 of the terms shown) is kept with the signature; terms that no
    longer match the contract refuse the signature (409).
    """
    traceparent = current_traceparent()
    found = await load_with_member(uow.db, by_signing_token(hash_token(command.token)),
                                   session=uow.session)
    if found is None:
        raise link_unknown()
    read, member = found
    contract = contract_from(read)
    try:
        contract.sign_by_client(command.token, command.ip, uow.clock.now(), traceparent,
                                command.evidence)
    except SigningRefused as error:
        raise link_refused(error) from None
    except TransitionRefused:
        raise LINK_USED from None
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
    found = await load_with_member(platform.db, by_signing_token(hash_token(token)))
    if found is None:
        raise link_unknown()
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
