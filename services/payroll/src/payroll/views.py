"""The bodies payroll's API reads and the answers it shapes."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict
from smart_shared.events import ActivityKind, Branch, SalaryBreakdown
from smart_shared.money import Money, NonNegativeMoney, PositiveMoney
from smart_shared.mongo import Document

from payroll.domain.sepa import ExclusionCode

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
