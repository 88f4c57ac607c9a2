"""The contract's lifecycle: which step may follow which (DESIGN.md §4.2)."""

from __future__ import annotations

from enum import StrEnum


class ContractStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    SIGNED_BY_CLIENT = "signed_by_client"
    SIGNED = "signed"
    DECLARED = "declared"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


S = ContractStatus

ALLOWED: dict[ContractStatus, frozenset[ContractStatus]] = {
    # submitting again replaces the signing link (a lost or expired link)
    S.DRAFT: frozenset({S.SUBMITTED, S.CANCELLED}),
    S.SUBMITTED: frozenset({S.SUBMITTED, S.SIGNED_BY_CLIENT, S.CANCELLED}),
    S.SIGNED_BY_CLIENT: frozenset({S.SIGNED, S.CANCELLED}),
    S.SIGNED: frozenset({S.DECLARED, S.CANCELLED}),
    S.DECLARED: frozenset({S.COMPLETED, S.CANCELLED}),
    S.COMPLETED: frozenset(),
    S.CANCELLED: frozenset(),
}

NOT_YET_BINDING = frozenset({S.DRAFT, S.SUBMITTED, S.SIGNED_BY_CLIENT})
"""Statuses in which SMart has not validated the contract yet: nothing was published about it."""


class TransitionRefused(Exception):
    """The contract's status does not allow the step asked for."""

    def __init__(self, current: ContractStatus, wanted: ContractStatus, why: str = "") -> None:
        self.current = current
        self.wanted = wanted
        self.why = why or f"a {current.value} contract cannot become {wanted.value}"
        super().__init__(self.why)


def can_move(current: ContractStatus, wanted: ContractStatus) -> bool:
    """Whether the lifecycle allows ``current`` → ``wanted``."""
    return wanted in ALLOWED[current]


def ensure_can_move(current: ContractStatus, wanted: ContractStatus) -> None:
    """Raise ``TransitionRefused`` unless the lifecycle allows ``current`` → ``wanted``."""
    if not can_move(current, wanted):
        raise TransitionRefused(current, wanted)


def statuses_before(wanted: ContractStatus) -> list[str]:
    """The stored statuses from which ``wanted`` may be reached (for conditional updates)."""
    return [status.value for status, nexts in ALLOWED.items() if wanted in nexts]
