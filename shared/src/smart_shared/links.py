"""Capability links: a token that by itself opens one thing (a client's invoice) to whoever
holds it, as the e-mail that carries it does. ``{ident}.{MAC}``: nothing is stored, and a
service that shares ``SMART_LINK_SECRET`` recognises a token another one made."""

from __future__ import annotations

import base64
import hashlib
import hmac


def _mac(kind: str, ident: str, secret: str) -> str:
    digest = hmac.new(secret.encode(), f"{kind}:{ident}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def capability_token(kind: str, ident: str, secret: str) -> str:
    """The token that opens the ``kind`` (e.g. ``invoice``) with id ``ident``."""
    return f"{ident}.{_mac(kind, ident, secret)}"


def capability_ident(kind: str, token: str, secret: str) -> str | None:
    """The id a token opens, or ``None`` for a token this secret did not make for ``kind``."""
    ident, _, mac = token.rpartition(".")
    if not ident or len(token) > 200 or not hmac.compare_digest(mac, _mac(kind, ident, secret)):
        return None
    return ident
