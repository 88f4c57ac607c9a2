"""HTTP: drafting, submitting, signing (public, by token), cancelling and reading contracts."""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import Parameter
from smart_shared.auth import Principal, visible_or_404
from smart_shared.http import Order, Page, path_token
from smart_shared.openapi import PDF, problems
from smart_shared.problems import forbidden, invalid
from smart_shared.service import Platform
from smart_shared.simulators import outage_switch

from contracts.bodies import Cancellation, NewContract, SignatureIn
from contracts.cancellation import CancelContract, cancel_before_start
from contracts.contract_pdf import signed_contract_pdf
from contracts.declarations import gateway_of
from contracts.domain import Contract, ContractStatus, SignatureEvidence, terms_digest
from contracts.domain.members import KnownMember
from contracts.drafting import DraftContract, SubmitContract, draft_contract, submit_contract
from contracts.gateway_simulator import SimulatedSocialSecurityGateway
from contracts.insurance_certificate import insurance_certificate_pdf, member_language
from contracts.refusals import contract_rules
from contracts.signing import (
    SignByClient,
    contract_to_sign,
    insured_contract,
    insured_contract_by_link,
    sign_by_client,
    signed_contract,
    signed_contract_by_link,
)
from contracts.store import contracts_page, late_declarations_page, read_contract, read_member

SIGN_ROUTE = "/v1/contracts/sign/{token}"
NOT_NOW = (409, "Not in this status, the member not active, the branch not served, or the "
           "contract changed meanwhile")
NOT_SIGNED = (409, "The client has not signed the contract yet")
NOT_COVERED = (409, "The contract is not signed and validated yet: no insurance cover")
COPY_GONE = (410, "The signed copy is no longer served by the link")
LINK_GONE = (410, "The signing link was used already or has expired")


def contract_view(contract: Contract) -> dict[str, Any]:
    """The contract as callers see it: never the signing token or its hash."""
    view = contract.model_dump(mode="json", exclude={"signing", "traceparent"})
    view["first_work_day"] = contract.first_work_day.isoformat()
    view["last_work_day"] = contract.last_work_day.isoformat()
    if contract.signing is not None:
        view["signing_link"] = {
            "issued_at": contract.signing.issued_at.isoformat(),
            "expires_at": contract.signing.expires_at.isoformat(),
            "used_at": contract.signing.used_at.isoformat() if contract.signing.used_at else None,
        }
    return view


SIGN_PREFIX = SIGN_ROUTE.removesuffix("{token}")


class ContractController(Controller):
    path = "/v1/contracts"
    tags = ["contracts"]

    @post("/", summary="Draft a contract for an active member", status_code=201,
          responses=problems(NOT_NOW))
    async def create(self, data: NewContract, platform: Platform,
                     principal: Principal) -> dict[str, Any]:
        contract = await draft_contract(platform, DraftContract(principal, data))
        return contract_view(contract)

    @get("/", summary="Contracts the caller may see (member: own; staff: branch)")
    async def list_contracts(
        self, platform: Platform, principal: Principal,
        member_id: str | None = None,
        status: ContractStatus | None = None,
        cursor: str | None = None,
        limit: int = Parameter(default=50, ge=1, le=500),
        order: Order = "oldest",
    ) -> Page[dict[str, Any]]:
        if principal.role == "member":
            if member_id is not None and member_id != principal.member_id:
                raise forbidden("A member sees only their own contracts")
            member_id = principal.member_id
        contracts, next_cursor = await contracts_page(
            platform.database, principal.branch, member_id,
            status.value if status is not None else None, cursor, limit, order)
        return Page(items=[contract_view(contract) for contract in contracts],
                    next_cursor=next_cursor)

    @get("/late-declarations", summary="Signed contracts still undeclared close to their start",
         responses=problems((409, "No contract rules for the caller's branch")))
    async def late_declarations(
        self, platform: Platform, principal: Principal,
        cursor: str | None = None,
        limit: int = Parameter(default=50, ge=1, le=500),
    ) -> Page[dict[str, Any]]:
        principal.require("staff", "admin")
        today = platform.clock.today()
        alert_days = contract_rules(principal.branch, today).declaration_alert_days.value
        contracts, next_cursor = await late_declarations_page(
            platform.database, principal.branch, today + timedelta(days=alert_days), cursor,
            limit)
        return Page(items=[contract_view(contract) for contract in contracts],
                    next_cursor=next_cursor)

    @get("/{contract_id:str}", summary="One contract")
    async def show(self, contract_id: str, platform: Platform,
                   principal: Principal) -> dict[str, Any]:
        contract = await read_contract(platform.db, contract_id)
        return contract_view(visible_or_404(principal, contract, "Contract", contract_id))

    @get("/{contract_id:str}/document", media_type=PDF, responses=problems(NOT_SIGNED),
         summary="The signed contract as PDF, in the client's language")
    async def document(self, contract_id: str, platform: Platform,
                       principal: Principal) -> Response[bytes]:
        return _pdf(*await signed_contract(platform, principal, contract_id))

    @get("/{contract_id:str}/insurance-certificate", media_type=PDF,
         responses=problems(NOT_COVERED),
         summary="The certificate of insurance cover as PDF, in the member's language")
    async def insurance_certificate(self, contract_id: str, platform: Platform,
                                    principal: Principal) -> Response[bytes]:
        contract, member = await insured_contract(platform, principal, contract_id)
        return _certificate(contract, member, member_language(contract, member))

    @post("/{contract_id:str}/submit", summary="Submit to the client: a single-use signing link",
          status_code=200, responses=problems(NOT_NOW))
    async def submit(self, contract_id: str, platform: Platform,
                     principal: Principal) -> dict[str, Any]:
        command = SubmitContract(principal, contract_id, platform.settings.portal_url)
        contract, link = await platform.database.transaction(
            partial(submit_contract, command=command))
        return {
            "contract": contract_view(contract),
            "signing_token": link.token,
            "signing_path": SIGN_ROUTE.replace("{token}", link.token),
            "expires_at": link.expires_at.isoformat(),
        }

    @post("/{contract_id:str}/cancel", summary="Cancel before the first work day",
          status_code=200, responses=problems(NOT_NOW))
    async def cancel(self, contract_id: str, platform: Platform, principal: Principal,
                     data: Cancellation | None = None) -> dict[str, Any]:
        reason = data.reason if data else Cancellation().reason
        return contract_view(await cancel_before_start(
            platform, CancelContract(principal, contract_id, reason)))

    @get("/sign/{token:str}", summary="The terms a signing link shows its client (public; does "
         "not use the link)", responses=problems(LINK_GONE))
    async def terms_to_sign(self, token: str, request: Request[Any, Any, Any],
                            platform: Platform) -> dict[str, Any]:
        contract = await contract_to_sign(platform, _signing_token(request, token))
        assert contract.signing is not None
        terms = contract.terms
        member = await read_member(platform.db, contract.member_id)
        # the client reads who does the work by name; the terms signed keep the member's id
        member_name = member.contact.name if member is not None and member.contact else None
        return {"contract_id": contract.contract_id, "status": contract.status.value,
                "expires_at": contract.signing.expires_at.isoformat(),
                "member_name": member_name, "terms": terms, "terms_sha256": terms_digest(terms)}

    @get("/sign/{token:str}/document", media_type=PDF,
         responses=problems(NOT_SIGNED, COPY_GONE),
         summary="The contract the link signed, as PDF, for its client (public)")
    async def signed_copy(self, token: str, request: Request[Any, Any, Any],
                          platform: Platform) -> Response[bytes]:
        return _pdf(*await signed_contract_by_link(platform, _signing_token(request, token)))

    @get("/sign/{token:str}/insurance-certificate", media_type=PDF,
         responses=problems(NOT_COVERED, COPY_GONE),
         summary="The certificate of insurance cover of the contract the link signed, as PDF "
         "in the client's language (public)")
    async def client_insurance_certificate(self, token: str, request: Request[Any, Any, Any],
                                           platform: Platform) -> Response[bytes]:
        contract, member = await insured_contract_by_link(platform,
                                                          _signing_token(request, token))
        return _certificate(contract, member, contract.client.language)

    @post("/sign/{token:str}", summary="The client signs (no login: the link's token is the "
          "authority)", status_code=200,
          responses=problems((409, "The terms signed are not the contract's terms"), LINK_GONE))
    async def sign(self, token: str, request: Request[Any, Any, Any],
                   platform: Platform, data: SignatureIn | None = None) -> dict[str, Any]:
        token = _signing_token(request, token)
        ip = request.client.host if request.client else "unknown"
        evidence = SignatureEvidence(data.signer_name, data.terms_sha256, data.user_agent,
                                     data.signer_address) if data else None
        contract = await platform.database.transaction(
            partial(sign_by_client, command=SignByClient(token, ip, evidence)))
        return {
            "contract_id": contract.contract_id,
            "status": contract.status.value,
            "client_signed_at": contract.client_signature.signed_at.isoformat()
            if contract.client_signature else None,
            "validation_refused": contract.validation_refused,
        }


def _pdf(contract: Contract, member: KnownMember | None) -> Response[bytes]:
    return Response(signed_contract_pdf(contract, member), media_type=PDF, headers={
        "Content-Disposition": f'inline; filename="contract-{contract.contract_id}.pdf"'})


def _certificate(contract: Contract, member: KnownMember | None,
                 language: str) -> Response[bytes]:
    return Response(insurance_certificate_pdf(contract, member, language), media_type=PDF,
                    headers={"Content-Disposition": "inline; filename="
                             f'"insurance-certificate-{contract.contract_id}.pdf"'})


def _signing_token(request: Request[Any, Any, Any], token: str) -> str:
    token = path_token(request.scope, token)
    if not 20 <= len(token) <= 100:
        raise invalid("token", "is not a signing link token")
    return token


def _simulator(platform: Platform) -> SimulatedSocialSecurityGateway:
    gateway = gateway_of(platform)
    if not isinstance(gateway, SimulatedSocialSecurityGateway):
        raise forbidden("The real social-security gateway is not switched from here")
    return gateway


GatewaySimulatorController = outage_switch("/v1/declaration-gateway-simulator",
                                           "social-security gateway", _simulator)
