"""HTTP: staff follow their branch's dunning cases, agree payment plans and write debts off;
members' defaulted loans: their payments and write-off."""

from __future__ import annotations

from functools import partial
from typing import Any

from litestar import Controller, Response, get, post
from litestar.params import Parameter
from smart_shared.auth import Principal, visible_or_404
from smart_shared.http import Page, idempotent
from smart_shared.links import capability_ident
from smart_shared.mongo import Document, UnitOfWork
from smart_shared.openapi import PDF, problems
from smart_shared.problems import Problem, invalid, not_found
from smart_shared.service import Platform

from collection.documents import kept_letter_pdf
from collection.domain import LEVELS, Instalment
from collection.dunning import (
    AgreePlan,
    AskForPlan,
    RecordPosting,
    WriteOff,
    agree_payment_plan,
    ask_for_plan,
    record_posting,
    write_debt_off,
)
from collection.loan_cases import (
    RecordLoanPayment,
    WriteOffLoan,
    record_loan_payment,
    write_loan_off,
)
from collection.store import (
    STATUSES,
    case_of_invoice,
    cases_page,
    loan_cases_page,
    read_case,
    read_loan_case,
)
from collection.views import (
    CaseSummary,
    CaseView,
    LetterLink,
    LoanCaseView,
    LoanPaymentRequest,
    PaymentPlanRequest,
    PlanWish,
    WriteOffRequest,
    case_summary,
    case_view,
    loan_case_view,
)

CASE_CLOSED = (409, "The case is closed; nothing more can be done")


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
        if status is not None and status not in STATUSES:
            raise invalid("status", f"must be one of {', '.join(STATUSES)}")
        if level is not None and level not in (*LEVELS, "none"):
            raise invalid("level", f"must be one of {', '.join((*LEVELS, 'none'))}")
        docs, next_cursor = await cases_page(platform.database, principal.branch, status, level,
                                             cursor, limit)
        return Page[CaseSummary](items=[case_summary(d) for d in docs], next_cursor=next_cursor)

    @get("/{case_id:str}", summary="One case with its full timeline")
    async def show_case(self, platform: Platform, principal: Principal,
                        case_id: str) -> CaseView:
        doc = visible_or_404(principal, await read_case(platform.db, case_id), "Case", case_id)
        return case_view(doc)

    @get("/{case_id:str}/letters/{level:str}", summary="A letter of the case as PDF, as kept",
         media_type=PDF)
    async def letter(self, platform: Platform, principal: Principal, case_id: str,
                     level: str) -> Response[Any]:
        _level(level)
        doc = visible_or_404(principal, await read_case(platform.db, case_id), "Case", case_id)
        return await _letter_response(platform, doc, level)

    @post("/{case_id:str}/letters/{level:str}/posted", status_code=200,
          summary="Staff posted a letter to a client without an e-mail address",
          responses=problems((409, "The letter was e-mailed or posted already")))
    async def letter_posted(self, platform: Platform, principal: Principal, case_id: str,
                            level: str) -> CaseView:
        principal.require("staff", "admin")
        _level(level)

        command = RecordPosting(principal, case_id, level)
        return case_view(await platform.database.transaction(
            partial(record_posting, command=command)))

    @post("/{case_id:str}/payment-plan", summary="Agree a payment plan: pauses the schedule",
          responses=problems(CASE_CLOSED))
    async def agree_payment_plan(self, platform: Platform, principal: Principal, case_id: str,
                                 data: PaymentPlanRequest) -> CaseView:
        principal.require("staff", "admin")
        command = AgreePlan(principal, case_id,
                            [Instalment(i.due_on, i.amount.amount) for i in data.instalments],
                            frozenset(i.amount.currency for i in data.instalments))
        return case_view(await platform.database.transaction(
            partial(agree_payment_plan, command=command)))

    @post("/{case_id:str}/write-off", summary="Write the debt off (DebtWrittenOff)",
          responses=problems(CASE_CLOSED))
    async def write_off_debt(self, platform: Platform, principal: Principal, case_id: str,
                             data: WriteOffRequest,
                             idempotency_key: str | None = Parameter(
                                 header="Idempotency-Key", default=None)) -> CaseView:
        principal.require("staff", "admin")

        command = WriteOff(principal, case_id, data.reason.strip())

        async def abandon(uow: UnitOfWork) -> dict[str, Any]:
            return case_view(await write_debt_off(uow, command)).model_dump(mode="json")

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
        doc = await case_of_invoice(platform.db, invoice_id)
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

        command = AskForPlan(invoice_id, data.instalments, data.message)
        case_id = await platform.database.transaction(partial(ask_for_plan, command=command))
        return {"status": "requested", "case_id": case_id}


LOAN_CASE_STATUSES = ("open", "paid", "written_off")


class LoanCaseController(Controller):
    path = "/v1/loan-cases"
    tags = ["loan cases"]

    @get("/", summary="Cases of defaulted loans: a member's own, or the branch's (staff)")
    async def list_loan_cases(
        self, platform: Platform, principal: Principal, status: str | None = None,
        member_id: str | None = None, cursor: str | None = None,
        limit: int = Parameter(default=50, ge=1, le=500),
    ) -> Page[LoanCaseView]:
        if status is not None and status not in LOAN_CASE_STATUSES:
            raise invalid("status", f"must be one of {', '.join(LOAN_CASE_STATUSES)}")
        if principal.role == "member":
            member_id = principal.member_id or ""
        docs, next_cursor = await loan_cases_page(platform.database, principal.branch,
                                                  member_id, status, cursor, limit)
        return Page[LoanCaseView](items=[loan_case_view(d) for d in docs],
                                  next_cursor=next_cursor)

    @get("/{case_id:str}", summary="One loan case (its member, or staff of its branch)")
    async def show_loan_case(self, platform: Platform, principal: Principal,
                             case_id: str) -> LoanCaseView:
        return loan_case_view(visible_or_404(principal, await read_loan_case(platform.db, case_id),
                                             "Loan case", case_id))

    @post("/{case_id:str}/payments", status_code=200,
          summary="Record what the member paid towards the loan (LoanPaymentCollected; staff, "
          "Idempotency-Key required)", responses=problems(CASE_CLOSED))
    async def record_payment(
        self, platform: Platform, principal: Principal, case_id: str, data: LoanPaymentRequest,
        idempotency_key: str | None = Parameter(header="Idempotency-Key", default=None),
    ) -> LoanCaseView:
        principal.require("staff", "admin")
        if data.amount.currency != "EUR":
            raise invalid("amount.currency", "the fund lends in EUR")
        command = RecordLoanPayment(principal, case_id, data.amount.amount, data.received_on)

        async def record(uow: UnitOfWork) -> dict[str, Any]:
            return loan_case_view(await record_loan_payment(uow, command)).model_dump(mode="json")

        result, _ = await idempotent(platform.database, (idempotency_key or "").strip(),
                                     f"loan-payment:{case_id}", data.model_dump(mode="json"),
                                     record)
        return LoanCaseView.model_validate(result)

    @post("/{case_id:str}/write-off", status_code=200,
          summary="Write the loan off: the fund bears the loss (LoanWrittenOff; staff)",
          responses=problems(CASE_CLOSED))
    async def write_off_loan(self, platform: Platform, principal: Principal, case_id: str,
                             data: WriteOffRequest,
                             idempotency_key: str | None = Parameter(
                                 header="Idempotency-Key", default=None)) -> LoanCaseView:
        principal.require("staff", "admin")
        command = WriteOffLoan(principal, case_id, data.reason.strip())

        async def abandon(uow: UnitOfWork) -> dict[str, Any]:
            return loan_case_view(await write_loan_off(uow, command)).model_dump(mode="json")

        result, _ = await idempotent(platform.database, idempotency_key,
                                     f"loan-write-off:{case_id}", data.model_dump(mode="json"),
                                     abandon, required=False)
        return LoanCaseView.model_validate(result)
