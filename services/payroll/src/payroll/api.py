"""HTTP in: salary simulations, salaries and payslips, payment runs."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, Parameter
from pydantic import BaseModel, ConfigDict
from smart_shared.auth import Principal, visible_or_404
from smart_shared.events import ActivityKind, Branch, SalaryBreakdown
from smart_shared.http import Page, find_page, idempotent
from smart_shared.money import Money, NonNegativeMoney, PositiveMoney
from smart_shared.mongo import Document, UnitOfWork
from smart_shared.openapi import PDF, XML, problems
from smart_shared.problems import Problem, invalid, not_found
from smart_shared.rulepacks import UnknownRulePack, branches
from smart_shared.service import Platform

from payroll.domain import SIMULATION_HORIZON, SalaryNotPayable, compute_salary, salary_rules
from payroll.domain.pain002 import UnreadableReport, parse_status_report
from payroll.domain.sepa import ExclusionCode
from payroll.payment_runs import confirm_payment_run, count_excluded, open_payment_run
from payroll.payslip import payslip_of
from payroll.status_reports import REFUSED, apply_status_report
from payroll.store import PAYMENT_RUNS, SALARIES

SalaryStatus = Literal["due", "in_run", "paid"]


class SimulationRequest(BaseModel):
    """What would a contract pay? Same computation as the real salary."""

    model_config = ConfigDict(extra="forbid")

    branch: Branch
    activity_kind: ActivityKind
    amount_excl_vat: PositiveMoney
    expenses: NonNegativeMoney = NonNegativeMoney(amount=Decimal("0.00"))
    on: date | None = None


class Rejection(BaseModel):
    """Why the bank returned the salary's last transfer (pain.002), kept on the salary."""

    payment_run_id: str
    end_to_end_id: str
    status_report_id: str
    on: date
    code: str | None
    reason: str
    account_unusable: bool


class SalaryView(BaseModel):
    salary_id: str
    branch: str
    contract_id: str
    member_id: str
    guaranteed: bool
    pay_date: date
    status: SalaryStatus
    breakdown: SalaryBreakdown
    payment_run_id: str | None = None
    paid_on: date | None = None
    rejection: Rejection | None = None

    @classmethod
    def of(cls, doc: Document) -> SalaryView:
        return cls(salary_id=doc["_id"], payment_run_id=doc.get("payment_run_id"),
                   paid_on=doc.get("paid_on"), rejection=doc.get("rejection"),
                   **{k: doc[k] for k in (
                       "branch", "contract_id", "member_id", "guaranteed", "pay_date", "status",
                       "breakdown")})


class PaymentRunRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pay_date: date


class RunItem(BaseModel):
    salary_id: str
    contract_id: str
    member_id: str
    amount: Money
    iban: str
    holder_name: str
    end_to_end_id: str


class ExcludedSalary(BaseModel):
    """A due salary left out of the run, and why: it stays due for a later run."""

    salary_id: str
    member_id: str
    code: ExclusionCode
    reason: str


class PaymentRunView(BaseModel):
    payment_run_id: str
    branch: str
    pay_date: date
    execution_date: date
    status: Literal["open", "confirmed"]
    count: int
    total: Money
    items: list[RunItem]
    excluded: list[ExcludedSalary]

    @classmethod
    def of(cls, doc: Document) -> PaymentRunView:
        return cls(payment_run_id=doc["_id"], **{k: doc[k] for k in (
            "branch", "pay_date", "execution_date", "status", "count", "total", "items",
            "excluded")})


class SimulationController(Controller):
    path = "/v1/simulations"
    tags = ["simulations"]

    @post(status_code=200, summary="Simulate the salary of a contract")
    async def simulate(self, data: SimulationRequest, platform: Platform,
                       principal: Principal) -> SalaryBreakdown:
        """The breakdown a contract of this amount would pay, by the branch's rule pack."""
        today = platform.clock.today()
        if data.on and data.on > today + SIMULATION_HORIZON:
            raise invalid("on", f"must be within {SIMULATION_HORIZON.days} days from today")
        try:
            rules = salary_rules(data.branch, data.on or today)
        except UnknownRulePack as missing:
            known_branch = data.on is not None and data.branch in branches()
            raise invalid("on" if known_branch else "branch", str(missing)) from None
        try:
            return compute_salary(rules, data.amount_excl_vat, data.expenses, data.activity_kind)
        except SalaryNotPayable as refused:
            raise invalid(refused.field, refused.message) from None


async def _visible_salary(platform: Platform, principal: Principal, salary_id: str) -> Document:
    doc = await platform.db[SALARIES].find_one({"_id": salary_id})
    return visible_or_404(principal, doc, "Salary", salary_id)


class SalaryController(Controller):
    path = "/v1/salaries"
    tags = ["salaries"]

    @get(summary="List salaries (a member's own; staff: their branch)")
    async def list_salaries(
        self, platform: Platform, principal: Principal,
        member_id: str | None = None, status: SalaryStatus | None = None,
        cursor: str | None = None, limit: Annotated[int, Parameter(ge=1, le=500)] = 50,
    ) -> Page[SalaryView]:
        query: dict[str, Any] = {"branch": principal.branch}
        if principal.role == "member":
            if member_id is not None and member_id != principal.member_id:
                raise invalid("member_id", "a member may only list their own salaries")
            query["member_id"] = principal.member_id
        elif member_id is not None:
            query["member_id"] = member_id
        if status is not None:
            query["status"] = status
        # find_page takes the Database (it reads `.db`; an AsyncDatabase would answer any attribute)
        docs, next_cursor = await find_page(platform.database, SALARIES, query, cursor, limit)
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
    doc = await platform.db[PAYMENT_RUNS].find_one({"_id": run_id})
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

        async def work(uow: UnitOfWork) -> dict[str, Any]:
            run = await open_payment_run(uow, principal.branch, data.pay_date, principal.sub,
                                         platform.settings)
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

    @get(summary="The branch's payment runs, in the order they were opened (staff)")
    async def list_runs(
        self, platform: Platform, principal: Principal, cursor: str | None = None,
        limit: Annotated[int, Parameter(ge=1, le=500)] = 50,
    ) -> Page[PaymentRunView]:
        _require_staff(principal)
        docs, next_cursor = await find_page(platform.database, PAYMENT_RUNS,
                                            {"branch": principal.branch}, cursor, limit)
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
        run = await _branch_run(platform, principal, run_id)

        async def work(uow: UnitOfWork) -> Document:
            return await confirm_payment_run(uow, run)

        return PaymentRunView.of(await platform.database.transaction(work))


class RejectedTransfer(BaseModel):
    salary_id: str
    member_id: str
    amount: Money
    code: str | None
    reason: str
    account_unusable: bool


class StatusReportOutcome(BaseModel):
    """What a pain.002 report changed: salaries paid now, salaries back to due, and how many
    transfers of the run still wait for the bank's word."""

    payment_run_id: str
    report_id: str
    version: str
    paid: list[str]
    rejected: list[RejectedTransfer]
    waiting: int


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

        async def work(uow: UnitOfWork) -> dict[str, Any]:
            return await apply_status_report(uow, principal.branch, report,
                                             platform.settings.staff_mailbox)

        return StatusReportOutcome.model_validate(await platform.database.transaction(work))
