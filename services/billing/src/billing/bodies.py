"""The bodies of billing's HTTP requests, as the API reads them."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field
from smart_shared.money import PositiveMoney
from smart_shared.text import Identifier, OneLine, Paragraph

RefundStatus = Literal["requested", "approved", "rejected", "in_file"]


class PaymentIn(BaseModel):
    """A payment received on the branch's account, matched by invoice id or communication."""

    model_config = ConfigDict(extra="forbid")

    amount: PositiveMoney
    received_on: date
    payer_iban: Annotated[Identifier, Field(min_length=5, max_length=42)]
    payer_name: Annotated[OneLine, Field(max_length=140)] | None = None
    invoice_id: Annotated[Identifier, Field(max_length=64)] | None = None
    structured_reference: Annotated[Identifier, Field(max_length=40)] | None = None


class CreditNoteIn(BaseModel):
    """A credit note: the given amount incl. VAT, or all that remains invoiced when omitted."""

    model_config = ConfigDict(extra="forbid")

    amount: PositiveMoney | None = None
    reason: Annotated[Paragraph, Field(min_length=3, max_length=500)]


class RefundIn(BaseModel):
    """A refund of the invoice's credit: to the account of its last payment unless given."""

    model_config = ConfigDict(extra="forbid")

    payee_iban: Annotated[Identifier, Field(min_length=5, max_length=42)] | None = None
    payee_name: Annotated[OneLine, Field(max_length=140)] | None = None


class RefundDecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["approve", "reject"]


class AssignmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    invoice_id: str = Field(min_length=1, max_length=64)


class ClientLink(BaseModel):
    """A client's capability link, sent in the body so that it stays out of paths and logs."""

    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=20, max_length=200)
    document: Literal["pdf", "ubl"] | None = None
