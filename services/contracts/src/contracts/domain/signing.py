"""The client's signing link: a single-use secret token, of which only a hash is stored."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any


@dataclass(frozen=True)
class SigningLink:
    """A freshly issued link: ``token`` goes to the client once and is never stored."""

    token: str
    token_hash: str
    expires_at: datetime


class SigningRefused(Exception):
    """The token cannot sign: ``reason`` is ``unknown``, ``used`` or ``expired``."""

    def __init__(self, reason: str, detail: str) -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(detail)


def hash_token(token: str) -> str:
    """The stored form of a token (SHA-256, hex): a database leak reveals no usable link."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue_signing_link(now: datetime, valid_days: int) -> SigningLink:
    """A new unguessable token (256 bits) valid for ``valid_days`` days from ``now``."""
    token = secrets.token_urlsafe(32)
    return SigningLink(token, hash_token(token), now + timedelta(days=valid_days))


def check_signing_link(stored_hash: str, token: str, expires_at: datetime,
                       used_at: datetime | None, now: datetime) -> None:
    """Refuse a token that does not match, was used already, or expired (at ``expires_at``)."""
    if not hmac.compare_digest(stored_hash, hash_token(token)):
        raise SigningRefused("unknown", "This signing link is not valid")
    if used_at is not None:
        raise SigningRefused("used", "This signing link was used already")
    if now >= expires_at:
        raise SigningRefused("expired", "This signing link has expired; ask for a new one")


@dataclass(frozen=True)
class SignatureEvidence:
    """What proves who signed what: the signer's name, their address and browser, and the
    SHA-256 of the exact terms they were shown."""

    signer_name: str
    terms_sha256: str
    user_agent: str | None = None
    address: str | None = None


class TermsChanged(Exception):
    """The terms signed are not the contract's terms now."""


def terms_digest(terms: dict[str, Any]) -> str:
    """SHA-256 (hex) of the terms in one canonical JSON form (sorted keys, no spaces)."""
    canonical = json.dumps(terms, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()
