"""Microcredit and equipment leasing from the fund: members apply and follow their repayments,
staff of the branch decide, pay the loans out and confirm the bank's transfer."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.response import Redirect, Template

from portal.i18n import gettext as _
from portal.pages.forms import amount_of, field_errors, form_of, required
from portal.repayments import instalment_rows, salaries_withheld, still_due
from portal.services import Refused, Services
from portal.web import Visitor, download, page

FINANCINGS = ("microcredit", "leasing")
APPLICATION_FIELDS = {"financing", "amount", "months", "purpose", "item", "supplier",
                      "supplier_iban", "residual"}
LEASE_FIELDS = ("item", "supplier", "supplier_iban", "residual")
LOAN_STATUSES = ("applied", "approved", "paying_out", "disbursed", "repaid", "defaulted",
                 "declined")
# a disbursement file is listed through its loans: the fund keeps no list of files
FILED_STATUSES = ("paying_out", "disbursed")


def application_body(values: dict[str, str], errors: dict[str, str]) -> dict[str, Any]:
    """The fund's application from the form's fields; what cannot be read goes to ``errors``."""
    financing = values.get("financing", "")
    amount = amount_of(values.get("amount", ""))
    if values.get("amount") and amount is None:
        errors["amount"] = _("Enter an amount like 2500.00")
    months = values.get("months", "")
    if months and not months.isdigit():
        errors["months"] = _("Enter the number of months, like 12")
    body: dict[str, Any] = {
        "financing": financing, "amount": {"amount": amount or "0", "currency": "EUR"},
        "months": int(months) if months.isdigit() else 0, "purpose": values.get("purpose", "")}
    if financing == "leasing":
        residual = amount_of(values.get("residual") or "0")
        if residual is None:
            errors["residual"] = _("Enter an amount like 200.00")
        body |= {"item": values.get("item", ""), "supplier": values.get("supplier", ""),
                 "supplier_iban": values.get("supplier_iban", "").replace(" ", ""),
                 "residual": {"amount": residual or "0.00", "currency": "EUR"}}
    return body


async def salaries_by_id(services: Services, member_id: str | None = None
                         ) -> dict[str, dict[str, Any]]:
    items = await services.items("payroll", "/v1/salaries", member_id=member_id, order="newest")
    return {salary["salary_id"]: salary for salary in items}


async def repayment_of(services: Services, loan: dict[str, Any],
                       member_id: str | None = None) -> dict[str, Any]:
    """What a loan's page shows of its repayment: the schedule's rows, the salaries that paid
    it, what is due, and while it is being repaid the price of repaying it all today."""
    salaries: dict[str, dict[str, Any]] = {}
    if any(entry.get("withheld_from") for entry in loan.get("schedule") or []):
        salaries = await salaries_by_id(services, member_id)
    rows = instalment_rows(loan, salaries)
    quote = None
    if loan["status"] == "disbursed":
        quote = await services.get("fund", f"/v1/loans/{loan['loan_id']}/early-repayment")
    return {"rows": rows, "withheld": salaries_withheld(rows), "still_due": still_due(rows),
            "quote": quote}


class MemberLoanPages(Controller):
    path = "/loans"
    include_in_schema = False

    @get("/")
    async def loans(self, request: Request[Any, Any, Any], visitor: Visitor,
                    cursor: str | None = None) -> Template | Redirect:
        visitor.require_member()
        listing = await visitor.services.history("fund", "/v1/loans", cursor)
        return page(request, "member/loans.html", visitor=visitor, loans=listing.items,
                    listing=listing)

    @get("/new")
    async def new_application(self, request: Request[Any, Any, Any], visitor: Visitor,
                              financing: str = "microcredit") -> Template | Redirect:
        visitor.require_member()
        if financing not in FINANCINGS:
            financing = "microcredit"
        return page(request, "member/loan_form.html", visitor=visitor,
                    values={"financing": financing, "residual": "0.00"}, errors={})

    @post("/", status_code=200)
    async def apply(self, request: Request[Any, Any, Any],
                    visitor: Visitor) -> Response[Any]:
        visitor.require_member()
        values = await form_of(request)
        if values.get("financing") not in FINANCINGS:
            values["financing"] = "microcredit"
        names = ["amount", "months", "purpose"]
        if values["financing"] == "leasing":
            names += ["item", "supplier", "supplier_iban"]
        errors = required(values, *names)
        body = application_body(values, errors)
        if not errors:
            try:
                loan = await visitor.services.post("fund", "/v1/loans", body)
                return Redirect(f"/loans/{loan['loan_id']}", status_code=303)
            except Refused as refused:
                errors = field_errors(refused, APPLICATION_FIELDS)
        return page(request, "member/loan_form.html", status_code=400, visitor=visitor,
                    values=values, errors=errors)

    @get("/{loan_id:str}")
    async def loan(self, request: Request[Any, Any, Any], visitor: Visitor,
                   loan_id: str) -> Template | Redirect:
        visitor.require_member()
        loan = await visitor.services.get("fund", f"/v1/loans/{loan_id}")
        return page(request, "member/loan.html", visitor=visitor, loan=loan,
                    **await repayment_of(visitor.services, loan))


class StaffLoanPages(Controller):
    path = "/staff"
    include_in_schema = False

    @get("/loans")
    async def loans(self, request: Request[Any, Any, Any], visitor: Visitor,
                    status: str = "applied") -> Template | Redirect:
        visitor.require_staff()
        if status not in LOAN_STATUSES:
            status = "applied"
        items = await visitor.services.items("fund", "/v1/loans", status=status)
        members = await self._members(visitor, items)
        return page(request, "staff/loans.html", visitor=visitor, loans=items, status=status,
                    statuses=LOAN_STATUSES, members=members)

    @staticmethod
    async def _members(visitor: Visitor, loans: list[dict[str, Any]]) -> dict[str, Any]:
        """The members of these loans by id (a member erased since is shown by their id)."""
        async def of(member_id: str) -> dict[str, Any] | None:
            try:
                return dict(await visitor.services.get("members", f"/v1/members/{member_id}"))
            except Refused:
                return None

        ids = sorted({loan["member_id"] for loan in loans})
        found = await asyncio.gather(*(of(member_id) for member_id in ids))
        return {member_id: member for member_id, member in zip(ids, found, strict=True)
                if member is not None}

    @get("/loans/{loan_id:str}")
    async def loan(self, request: Request[Any, Any, Any], visitor: Visitor,
                   loan_id: str) -> Template | Redirect:
        visitor.require_staff()
        return await self._loan(request, visitor, loan_id)

    async def _loan(self, request: Request[Any, Any, Any], visitor: Visitor, loan_id: str,
                    status_code: int = 200, **context: Any) -> Template:
        loan = await visitor.services.get("fund", f"/v1/loans/{loan_id}")
        members = await self._members(visitor, [loan])
        context.setdefault("errors", {})
        context.setdefault("values", {})
        # one early repayment however often the form is sent (a double click, a reload)
        context.setdefault("idempotency_key", secrets.token_urlsafe(16))
        return page(request, "staff/loan.html", status_code=status_code, visitor=visitor,
                    loan=loan, member=members.get(loan["member_id"]),
                    **await repayment_of(visitor.services, loan, loan["member_id"]), **context)

    @post("/loans/{loan_id:str}/decision", status_code=200)
    async def decide(self, request: Request[Any, Any, Any], visitor: Visitor,
                     loan_id: str) -> Template | Redirect:
        visitor.require_staff()
        values = await form_of(request)
        decision = values.get("decision")
        if decision not in ("approve", "decline"):
            return await self._loan(request, visitor, loan_id, 400, values=values,
                                    errors={"decision": _("Choose to approve or to decline")})
        if decision == "decline" and len(values.get("reason", "")) < 3:
            return await self._loan(request, visitor, loan_id, 400, values=values,
                                    errors={"reason": _("Say why the application is declined")})
        body: dict[str, Any] = {"decision": decision}
        if values.get("reason"):
            body["reason"] = values["reason"]
        try:
            await visitor.services.post("fund", f"/v1/loans/{loan_id}/decision", body)
        except Refused as refused:
            errors = field_errors(refused, {"decision", "reason"})
            return await self._loan(request, visitor, loan_id, refused.status, values=values,
                                    errors={name or "decision": message
                                            for name, message in errors.items()})
        return Redirect(f"/staff/loans/{loan_id}", status_code=303)

    @post("/loans/{loan_id:str}/early-repayment", status_code=200)
    async def repay_early(self, request: Request[Any, Any, Any], visitor: Visitor,
                          loan_id: str) -> Template | Redirect:
        """The member repaid the whole loan at the quoted price: recorded once."""
        visitor.require_staff()
        values = await form_of(request)
        try:
            await visitor.services.post(
                "fund", f"/v1/loans/{loan_id}/early-repayment",
                headers={"Idempotency-Key": values.get("idempotency_key")
                         or secrets.token_urlsafe(16)})
        except Refused as refused:
            return await self._loan(request, visitor, loan_id, refused.status,
                                    errors={"early": refused.detail or refused.title})
        return Redirect(f"/staff/loans/{loan_id}", status_code=303)

    @get("/loan-disbursements")
    async def disbursements(self, request: Request[Any, Any, Any],
                            visitor: Visitor) -> Template | Redirect:
        visitor.require_staff()
        return await self._disbursements(request, visitor)

    async def _disbursements(self, request: Request[Any, Any, Any], visitor: Visitor,
                             status_code: int = 200, **context: Any) -> Template:
        approved, *filed = await asyncio.gather(
            visitor.services.items("fund", "/v1/loans", status="approved"),
            *(visitor.services.items("fund", "/v1/loans", status=status)
              for status in FILED_STATUSES))
        ids = sorted({loan["disbursement_id"] for loans in filed for loan in loans
                      if loan.get("disbursement_id")}, reverse=True)
        files = await asyncio.gather(*(
            visitor.services.get("fund", f"/v1/loan-disbursements/{file_id}") for file_id in ids))
        context.setdefault("errors", {})
        context.setdefault("values", {})
        context.setdefault("idempotency_key", secrets.token_urlsafe(16))
        return page(request, "staff/loan_disbursements.html", status_code=status_code,
                    visitor=visitor, approved=approved, files=files, **context)

    @post("/loan-disbursements", status_code=200)
    async def pay_out(self, request: Request[Any, Any, Any],
                      visitor: Visitor) -> Response[Any]:
        visitor.require_staff()
        values = await form_of(request)
        body = {"execution_date": values["execution_date"]} if values.get(
            "execution_date") else {}
        try:
            made = await visitor.services.post(
                "fund", "/v1/loan-disbursements", body,
                # a form sent twice (a double click, a reload) makes one file
                headers={"Idempotency-Key": values.get("idempotency_key")
                         or secrets.token_urlsafe(16)})
        except Refused as refused:
            return await self._disbursements(
                request, visitor, refused.status, values=values,
                errors={"execution_date": field_errors(refused).popitem()[1]})
        return Redirect(f"/staff/loan-disbursements/{made['disbursement_id']}", status_code=303)

    @get("/loan-disbursements/{disbursement_id:str}")
    async def disbursement(self, request: Request[Any, Any, Any], visitor: Visitor,
                           disbursement_id: str) -> Template | Redirect:
        visitor.require_staff()
        made = await visitor.services.get("fund", f"/v1/loan-disbursements/{disbursement_id}")
        return await self._disbursement(request, visitor, made)

    async def _disbursement(self, request: Request[Any, Any, Any], visitor: Visitor,
                            made: dict[str, Any]) -> Template:
        loans = list(await asyncio.gather(*(
            visitor.services.get("fund", f"/v1/loans/{loan_id}") for loan_id in made["loan_ids"])))
        members = await self._members(visitor, loans)
        return page(request, "staff/loan_disbursement.html", visitor=visitor, file=made,
                    loans=loans, members=members)

    @get("/loan-disbursements/{disbursement_id:str}/pain.001.xml")
    async def payment_file(self, request: Request[Any, Any, Any], visitor: Visitor,
                           disbursement_id: str) -> Response[Any]:
        visitor.require_staff()
        answer = await visitor.services.call(
            "GET", "fund", f"/v1/loan-disbursements/{disbursement_id}/pain.001.xml")
        return download(answer, f"pain001-loans-{disbursement_id}.xml")

    @post("/loan-disbursements/{disbursement_id:str}/confirm", status_code=200)
    async def confirm(self, request: Request[Any, Any, Any], visitor: Visitor,
                      disbursement_id: str) -> Template | Redirect:
        visitor.require_staff()
        made = await visitor.services.post(
            "fund", f"/v1/loan-disbursements/{disbursement_id}/confirmation")
        return await self._disbursement(request, visitor, made)
