"""What a rule says when it refuses something."""

from __future__ import annotations


class RuleBroken(ValueError):
    """Input that breaks a membership rule; names every failing field."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors))
        self.errors = errors

    @classmethod
    def on(cls, field: str, message: str) -> RuleBroken:
        return cls([(field, message)])


class NotNow(Exception):
    """A valid request that the member's current state does not allow (a conflict)."""

    def __init__(self, title: str, detail: str) -> None:
        super().__init__(detail)
        self.title = title
        self.detail = detail


class UnknownShare(LookupError):
    """No subscription with that id for this member."""
