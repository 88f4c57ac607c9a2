"""The base of every public event."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Branch = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
"""A national branch: ISO 3166 alpha-2 code of the country it serves (BE, FR, …)."""


class Event(BaseModel):
    """A fact that happened to one aggregate, published for every system that subscribes.

    Consumers must ignore fields they do not know: adding an optional field is not a breaking
    change. Anything that breaks an existing consumer is a new ``.v2`` type.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    service: ClassVar[str]
    """The service that publishes this event."""
    topic: ClassVar[str]
    """The Kafka topic (one per aggregate stream)."""
    aggregate_field: ClassVar[str]
    """The body field holding the aggregate id, also the Kafka key and ``ce_subject``."""
    schema_version: ClassVar[int] = 1

    branch: Branch = Field(description="The branch whose deployment produced the fact.")
    version: int = Field(ge=1, description="The aggregate's version after this event: 1, 2, 3…")
    occurred_at: datetime = Field(description="When it happened, by the platform clock (UTC).")

    @classmethod
    def ce_type(cls) -> str:
        """The CloudEvents type, e.g. ``coop.smart.billing.InvoicePaid.v1``."""
        return f"coop.smart.{cls.service}.{cls.__name__}.v{cls.schema_version}"

    @property
    def aggregate_id(self) -> str:
        return str(getattr(self, self.aggregate_field))
