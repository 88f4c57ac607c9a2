"""A member's pages: dashboard, contracts with their live timeline, invoices, salaries, profile."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.response import Redirect, ServerSentEvent, Template
from litestar.response.sse import ServerSentEventMessage
from smart_shared.service import Platform

from portal import timeline
from portal.i18n import gettext as _
from portal.pages.forms import amount_of, field_errors, form_of, required
from portal.payment_qr import invoice_qr
from portal.services import Refused
from portal.web import Visitor, download, page

CONTRACT_FIELDS = ("activity", "description", "work_days", "amount", "expenses", "client_name",
                   "client_kind", "client_email", "client_country", "client_vat_number",
                   "client_street", "client_postal_code", "client_city", "client_language",
                   "work_nature")
CONTRACT_API_FIELDS = {
    "amount_excl_vat": "amount", "amount_excl_vat.amount": "amount", "expenses.amount": "expenses",
    "client.name": "client_name", "client.kind": "client_kind", "client.email": "client_email",
    "client.country": "client_country", "client.vat_number": "client_vat_number",
    "vat_number": "client_vat_number", "client.address.street": "client_street",
    "client.address.postal_code": "client_postal_code", "client.address.city": "client_city",
    "client.address.country": "client_country", "client.language": "client_language",
}


def _work_days(text: str) -> list[str]:
    """Work days as typed or picked: ISO dates separated by commas, spaces or new lines."""
    return [part for part in text.replace(",", " ").split() if part]


def contract_body(values: dict[str, str], errors: dict[str, str]) -> dict[str, Any]:
    amount = amount_of(values.get("amount", ""))
    if values.get("amount") and amount is None:
        errors["amount"] = _("Enter an amount like 1200.00")
    expenses = amount_of(values.get("expenses") or "0")
    if expenses is None:
        errors["expenses"] = _("Enter an amount like 50.00")
    days = _work_days(values.get("work_days", ""))
    for text in days:
        try:
            date.fromisoformat(text)
        except ValueError:
            errors["work_days"] = _("Enter each work day as a date, like 2026-03-14")
    client: dict[str, Any] = {
        "name": values.get("client_name", ""), "kind": values.get("client_kind", ""),
        "email": values.get("client_email", ""),
        "country": values.get("client_country", "").upper(),
        "language": values.get("client_language") or "en",
        "address": {"street": values.get("client_street", ""),
                    "postal_code": values.get("client_postal_code", ""),
                    "city": values.get("client_city", ""),
                    "country": values.get("client_country", "").upper()},
    }
    if values.get("client_vat_number"):
        client["vat_number"] = values["client_vat_number"]
    return {"activity": values.get("activity", ""), "description": values.get("description", ""),
            "work_days": days, "client": client,
            "amount_excl_vat": {"amount": amount or "0", "currency": "EUR"},
            "expenses": {"amount": expenses or "0.00", "currency": "EUR"},
            "work_nature": values.get("work_nature") or "other"}


class MemberPages(Controller):
    include_in_schema = False

    async def _member(self, visitor: Visitor, recent: bool = False) -> dict[str, Any]:
        member_id = visitor.require_member().member_id
        read = visitor.services.recent if recent else visitor.services.get
        return dict(await read("members", f"/v1/members/{member_id}"))

    @get("/dashboard")
    async def dashboard(self, request: Request[Any, Any, Any],
                        visitor: Visitor) -> Template | Redirect:
        visitor.require_member()
        # a summary: what the member read a moment ago is still true unless they changed it
        member, contracts, invoices, salaries = await asyncio.gather(
            self._member(visitor, recent=True),
            visitor.services.items("contracts", "/v1/contracts", recent=True, order="newest"),
            visitor.services.items("billing", "/v1/invoices", recent=True, status="open",
                                   order="newest"),
            visitor.services.items("payroll", "/v1/salaries", recent=True, order="newest"))
        due = [s for s in salaries if s["status"] != "paid"]
        return page(request, "member/dashboard.html", visitor=visitor, member=member,
                    contracts=contracts, open_invoices=invoices, due_salaries=due,
                    on_the_way=sum((Decimal(s["breakdown"]["paid"]["amount"]) for s in due),
                                   Decimal("0.00")),
                    next_pay_date=min((s["pay_date"] for s in due), default=None),
                    unpaid_shares=[s for s in member.get("shares", [])
                                   if not s.get("paid_on")])

    @get("/contracts")
    async def contracts(self, request: Request[Any, Any, Any], visitor: Visitor,
                        cursor: str | None = None) -> Template | Redirect:
        visitor.require_member()
        listing = await visitor.services.history("contracts", "/v1/contracts", cursor)
        return page(request, "member/contracts.html", visitor=visitor,
                    contracts=listing.items, listing=listing)

    @get("/contracts/new")
    async def new_contract(self, request: Request[Any, Any, Any],
                           visitor: Visitor) -> Template | Redirect:
        visitor.require_member()
        member = await self._member(visitor)
        return page(request, "member/contract_form.html", visitor=visitor, member=member,
                    values={"client_kind": "business", "client_country": member["branch"],
                            "client_language": visitor.language, "expenses": "0.00",
                            "work_nature": "other"},
                    errors={}, simulation=None)

    @post("/contracts", status_code=200)
    async def draft(self, request: Request[Any, Any, Any],
                    visitor: Visitor) -> Response[Any]:
        visitor.require_member()
        values = await form_of(request)
        errors = required(values, "activity", "description", "work_days", "amount",
                          "client_name", "client_kind", "client_email", "client_country",
                          "client_street", "client_postal_code", "client_city")
        body = contract_body(values, errors)
        if not errors:
            try:
                contract = await visitor.services.post("contracts", "/v1/contracts", body)
                return Redirect(f"/contracts/{contract['contract_id']}", status_code=303)
            except Refused as refused:
                errors = {CONTRACT_API_FIELDS.get(name, name): message
                          for name, message in field_errors(refused).items()}
                errors = {name if name in CONTRACT_FIELDS else "": message
                          for name, message in errors.items()}
        member = await self._member(visitor)
        return page(request, "member/contract_form.html", status_code=400, visitor=visitor,
                    member=member, values=values, errors=errors, simulation=None)

    @post("/contracts/simulation", status_code=200)
    async def simulate(self, request: Request[Any, Any, Any],
                       visitor: Visitor) -> Template | Redirect:
        """The salary a contract of this amount would pay (the form's side panel, by htmx)."""
        visitor.require_member()
        values = await form_of(request)
        member = await self._member(visitor, recent=True)  # read again at every keystroke
        kind = next((a["kind"] for a in member["activities"]
                     if a["name"] == values.get("activity")), None)
        if kind is None and member["activities"]:
            kind = member["activities"][0]["kind"]
        amount = amount_of(values.get("amount", ""))
        expenses = amount_of(values.get("expenses") or "0") or "0.00"
        simulation, problem = None, None
        if amount and Decimal(amount) > 0 and kind:
            try:
                simulation = await visitor.services.post("payroll", "/v1/simulations", {
                    "branch": member["branch"], "activity_kind": kind,
                    "amount_excl_vat": {"amount": amount, "currency": "EUR"},
                    "expenses": {"amount": expenses, "currency": "EUR"}}, changes=False)
            except Refused as refused:
                problem = refused.detail or refused.title
        return page(request, "member/contract_form.html", block="simulation", visitor=visitor,
                    member=member, values=values, errors={}, simulation=simulation,
                    simulation_problem=problem)

    @get("/contracts/{contract_id:str}")
    async def contract(self, request: Request[Any, Any, Any], visitor: Visitor,
                       platform: Platform, contract_id: str) -> Template | Redirect:
        visitor.require_member()
        contract = await visitor.services.get("contracts", f"/v1/contracts/{contract_id}")
        steps = await timeline.entries(platform.db, contract_id)
        return page(request, "member/contract.html", visitor=visitor, contract=contract,
                    steps=steps, signing=None)

    @get("/contracts/{contract_id:str}/insurance-certificate")
    async def insurance_certificate(self, request: Request[Any, Any, Any], visitor: Visitor,
                                    contract_id: str) -> Response[Any]:
        """The contract's certificate of insurance cover (PDF), once SMart validated it."""
        visitor.require_signed_in()
        answer = await visitor.services.call(
            "GET", "contracts", f"/v1/contracts/{contract_id}/insurance-certificate")
        return download(answer, f"insurance-certificate-{contract_id}.pdf")

    @post("/contracts/{contract_id:str}/submit", status_code=200)
    async def submit(self, request: Request[Any, Any, Any], visitor: Visitor,
                     platform: Platform, contract_id: str) -> Template | Redirect:
        visitor.require_member()
        answer = await visitor.services.post("contracts", f"/v1/contracts/{contract_id}/submit")
        steps = await timeline.entries(platform.db, contract_id)
        link = f"{request.base_url}".rstrip("/") + f"/sign/{answer['signing_token']}"
        return page(request, "member/contract.html", visitor=visitor,
                    contract=answer["contract"], steps=steps, signing=link)

    @get("/contracts/{contract_id:str}/timeline")
    async def timeline_stream(self, visitor: Visitor, platform: Platform,
                              contract_id: str) -> ServerSentEvent | Redirect:
        """New steps of the contract's timeline as they happen (server-sent events)."""
        visitor.require_member()
        # the contracts service decides who may see the contract
        await visitor.services.get("contracts", f"/v1/contracts/{contract_id}")
        known = {entry["_id"] for entry in await timeline.entries(platform.db, contract_id)}
        step = platform.extras["templates"].get_template("partials/step.html")

        async def steps() -> AsyncIterator[ServerSentEventMessage]:
            async for entry in timeline.stream(platform.db, contract_id, known):
                html = step.render(step=entry)
                yield ServerSentEventMessage(data=" ".join(html.split("\n")), event="step")

        return ServerSentEvent(steps())

    @get("/invoices")
    async def invoices(self, request: Request[Any, Any, Any], visitor: Visitor,
                       cursor: str | None = None) -> Template | Redirect:
        visitor.require_member()
        listing = await visitor.services.history("billing", "/v1/invoices", cursor)
        return page(request, "member/invoices.html", visitor=visitor,
                    invoices=listing.items, listing=listing)

    @get("/invoices/{invoice_id:str}")
    async def invoice(self, request: Request[Any, Any, Any], visitor: Visitor,
                      invoice_id: str) -> Template | Redirect:
        visitor.require_signed_in()
        invoice = await visitor.services.get("billing", f"/v1/invoices/{invoice_id}")
        return page(request, "member/invoice.html", visitor=visitor, invoice=invoice,
                    qr=invoice_qr(invoice))

    @get("/invoices/{invoice_id:str}/{kind:str}")
    async def invoice_document(self, request: Request[Any, Any, Any], visitor: Visitor,
                               invoice_id: str, kind: str) -> Response[Any]:
        """The invoice as PDF (``pdf``) or UBL e-invoice (``xml``)."""
        visitor.require_signed_in()
        if kind not in ("pdf", "xml"):
            raise Refused(404, _("Not found"))
        answer = await visitor.services.call("GET", "billing",
                                             f"/v1/invoices/{invoice_id}.{kind}")
        return download(answer, f"invoice-{invoice_id}.{kind}")

    @get("/salaries")
    async def salaries(self, request: Request[Any, Any, Any], visitor: Visitor,
                       cursor: str | None = None) -> Template | Redirect:
        visitor.require_member()
        listing = await visitor.services.history("payroll", "/v1/salaries", cursor)
        return page(request, "member/salaries.html", visitor=visitor,
                    salaries=listing.items, listing=listing)

    @get("/salaries/{salary_id:str}/payslip.pdf")
    async def payslip(self, request: Request[Any, Any, Any], visitor: Visitor,
                      salary_id: str) -> Response[Any]:
        visitor.require_signed_in()
        answer = await visitor.services.call("GET", "payroll",
                                             f"/v1/salaries/{salary_id}/payslip.pdf")
        return download(answer, f"payslip-{salary_id}.pdf")

    @get("/profile")
    async def profile(self, request: Request[Any, Any, Any],
                      visitor: Visitor) -> Template | Redirect:
        visitor.require_member()
        member = await self._member(visitor)
        return page(request, "member/profile.html", visitor=visitor, member=member,
                    values=_profile_values(member), errors={}, saved=False)

    @post("/profile", status_code=200)
    async def change_profile(self, request: Request[Any, Any, Any],
                             visitor: Visitor) -> Template | Redirect:
        member_id = visitor.require_member().member_id
        values = await form_of(request)
        errors = required(values, "email", "street", "postal_code", "city", "country", "iban")
        if not errors:
            try:
                member = await visitor.services.patch(
                    "members", f"/v1/members/{member_id}", {
                        "email": values["email"], "iban": values["iban"],
                        "address": {"street": values["street"],
                                    "postal_code": values["postal_code"],
                                    "city": values["city"],
                                    "country": values["country"].upper()}})
                return page(request, "member/profile.html", visitor=visitor, member=member,
                            values=_profile_values(member), errors={}, saved=True)
            except Refused as refused:
                errors = {name.removeprefix("address."): message
                          for name, message in field_errors(refused).items()}
        member = await self._member(visitor)
        return page(request, "member/profile.html", status_code=400, visitor=visitor,
                    member=member, values=values, errors=errors, saved=False)

    @post("/profile/erasure", status_code=200)
    async def erase(self, request: Request[Any, Any, Any], visitor: Visitor) -> Response[Any]:
        member_id = visitor.require_member().member_id
        values = await form_of(request)
        if values.get("confirm") != "yes":
            member = await self._member(visitor)
            return page(request, "member/profile.html", status_code=400, visitor=visitor,
                        member=member, values=_profile_values(member), saved=False,
                        errors={"confirm": _("Tick the box to confirm the erasure")})
        await visitor.services.post("members",
                                    f"/v1/members/{member_id}/erasure")
        return page(request, "member/erased.html", visitor=visitor)


def _profile_values(member: dict[str, Any]) -> dict[str, str]:
    address = member.get("address") or {}
    payout = member.get("payout") or {}
    return {"email": member.get("email", ""), "street": address.get("street", ""),
            "postal_code": address.get("postal_code", ""), "city": address.get("city", ""),
            "country": address.get("country", ""), "iban": payout.get("iban", "")}

