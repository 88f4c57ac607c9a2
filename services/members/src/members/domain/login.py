"""Login links and sessions: the rules, without I/O."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict

LINK_LIFETIME = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(hours=8)
LINKS_PER_ADDRESS = 5
"""Login links one address may ask for within a link's lifetime (more are silently not sent)."""

LinkState = Literal["valid", "used", "expired"]


class Identity(BaseModel):
    """Who a login link or a session stands for."""

    model_config = ConfigDict(frozen=True)

    sub: str
    role: Literal["member", "staff", "admin"]
    branch: str
    member_id: str | None = None


def new_link_token() -> str:
    """A login token: 32 random bytes, URL-safe."""
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """How a token is stored: only its SHA-256."""
    return hashlib.sha256(token.encode()).hexdigest()


def link_state(expires_at: datetime, used_at: datetime | None, now: datetime) -> LinkState:
    if used_at is not None:
        return "used"
    return "expired" if now >= expires_at else "valid"


def normalise_address(email: str) -> str:
    """Addresses are compared without case or surrounding spaces."""
    return email.strip().lower()
