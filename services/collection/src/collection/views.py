"""What the API shows of a case, and what it accepts."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from smart_shared.events.catalogue import ClientKind, Language, ReminderLevel
from smart_shared.money import Money, PositiveMoney
from smart_shared.mongo import Document
from smart_shared.text import Paragraph


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
        "timeline": doc.get("timeline", []),
    })
