"""The port to the social-security gateway that receives employment declarations."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol


class GatewayUnavailable(Exception):
    """The gateway refused or did not answer; the declaration is retried later."""


@dataclass(frozen=True)
class Employment:
    """What is declared for one contract: who works, for which branch, on which days."""

    contract_id: str
    member_id: str
    branch: str
    work_days: list[date]


class EmploymentGateway(Protocol):
    async def declare(self, contract_id: str, member_id: str, branch: str,
                      work_days: list[date]) -> str:
        """Declare the employment for these work days; returns the declaration reference.
        Declaring the same contract again answers the same reference."""
        ...

    async def declare_all(self, employments: Sequence[Employment]) -> dict[str, str]:
        """Declare several employments at once; returns each contract's reference. All or
        nothing: ``GatewayUnavailable`` when the gateway does not take the batch, and since
        declaring a contract again answers the same reference, the batch may simply be sent
        again."""
        ...

    async def cancel(self, reference: str) -> None:
        """Cancel a declaration (the contract was cancelled before its first work day)."""
        ...
