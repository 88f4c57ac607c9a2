"""HTTP in → payroll's use cases: salary simulations, salaries and payslips, payment runs and
the bank's status reports."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, Parameter
from smart_shared.auth import Principal, visible_or_404
from smart_shared.events import SalaryBreakdown
from smart_shared.http import Order, Page, idempotent
from smart_shared.mongo import Document, UnitOfWork
from smart_shared.openapi import PDF, XML, problems
from smart_shared.problems import Problem, invalid, not_found
from smart_shared.service import Platform

from payroll import store
from payroll.domain.pain002 import UnreadableReport, parse_status_report
from payroll.payment_runs import (
    ConfirmPaymentRun,
    OpenPaymentRun,
    confirm_payment_run,
    count_excluded,
    open_payment_run,
)
from payroll.payslip import payslip_of
from payroll.simulations import SimulateSalary, simulate_salary
from payroll.status_reports import REFUSED, ApplyStatusReport, apply_status_report
from payroll.views import (
    PaymentRunRequest,
    PaymentRunView,
    SalaryStatus,
    SalaryView,
    SimulationRequest,
    StatusReportOutcome,
)


class SimulationController(Controller):
    path = "/v1/simulations"
    tags = ["simulations"]

    @post(status_code=200, summary="Simulate the salary of a contract")
    async def simulate(self, data: SimulationRequest, platform: Platform,
                       principal: Principal) -> SalaryBreakdown:
        """The breakdown a contract of this amount would pay, by the branch's rule pack."""
        return simulate_salary(platform.clock, SimulateSalary(
            data.branch, data.activity_kind, data.amount_excl_vat, data.expenses, data.on))


async def _visible_salary(platform: Platform, principal: Principal, salary_id: str) -> Document:
    doc = await store.salary_document(platform.db, salary_id)
    return visible_or_404(principal, doc, "Salary", salary_id)


class SalaryController(Controller):
    path = "/v1/salaries"
    tags = ["salaries"]

    @get(summary="List salaries (a member's own; staff: their branch)")
    async def list_salaries(
        self, platform: Platform, principal: Principal,
        member_id: str | None = None, status: SalaryStatus | None = None,
        cursor: str | None = None, limit: Annotated[int, Parameter(ge=1, le=500)] = 50,
        order: Order = "oldest",
    ) -> Page[SalaryView]:
        if principal.role == "member":
            if member_id is not None and member_id != principal.member_id:
                raise invalid("member_id", "a member may only list their own salaries")
            # a member token without a member id lists nothing (no salary has the empty id)
            member_id = principal.member_id or ""
        docs, next_cursor = await store.salaries_page(platform.database, principal.branch,
                                                      member_id, status, cursor, limit, order)
        return Page[SalaryView](items=[SalaryView.of(d) for d in docs], next_cursor=next_cursor)

    @get("/{salary_id:str}", summary="One salary")
    async def get_salary(self, salary_id: FromPath[str], platform: Platform,
                         principal: Principal) -> SalaryView:
        return SalaryView.of(await _visible_salary(platform, principal, salary_id))

    @get("/{salary_id:str}/payslip.pdf", summary="The payslip as PDF", media_type=PDF)
    async def payslip(self, salary_id: FromPath[str], platform: Platform,
                      principal: Principal) -> Response[bytes]:
        doc = await _visible_salary(platform, principal, salary_id)
        return Response(
            await payslip_of(platform.db, doc),
            media_type=PDF,
            headers={"Content-Disposition": f'inline; filename="payslip-{salary_id}.pdf"'},
        )


def _require_staff(principal: Principal) -> None:
    principal.require("staff", "admin")


async def _branch_run(platform: Platform, principal: Principal, run_id: str) -> Document:
    _require_staff(principal)
    doc = await store.payment_run_document(platform.db, run_id)
    if doc is None or doc["branch"] != principal.branch:
        raise not_found("Payment run", run_id)
    return doc


class PaymentRunController(Controller):
    path = "/v1/payment-runs"
    tags = ["payment runs"]

    @post(summary="Gather every due, unpaid salary up to a pay date into a payment run",
          responses=problems((409, "No due salary up to the pay date can be paid by transfer "
                                   "(`excluded` says why)")))
    async def open_run(
        self, data: PaymentRunRequest, platform: Platform, principal: Principal,
        idempotency_key: Annotated[str | None, Parameter(header="Idempotency-Key")] = None,
    ) -> PaymentRunView:
        _require_staff(principal)
        command = OpenPaymentRun(principal.branch, data.pay_date, principal.sub,
                                 platform.settings)

        async def work(uow: UnitOfWork) -> dict[str, Any]:
            run = await open_payment_run(uow, command)
            return PaymentRunView.of(run).model_dump(mode="json")

        try:
            result, replayed = await idempotent(platform.database, idempotency_key,
                                                f"payment-run:{principal.branch}",
                                                data.model_dump(mode="json"), work, required=False)
        except Problem as refused:
            count_excluded(principal.branch, refused.extensions.get("excluded", []))
            raise
        if not replayed:
            count_excluded(principal.branch, result["excluded"])
        return PaymentRunView.model_validate(result)

    @get(summary="The branch's payment runs, in the order they were opened or newest first "
         "(staff)")
    async def list_runs(
        self, platform: Platform, principal: Principal, cursor: str | None = None,
        limit: Annotated[int, Parameter(ge=1, le=500)] = 50, order: Order = "oldest",
    ) -> Page[PaymentRunView]:
        _require_staff(principal)
        docs, next_cursor = await store.payment_runs_page(platform.database, principal.branch,
                                                          cursor, limit, order)
        return Page[PaymentRunView](items=[PaymentRunView.of(d) for d in docs],
                                    next_cursor=next_cursor)

    @get("/{run_id:str}", summary="One payment run")
    async def get_run(self, run_id: FromPath[str], platform: Platform,
                      principal: Principal) -> PaymentRunView:
        return PaymentRunView.of(await _branch_run(platform, principal, run_id))

    @get("/{run_id:str}/pain.001.xml", summary="The SEPA credit transfer file (pain.001.001.09)",
         media_type=XML)
    async def payment_file(self, run_id: FromPath[str], platform: Platform,
                           principal: Principal) -> Response[bytes]:
        doc = await _branch_run(platform, principal, run_id)
        return Response(
            doc["pain001"].encode(), media_type=XML,
            headers={"Content-Disposition": f'attachment; filename="pain001-{run_id}.xml"'},
        )

    @post("/{run_id:str}/confirm", status_code=200,
          summary="The bank executed the run: every salary in it is paid, once")
    async def confirm(self, run_id: FromPath[str], platform: Platform,
                      principal: Principal) -> PaymentRunView:
        await _branch_run(platform, principal, run_id)
        command = ConfirmPaymentRun(principal.branch, run_id)
        return PaymentRunView.of(await platform.database.transaction(
            partial(confirm_payment_run, command=command)))


class PaymentStatusReportController(Controller):
    path = "/v1/payment-status-reports"
    tags = ["payment runs"]

    @post(status_code=200, summary="Import the bank's pain.002 status report of a payment run "
          "(XML body): accepted transfers are paid, rejected ones due again with their reason")
    async def import_pain002(self, request: Request[Any, Any, Any], platform: Platform,
                             principal: Principal) -> StatusReportOutcome:
        _require_staff(principal)
        content = await request.body()
        if not content:
            raise invalid("report", "the body is empty: send the pain.002 XML", REFUSED)
        try:
            report = parse_status_report(content)
        except UnreadableReport as error:
            raise invalid(error.where, str(error), REFUSED) from None
        command = ApplyStatusReport(principal.branch, report, platform.settings.staff_mailbox)
        return StatusReportOutcome.model_validate(await platform.database.transaction(
            partial(apply_status_report, command=command)))
