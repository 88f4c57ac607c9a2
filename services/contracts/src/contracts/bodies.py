"""The bodies of contracts' HTTP requests, as the API reads them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from smart_shared.events import WorkNature
from smart_shared.money import NonNegativeMoney, PositiveMoney
from smart_shared.text import OneLine, Paragraph

from contracts.domain import ClientDetails


class NewContract(BaseModel):
    """A contract as the member (or staff for them) drafts it."""

    model_config = ConfigDict(extra="forbid")

    member_id: str | None = Field(None, max_length=100,
                                  description="Required for staff; a member drafts for themselves.")
    activity: Annotated[OneLine, StringConstraints(max_length=200)]
    client: ClientDetails
    description: Annotated[Paragraph, StringConstraints(max_length=4000)]
    work_days: list[date] = Field(min_length=1, max_length=366)
    amount_excl_vat: PositiveMoney
    expenses: NonNegativeMoney = Field(
        default_factory=lambda: NonNegativeMoney(amount=Decimal("0.00")))
    payment_term_days: int | None = Field(None, ge=0, le=365)
    work_nature: WorkNature = Field(
        "other", description="What the work is, which decides the invoice's VAT category "
        "(billing's rule pack): 'copyright' (transfer or licence of the author's rights, not "
        "software), 'performance' (a performer's work), 'performance_for_organiser' (the same, "
        "for an organiser of shows or concerts, a record publisher or a film producer), "
        "'other'.")


class Cancellation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[Paragraph, StringConstraints(max_length=500)] = "cancelled on request"


class SignatureIn(BaseModel):
    """The evidence of a signature, as the signing page took it."""

    model_config = ConfigDict(extra="forbid")

    signer_name: str = Field(min_length=1, max_length=200)
    terms_sha256: str = Field(pattern=r"^[0-9a-f]{64}$",
                              description="SHA-256 of the terms shown (GET of the link).")
    signer_address: str | None = Field(None, max_length=100,
                                       description="The signer's IP address, as the page saw it.")
    user_agent: str | None = Field(None, max_length=500)
