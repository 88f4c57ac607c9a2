"""A client's pages, opened from an e-mailed capability link: read and sign the contract."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.response import Template

from portal.i18n import gettext as _
from portal.pages.forms import form_of
from portal.services import Refused
from portal.web import Visitor, page


def _signer_address(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else "unknown"


class ClientPages(Controller):
    include_in_schema = False

    async def _terms(self, visitor: Visitor, token: str) -> dict[str, Any]:
        # reading the terms does not use the link: only signing does
        return dict(await visitor.services.acting_as(None).get(
            "contracts", f"/v1/contracts/sign/{token}"))

    @get("/sign/{token:str}")
    async def signing_page(self, request: Request[Any, Any, Any], visitor: Visitor,
                           token: str) -> Template:
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
            signed = await visitor.services.acting_as(None).post(
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
        return page(request, "client/signed.html", visitor=visitor, signed=signed)
