"""Staff pages, for their own branch: the queues to work through, invoices and their credit
notes, the payment runs, and, for admins, the dead letters of the six services."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.response import Redirect, Template

from portal.i18n import gettext as _
from portal.pages.forms import amount_of, field_errors, form_of
from portal.services import Refused
from portal.web import Visitor, download, page

PLAN_ROWS = 3
# every service that consumes events, so may dead-letter one
CONSUMERS = ("members", "contracts", "billing", "payroll", "fund", "collection")


class StaffPages(Controller):
    path = "/staff"
    include_in_schema = False

    @get("/")
    async def queues(self, request: Request[Any, Any, Any],
                     visitor: Visitor) -> Template | Redirect:
        visitor.require_staff()
        return await self._queues(request, visitor)

    async def _queues(self, request: Request[Any, Any, Any], visitor: Visitor,
                      status_code: int = 200, **context: Any) -> Template:
        applicants, late, unmatched, cases, fund = await asyncio.gather(
            visitor.services.items("members", "/v1/members", status="applicant"),
            visitor.services.items("contracts", "/v1/contracts/late-declarations"),
            visitor.services.items("billing", "/v1/payments/unmatched"),
            visitor.services.items("collection", "/v1/cases", status="open"),
            visitor.services.get("fund", "/v1/fund"))
        context.setdefault("errors", {})
        return page(request, "staff/queues.html", status_code=status_code, visitor=visitor,
                    applicants=applicants, late=late, unmatched=unmatched, cases=cases,
                    fund=fund, **context)

    @get("/fund/check")
    async def fund_check(self, request: Request[Any, Any, Any], visitor: Visitor) -> Template:
        """The fund's ledger reconciled with its transfers."""
        visitor.require_staff()
        report = await visitor.services.get("fund", "/v1/fund/check")
        return page(request, "staff/fund_check.html", visitor=visitor, report=report)

    @get("/cases/{case_id:str}")
    async def case(self, request: Request[Any, Any, Any], visitor: Visitor,
                   case_id: str) -> Template:
        visitor.require_staff()
        return await self._case(request, visitor, case_id)

    async def _case(self, request: Request[Any, Any, Any], visitor: Visitor, case_id: str,
                    status_code: int = 200, **context: Any) -> Template:
        case = await visitor.services.get("collection", f"/v1/cases/{case_id}")
        context.setdefault("errors", {})
        context.setdefault("values", {})
        return page(request, "staff/case.html", status_code=status_code, visitor=visitor,
                    case=case, plan_rows=PLAN_ROWS, **context)

    @post("/cases/{case_id:str}/payment-plan", status_code=200)
    async def agree_plan(self, request: Request[Any, Any, Any], visitor: Visitor,
                         case_id: str) -> Template:
        visitor.require_staff()
        values = await form_of(request)
        instalments = [{"due_on": values[f"due_on_{n}"],
                        "amount": {"amount": values.get(f"amount_{n}", "").replace(",", "."),
                                   "currency": "EUR"}}
                       for n in range(1, PLAN_ROWS + 1) if values.get(f"due_on_{n}")]
        if not instalments:
            return await self._case(request, visitor, case_id, 400, values=values,
                                    errors={"due_on_1": _("Enter the first instalment")})
        try:
            await visitor.services.post("collection", f"/v1/cases/{case_id}/payment-plan",
                                        {"instalments": instalments})
        except Refused as refused:
            return await self._case(request, visitor, case_id, refused.status, values=values,
                                    errors={"due_on_1": field_errors(refused).popitem()[1]})
        return await self._case(request, visitor, case_id)

    @post("/cases/{case_id:str}/write-off", status_code=200)
    async def write_off(self, request: Request[Any, Any, Any], visitor: Visitor,
                        case_id: str) -> Template:
        visitor.require_staff()
        values = await form_of(request)
        try:
            await visitor.services.post("collection", f"/v1/cases/{case_id}/write-off",
                                        {"reason": values.get("reason", "")})
        except Refused as refused:
            return await self._case(request, visitor, case_id, refused.status, values=values,
                                    errors={"reason": field_errors(refused).popitem()[1]})
        return await self._case(request, visitor, case_id)

    @post("/members/{member_id:str}/shares/{share_id:str}/payment", status_code=200)
    async def share_paid(self, request: Request[Any, Any, Any], visitor: Visitor,
                         member_id: str, share_id: str) -> Template:
        """The applicant's share arrived on the account: recorded, the first one activates."""
        visitor.require_staff()
        member = await visitor.services.get("members", f"/v1/members/{member_id}")
        share = next((s for s in member.get("shares", []) if s["share_id"] == share_id), None)
        if share is None:
            raise Refused(404, _("Not found"))
        await visitor.services.post(
            "members", f"/v1/members/{member_id}/shares/{share_id}/payment",
            {"amount": share["total"]}, headers={"Idempotency-Key": f"portal-share-{share_id}"})
        return await self._queues(request, visitor)

    @post("/bank-statements", status_code=200)
    async def book_statement(self, request: Request[Any, Any, Any],
                             visitor: Visitor) -> Template | Redirect:
        visitor.require_staff()
        form = await request.form()
        upload = form.get("file")
        content = await upload.read() if upload is not None and hasattr(upload, "read") else b""
        if not content:
            return await self._queues(request, visitor, 400,
                                      errors={"file": _("Choose a camt.053 file")})
        try:
            booked = await visitor.services.call(
                "POST", "billing", "/v1/bank-statements",
                files={"file": ("statement.xml", content, "application/xml")})
        except Refused as refused:
            return await self._queues(request, visitor, refused.status,
                                      errors={"file": refused.detail or refused.title})
        return await self._queues(request, visitor, booked_statement=booked.json())

    @post("/unmatched/{payment_id:str}/assign", status_code=200)
    async def assign(self, request: Request[Any, Any, Any], visitor: Visitor,
                     payment_id: str) -> Template | Redirect:
        visitor.require_staff()
        values = await form_of(request)
        if not values.get("invoice_id"):
            return await self._queues(request, visitor, 400, errors={
                f"invoice_id-{payment_id}": _("Enter the invoice id")})
        try:
            await visitor.services.post("billing", f"/v1/payments/unmatched/{payment_id}/assign",
                                        {"invoice_id": values["invoice_id"]})
        except Refused as refused:
            message = field_errors(refused).popitem()[1]
            return await self._queues(request, visitor, refused.status,
                                      errors={f"invoice_id-{payment_id}": message})
        return await self._queues(request, visitor)

    @get("/invoices")
    async def invoices(self, request: Request[Any, Any, Any], visitor: Visitor,
                       cursor: str | None = None) -> Template | Redirect:
        visitor.require_staff()
        listing = await visitor.services.history("billing", "/v1/invoices", cursor)
        return page(request, "staff/invoices.html", visitor=visitor, invoices=listing.items,
                    listing=listing)

    @get("/invoices/{invoice_id:str}")
    async def invoice(self, request: Request[Any, Any, Any], visitor: Visitor,
                      invoice_id: str) -> Template | Redirect:
        visitor.require_staff()
        return await self._invoice(request, visitor, invoice_id)

    async def _invoice(self, request: Request[Any, Any, Any], visitor: Visitor, invoice_id: str,
                       status_code: int = 200, **context: Any) -> Template:
        invoice = await visitor.services.get("billing", f"/v1/invoices/{invoice_id}")
        context.setdefault("errors", {})
        context.setdefault("values", {})
        # one credit note however often the form is sent (a double click, a reload)
        context.setdefault("idempotency_key", secrets.token_urlsafe(16))
        return page(request, "staff/invoice.html", status_code=status_code, visitor=visitor,
                    invoice=invoice, **context)

    @post("/invoices/{invoice_id:str}/credit-notes", status_code=200)
    async def credit(self, request: Request[Any, Any, Any], visitor: Visitor,
                     invoice_id: str) -> Template | Redirect:
        """Credit all that remains invoiced, or the amount given, with its reason."""
        visitor.require_staff()
        values = await form_of(request)
        errors: dict[str, str] = {}
        amount = amount_of(values["amount"]) if values.get("amount") else None
        if values.get("amount") and amount is None:
            errors["amount"] = _("Enter an amount like 50.00")
        if len(values.get("reason", "")) < 3:
            errors["reason"] = _("Say why the invoice is credited")
        if errors:
            return await self._invoice(request, visitor, invoice_id, 400, values=values,
                                       errors=errors)
        body: dict[str, Any] = {"reason": values["reason"]}
        if amount is not None:
            body["amount"] = {"amount": amount, "currency": values.get("currency") or "EUR"}
        try:
            await visitor.services.post(
                "billing", f"/v1/invoices/{invoice_id}/credit-notes", body,
                headers={"Idempotency-Key": values.get("idempotency_key")
                         or secrets.token_urlsafe(16)})
        except Refused as refused:
            return await self._invoice(request, visitor, invoice_id, refused.status,
                                       values=values,
                                       errors=field_errors(refused, {"amount", "reason"}))
        return await self._invoice(request, visitor, invoice_id, credited=True)

    @get("/invoices/{invoice_id:str}/credit-notes/{credit_note_id:str}/pdf")
    async def credit_note_pdf(self, request: Request[Any, Any, Any], visitor: Visitor,
                              invoice_id: str, credit_note_id: str) -> Response[Any]:
        visitor.require_staff()
        answer = await visitor.services.call(
            "GET", "billing", f"/v1/invoices/{invoice_id}/credit-notes/{credit_note_id}/pdf")
        return download(answer, f"credit-note-{credit_note_id}.pdf")

    async def _payment_runs(self, request: Request[Any, Any, Any], visitor: Visitor,
                            status_code: int = 200, cursor: str | None = None,
                            **context: Any) -> Template:
        listing = await visitor.services.history("payroll", "/v1/payment-runs", cursor)
        context.setdefault("errors", {})
        context.setdefault("values", {})
        return page(request, "staff/payment_runs.html", status_code=status_code,
                    visitor=visitor, runs=listing.items, listing=listing, **context)

    @get("/payment-runs")
    async def payment_runs(self, request: Request[Any, Any, Any], visitor: Visitor,
                           cursor: str | None = None) -> Template | Redirect:
        visitor.require_staff()
        return await self._payment_runs(request, visitor, cursor=cursor)

    @post("/payment-runs", status_code=200)
    async def open_run(self, request: Request[Any, Any, Any],
                       visitor: Visitor) -> Response[Any]:
        visitor.require_staff()
        values = await form_of(request)
        try:
            run = await visitor.services.post(
                "payroll", "/v1/payment-runs", {"pay_date": values.get("pay_date", "")},
                # a form sent twice (a double click, a reload) opens one run
                headers={"Idempotency-Key": values.get("idempotency_key")
                         or secrets.token_urlsafe(16)})
        except Refused as refused:
            return await self._payment_runs(
                request, visitor, refused.status, values=values,
                errors={"pay_date": field_errors(refused).popitem()[1]})
        return Redirect(f"/staff/payment-runs/{run['payment_run_id']}", status_code=303)

    @get("/payment-runs/{run_id:str}")
    async def payment_run(self, request: Request[Any, Any, Any], visitor: Visitor,
                          run_id: str) -> Template | Redirect:
        visitor.require_staff()
        run = await visitor.services.get("payroll", f"/v1/payment-runs/{run_id}")
        return page(request, "staff/payment_run.html", visitor=visitor, run=run)

    @get("/payment-runs/{run_id:str}/pain.001.xml")
    async def payment_file(self, request: Request[Any, Any, Any], visitor: Visitor,
                           run_id: str) -> Response[Any]:
        visitor.require_staff()
        answer = await visitor.services.call("GET", "payroll",
                                             f"/v1/payment-runs/{run_id}/pain.001.xml")
        return download(answer, f"pain001-{run_id}.xml")

    @post("/payment-runs/{run_id:str}/confirm", status_code=200)
    async def confirm(self, request: Request[Any, Any, Any], visitor: Visitor,
                      run_id: str) -> Template | Redirect:
        visitor.require_staff()
        run = await visitor.services.post("payroll", f"/v1/payment-runs/{run_id}/confirm")
        return page(request, "staff/payment_run.html", visitor=visitor, run=run)

    async def _dead_letters(self, request: Request[Any, Any, Any], visitor: Visitor,
                            **context: Any) -> Template:
        async def of(service: str) -> list[dict[str, Any]]:
            try:
                answer = await visitor.services.get(service, "/v1/dead-letters")
            except Refused as refused:
                if refused.status == 404:  # a service without a consumer has no dead letters
                    return []
                raise
            return [{**letter, "service": service} for letter in answer["items"]]

        found = await asyncio.gather(*(of(service) for service in CONSUMERS))
        letters = sorted((letter for service in found for letter in service),
                         key=lambda letter: letter.get("failed_at") or "")
        return page(request, "staff/dead_letters.html", visitor=visitor, letters=letters,
                    **context)

    @get("/dead-letters")
    async def dead_letters(self, request: Request[Any, Any, Any],
                           visitor: Visitor) -> Template | Redirect:
        visitor.require_admin()
        return await self._dead_letters(request, visitor)

    @post("/dead-letters/{service:str}/{event_id:str}/replay", status_code=200)
    async def replay(self, request: Request[Any, Any, Any], visitor: Visitor, service: str,
                     event_id: str) -> Template | Redirect:
        visitor.require_admin()
        if service not in CONSUMERS:
            return await self._dead_letters(request, visitor,
                                            failure=_("No such service."))
        try:
            await visitor.services.post(service, f"/v1/dead-letters/{event_id}/replay")
        except Refused as refused:
            return await self._dead_letters(request, visitor, failure=refused.detail)
        return Redirect(f"/staff/dead-letters?replayed={event_id}", status_code=303)
