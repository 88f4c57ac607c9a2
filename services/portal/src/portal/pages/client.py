"""A client's pages, opened from e-mailed capability links: read and sign the contract, see the
invoice and ask for a payment plan."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.response import Template
from smart_shared.http import path_token

from portal.i18n import gettext as _
from portal.pages.forms import form_of
from portal.payment_qr import invoice_qr
from portal.services import Refused
from portal.web import Visitor, download, page


def _signer_address(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else "unknown"


class ClientPages(Controller):
    include_in_schema = False

    async def _terms(self, visitor: Visitor, token: str) -> dict[str, Any]:
        # reading the terms does not use the link: only signing does
        return dict(await visitor.services.anonymously().get(
            "contracts", f"/v1/contracts/sign/{token}"))

    @get("/sign/{token:str}")
    async def signing_page(self, request: Request[Any, Any, Any], visitor: Visitor,
                           token: str) -> Template:
        token = path_token(request.scope, token)
        try:
            terms = await self._terms(visitor, token)
        except Refused as refused:
            return page(request, "client/link_refused.html", status_code=refused.status,
                        visitor=visitor, refused=refused)
        return page(request, "client/sign.html", visitor=visitor, terms=terms, token=token,
                    values={}, errors={})

    @post("/sign/{token:str}", status_code=200)
    async def sign(self, request: Request[Any, Any, Any], visitor: Visitor,
                   token: str) -> Template:
        token = path_token(request.scope, token)
        values = await form_of(request)
        errors: dict[str, str] = {}
        if not values.get("signer_name"):
            errors["signer_name"] = _("Enter your full name")
        if values.get("consent") != "yes":
            errors["consent"] = _("Tick the box to agree to the contract")
        try:
            if errors:
                terms = await self._terms(visitor, token)
                return page(request, "client/sign.html", status_code=400, visitor=visitor,
                            terms=terms, token=token, values=values, errors=errors)
            signed = await visitor.services.anonymously().post(
                "contracts", f"/v1/contracts/sign/{token}", {
                    "signer_name": values["signer_name"],
                    "terms_sha256": values.get("terms_sha256", ""),
                    "signer_address": _signer_address(request),
                    "user_agent": request.headers.get("user-agent", "")[:500],
                })
        except Refused as refused:
            if refused.status == 409:  # the terms changed since the page was shown
                terms = await self._terms(visitor, token)
                return page(request, "client/sign.html", status_code=409, visitor=visitor,
                            terms=terms, token=token, values=values,
                            errors={"": _("The contract changed since you opened it: read it "
                                          "again before signing")})
            return page(request, "client/link_refused.html", status_code=refused.status,
                        visitor=visitor, refused=refused)
        return page(request, "client/signed.html", visitor=visitor, signed=signed, token=token)

    @get("/sign/{token:str}/insurance-certificate")
    async def insurance_certificate(self, request: Request[Any, Any, Any], visitor: Visitor,
                                    token: str) -> Response[Any]:
        """The certificate of insurance cover of the contract the link signed (PDF)."""
        token = path_token(request.scope, token)
        answer = await visitor.services.anonymously().call(
            "GET", "contracts", f"/v1/contracts/sign/{token}/insurance-certificate")
        return download(answer, "insurance-certificate.pdf")

    async def _invoice(self, request: Request[Any, Any, Any], visitor: Visitor, token: str,
                       status_code: int = 200, **context: Any) -> Template:
        try:
            invoice = await visitor.services.anonymously().post(
                "billing", "/v1/client-invoices", {"token": token})
        except Refused as refused:
            return page(request, "client/link_refused.html", status_code=refused.status,
                        visitor=visitor, refused=refused)
        context.setdefault("values", {})
        context.setdefault("errors", {})
        return page(request, "client/invoice.html", status_code=status_code, visitor=visitor,
                    invoice=invoice, token=token, qr=invoice_qr(invoice), **context)

    @get("/invoice/{token:str}")
    async def invoice_page(self, request: Request[Any, Any, Any], visitor: Visitor,
                           token: str) -> Template:
        token = path_token(request.scope, token)
        return await self._invoice(request, visitor, token)

    @get("/invoice/{token:str}/{kind:str}")
    async def invoice_document(self, request: Request[Any, Any, Any], visitor: Visitor,
                               token: str, kind: str) -> Response[Any]:
        token = path_token(request.scope, token)
        if kind not in ("pdf", "xml"):
            raise Refused(404, _("Not found"))
        answer = await visitor.services.anonymously().call(
            "POST", "billing", "/v1/client-invoices/document",
            json={"token": token, "document": "pdf" if kind == "pdf" else "ubl"})
        return download(answer, f"invoice.{kind}")

    @post("/invoice/{token:str}/payment-plan", status_code=200)
    async def ask_for_a_plan(self, request: Request[Any, Any, Any], visitor: Visitor,
                             token: str) -> Template:
        token = path_token(request.scope, token)
        values = await form_of(request)
        count = values.get("instalments", "")
        if not count.isdigit() or not 2 <= int(count) <= 12:
            return await self._invoice(request, visitor, token, 400, values=values, errors={
                "instalments": _("Enter a number of payments from 2 to 12")})
        try:
            await visitor.services.anonymously().post("collection", "/v1/payment-plan-requests", {
                "token": token, "instalments": int(count),
                "message": values.get("message") or None})
        except Refused as refused:
            message = (_("There is no claim to plan payments for yet") if refused.status == 409
                       else refused.detail or refused.title)
            return await self._invoice(request, visitor, token, refused.status, values=values,
                                       errors={"instalments": message})
        return await self._invoice(request, visitor, token, requested=True)
