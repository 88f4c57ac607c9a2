"""What the API shows of a case, and what it accepts."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from smart_shared.events.catalogue import ClientKind, Language, LoanReminderLevel, ReminderLevel
from smart_shared.money import Money, PositiveMoney
from smart_shared.mongo import Document
from smart_shared.text import Paragraph

from collection.domain.rules import Channel


class InstalmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    due_on: date
    amount: PositiveMoney


class PaymentPlanRequest(BaseModel):
    """Instalments (dates in order, amounts adding up to the outstanding principal)."""

    model_config = ConfigDict(extra="forbid")

    instalments: list[InstalmentIn] = Field(min_length=1, max_length=36)


class PlanWish(BaseModel):
    """A client asks for a payment plan, from the link of their invoice (no account)."""

    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=20, max_length=200, description="The invoice's client link.")
    instalments: int = Field(ge=2, le=12, description="How many monthly payments they ask for.")
    message: str | None = Field(None, max_length=1000)


class WriteOffRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[Paragraph, Field(min_length=3, max_length=500)]


class ClientView(BaseModel):
    name: str
    kind: ClientKind
    language: Language


class ClaimView(BaseModel):
    outstanding: Money
    interest: Money
    compensation: Money
    total: Money


class InstalmentView(BaseModel):
    due_on: date
    amount: Money


class PlanView(BaseModel):
    instalments: list[InstalmentView]
    agreed_on: date
    status: str
    check_on: date | None = None


class TimelineEntry(BaseModel):
    at: datetime
    on: date
    kind: str
    level: ReminderLevel | None = None
    language: Language | None = None
    text: str | None = None
    detail: str | None = None
    amounts: dict[str, str] | None = None
    channel: Channel | None = Field(None, description="How the letter reaches the client.")
    pay_by: date | None = Field(None, description="The last day the letter gives to pay.")
    posting: Literal["to_be_posted", "posted"] | None = Field(
        None, description="A letter for a client without an e-mail address: staff print and "
        "post it (the PDF of the case's letter), then mark it posted.")


class LetterView(BaseModel):
    """One letter sent in the case, its PDF at ``/v1/cases/{case_id}/letters/{level}``."""

    level: ReminderLevel
    sent_on: date
    channel: Channel
    pay_by: date | None
    posting: Literal["to_be_posted", "posted"] | None = None
    posted_on: date | None = None


class LetterLink(BaseModel):
    """A client opens a letter of their invoice's case with the invoice's link (no account)."""

    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=20, max_length=200, description="The invoice's client link.")
    level: ReminderLevel


class CaseSummary(BaseModel):
    case_id: str
    invoice_id: str
    invoice_number: str
    contract_id: str
    member_id: str
    branch: str
    client: ClientView
    due_date: date
    principal: Money = Field(description="Outstanding when the case opened.")
    outstanding: Money = Field(description="Principal still due now.")
    status: str
    level: ReminderLevel | None
    next_step_on: date | None
    last_claim: ClaimView | None
    version: int
    opened_on: date
    closed_on: date | None


class CaseView(CaseSummary):
    plan: PlanView | None
    letters: list[LetterView]
    timeline: list[TimelineEntry]


def _money(value: str, currency: str) -> Money:
    return Money(amount=value, currency=currency)


def _fields(doc: Document) -> dict[str, Any]:
    currency = doc["currency"]
    claim = doc.get("last_claim")
    return {
        "case_id": doc["_id"],
        "invoice_id": doc["invoice_id"],
        "invoice_number": doc["invoice_number"],
        "contract_id": doc["contract_id"],
        "member_id": doc["member_id"],
        "branch": doc["branch"],
        "client": {k: doc["client"][k] for k in ("name", "kind", "language")},
        "due_date": doc["due_date"],
        "principal": _money(doc["principal"], currency),
        "outstanding": _money(doc["balance"], currency),
        "status": doc["status"],
        "level": doc.get("level"),
        "next_step_on": doc.get("next_step_on"),
        "last_claim": {k: _money(v, currency) for k, v in claim.items()} if claim else None,
        "version": doc["version"],
        "opened_on": doc["opened_on"],
        "closed_on": doc.get("closed_on"),
    }


def case_summary(doc: Document) -> CaseSummary:
    return CaseSummary.model_validate(_fields(doc))


def case_view(doc: Document) -> CaseView:
    plan = doc.get("plan")
    return CaseView.model_validate({
        **_fields(doc),
        "plan": {**plan, "instalments": [
            {"due_on": i["due_on"], "amount": _money(i["amount"], doc["currency"])}
            for i in plan["instalments"]]} if plan else None,
        "letters": [{"level": e["level"], "sent_on": e["on"],
                     "channel": e.get("channel", "email"), "pay_by": e.get("pay_by"),
                     "posting": e.get("posting"), "posted_on": e.get("posted_on")}
                    for e in doc.get("timeline", []) if e["kind"] == "reminder_sent"],
        "timeline": doc.get("timeline", []),
    })


class LoanPaymentRequest(BaseModel):
    """What the member paid towards their defaulted loan, and when it was received."""

    model_config = ConfigDict(extra="forbid")

    amount: PositiveMoney
    received_on: date | None = Field(None, description="Default: today.")


class LoanStepView(BaseModel):
    level: LoanReminderLevel
    on: date
    mailed: bool = Field(description="False: no e-mail address known, staff follow up.")


class LoanPaymentView(BaseModel):
    payment_id: str
    amount: Money
    received_on: date


class LoanCaseView(BaseModel):
    """A member's defaulted loan in collection: what they owed, paid and still owe."""

    case_id: str
    loan_id: str
    member_id: str
    branch: str
    status: Literal["open", "paid", "written_off"]
    owed: Money
    paid: Money
    outstanding: Money
    defaulted_on: date
    opened_on: date
    closed_on: date | None
    next_step_on: date | None
    steps: list[LoanStepView]
    payments: list[LoanPaymentView]
    reason: str | None = None
    version: int


def loan_case_view(doc: Document) -> LoanCaseView:
    def eur(value: str) -> Money:
        return Money(amount=value, currency="EUR")

    return LoanCaseView(
        case_id=doc["_id"], loan_id=doc["loan_id"], member_id=doc["member_id"],
        branch=doc["branch"], status=doc["status"], owed=eur(doc["owed"]), paid=eur(doc["paid"]),
        outstanding=eur(doc["outstanding"]), defaulted_on=doc["defaulted_on"],
        opened_on=doc["opened_on"], closed_on=doc.get("closed_on"),
        next_step_on=doc.get("next_step_on"),
        steps=[LoanStepView.model_validate(step) for step in doc["steps"]],
        payments=[LoanPaymentView(payment_id=p["payment_id"], amount=eur(p["amount"]),
                                  received_on=p["received_on"]) for p in doc["payments"]],
        reason=doc.get("reason"), version=doc["version"])
