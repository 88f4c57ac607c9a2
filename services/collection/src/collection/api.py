"""HTTP: staff follow their branch's dunning cases, agree payment plans and write debts off."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Response, get, post
from litestar.params import Parameter
from smart_shared.auth import Principal, visible_or_404
from smart_shared.codec import stored_amount
from smart_shared.http import Page, find_page, idempotent
from smart_shared.links import capability_ident
from smart_shared.mongo import Document, UnitOfWork
from smart_shared.openapi import PDF, problems
from smart_shared.problems import Problem, invalid, not_found
from smart_shared.service import Platform

from collection.cases import agree_plan, mark_posted, write_off
from collection.documents import kept_letter_pdf
from collection.domain import LEVELS, Instalment, plan_errors
from collection.store import CASES, STATUSES, find_case, timeline_entry
from collection.views import (
    CaseSummary,
    CaseView,
    LetterLink,
    PaymentPlanRequest,
    PlanWish,
    WriteOffRequest,
    case_summary,
    case_view,
)

CASE_CLOSED = (409, "The case is closed; nothing more can be done")


async def _case_in_reach(uow: UnitOfWork, case_id: str, principal: Principal) -> Document:
    return visible_or_404(principal, await find_case(uow, case_id), "Case", case_id)


def _level(level: str) -> str:
    if level not in LEVELS:
        raise invalid("level", f"must be one of {', '.join(LEVELS)}")
    return level


async def _letter_response(platform: Platform, doc: Document, level: str) -> Response[Any]:
    """The letter's PDF as kept when first printed, never rendered again."""
    try:
        stored = await kept_letter_pdf(platform.db, doc, level)
    except LookupError:
        raise not_found("Letter", f"{doc['_id']}/{level}") from None
    return Response(bytes(stored["content"]), media_type="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{doc["invoice_number"]}-{level}.pdf"',
        "ETag": f'"{stored["sha256"]}"'})


class CaseController(Controller):
    path = "/v1/cases"
    tags = ["cases"]

    @get("/", summary="Dunning cases of the caller's branch (staff)")
    async def list_cases(
        self,
        platform: Platform,
        principal: Principal,
        status: str | None = None,
        level: str | None = None,
        cursor: str | None = None,
        limit: int = Parameter(default=50, ge=1, le=500),
    ) -> Page[CaseSummary]:
        principal.require("staff", "admin", "service")
        query: dict[str, Any] = {"branch": principal.branch}
        if status is not None:
            if status not in STATUSES:
                raise invalid("status", f"must be one of {', '.join(STATUSES)}")
            query["status"] = status
        if level is not None:
            if level not in (*LEVELS, "none"):
                raise invalid("level", f"must be one of {', '.join((*LEVELS, 'none'))}")
            query["level"] = None if level == "none" else level
        docs, next_cursor = await find_page(platform.database, CASES, query, cursor, limit)
        return Page[CaseSummary](items=[case_summary(d) for d in docs], next_cursor=next_cursor)

    @get("/{case_id:str}", summary="One case with its full timeline")
    async def show_case(self, platform: Platform, principal: Principal,
                        case_id: str) -> CaseView:
        doc = visible_or_404(principal, await platform.db[CASES].find_one({"_id": case_id}),
                             "Case", case_id)
        return case_view(doc)

    @get("/{case_id:str}/letters/{level:str}", summary="A letter of the case as PDF, as kept",
         media_type=PDF)
    async def letter(self, platform: Platform, principal: Principal, case_id: str,
                     level: str) -> Response[Any]:
        _level(level)
        doc = visible_or_404(principal, await platform.db[CASES].find_one({"_id": case_id}),
                             "Case", case_id)
        return await _letter_response(platform, doc, level)

    @post("/{case_id:str}/letters/{level:str}/posted", status_code=200,
          summary="Staff posted a letter to a client without an e-mail address",
          responses=problems((409, "The letter was e-mailed or posted already")))
    async def letter_posted(self, platform: Platform, principal: Principal, case_id: str,
                            level: str) -> CaseView:
        principal.require("staff", "admin")
        _level(level)

        async def record(uow: UnitOfWork) -> CaseView:
            doc = await _case_in_reach(uow, case_id, principal)
            await mark_posted(uow, doc, level, principal.sub)
            return case_view(await _case_in_reach(uow, case_id, principal))

        return await platform.database.transaction(record)

    @post("/{case_id:str}/payment-plan", summary="Agree a payment plan: pauses the schedule",
          responses=problems(CASE_CLOSED))
    async def agree_payment_plan(self, platform: Platform, principal: Principal, case_id: str,
                                 data: PaymentPlanRequest) -> CaseView:
        principal.require("staff", "admin")
        plan = [Instalment(i.due_on, i.amount.amount) for i in data.instalments]

        async def agree(uow: UnitOfWork) -> CaseView:
            doc = await _case_in_reach(uow, case_id, principal)
            currencies = {i.amount.currency for i in data.instalments}
            if currencies != {doc["currency"]}:
                raise invalid("instalments", f"amounts must be in {doc['currency']}")
            errors = plan_errors(plan, stored_amount(doc["balance"]), uow.clock.today())
            if errors:
                detail = "; ".join(f"{field}: {message}" for field, message in errors)
                raise Problem(400, "Invalid payment plan", detail, "validation",
                              errors=[{"field": f, "message": m} for f, m in errors])
            await agree_plan(uow, doc, plan)
            return case_view(await _case_in_reach(uow, case_id, principal))

        return await platform.database.transaction(agree)

    @post("/{case_id:str}/write-off", summary="Write the debt off (DebtWrittenOff)",
          responses=problems(CASE_CLOSED))
    async def write_off_debt(self, platform: Platform, principal: Principal, case_id: str,
                             data: WriteOffRequest,
                             idempotency_key: str | None = Parameter(
                                 header="Idempotency-Key", default=None)) -> CaseView:
        principal.require("staff", "admin")

        async def abandon(uow: UnitOfWork) -> dict[str, Any]:
            doc = await _case_in_reach(uow, case_id, principal)
            await write_off(uow, doc, data.reason.strip(), principal.sub)
            return case_view(await _case_in_reach(uow, case_id, principal)).model_dump(mode="json")

        result, _ = await idempotent(platform.database, idempotency_key, f"write-off:{case_id}",
                                     data.model_dump(mode="json"), abandon, required=False)
        return CaseView.model_validate(result)


class LetterLinkController(Controller):
    """A client reads the letters about their invoice with the invoice's link."""

    path = "/v1/letter-documents"
    tags = ["cases"]

    @post("/", status_code=200, media_type=PDF,
          responses=problems((404, "The invoice link is not valid, or no such letter")),
          summary="A letter of the linked invoice's case as PDF (public: the link is the "
                  "authority)")
    async def document(self, platform: Platform, data: LetterLink) -> Response[Any]:
        invoice_id = capability_ident("invoice", data.token, platform.settings.link_secret)
        if invoice_id is None:
            raise Problem(404, "Invoice link not valid", "This invoice link is not valid",
                          "invoice-link-unknown")
        doc = await platform.db[CASES].find_one({"invoice_id": invoice_id})
        if doc is None:
            raise not_found("Case of invoice", invoice_id)
        return await _letter_response(platform, doc, data.level)


class PlanWishController(Controller):
    """A client's request for a payment plan: it joins the open case for staff to decide."""

    path = "/v1/payment-plan-requests"
    tags = ["cases"]

    @post("/", status_code=202,
          summary="A client asks for a payment plan (public: the invoice's link is the authority)",
          responses=problems((404, "The invoice link is not valid"),
                             (409, "The invoice has no open dunning case")))
    async def ask(self, platform: Platform, data: PlanWish) -> dict[str, Any]:
        invoice_id = capability_ident("invoice", data.token, platform.settings.link_secret)
        if invoice_id is None:
            raise Problem(404, "Invoice link not valid", "This invoice link is not valid",
                          "invoice-link-unknown")

        async def note(uow: UnitOfWork) -> str:
            entry = timeline_entry(uow, "plan_requested", detail=data.message,
                                   amounts={"instalments": str(data.instalments)})
            doc = await uow.db[CASES].find_one_and_update(
                {"invoice_id": invoice_id, "status": "open"},
                {"$set": {"plan_requested_on": entry["on"]}, "$push": {"timeline": entry}},
                session=uow.session)
            if doc is None:
                raise Problem(409, "No open case", "This invoice has no dunning case to plan "
                              "payments for", "no-open-case")
            return str(doc["_id"])

        return {"status": "requested", "case_id": await platform.database.transaction(note)}
