"""The port to the social-security gateway that receives employment declarations."""

from __future__ import annotations

from datetime import date
from typing import Protocol


class GatewayUnavailable(Exception):
    """The gateway refused or did not answer; the declaration is retried later."""


class EmploymentGateway(Protocol):
    async def declare(self, contract_id: str, member_id: str, branch: str,
                      work_days: list[date]) -> str:
        """Declare the employment for these work days; returns the declaration reference.
        Declaring the same contract again answers the same reference."""
        ...

    async def cancel(self, reference: str) -> None:
        """Cancel a declaration (the contract was cancelled before its first work day)."""
        ...
