"""RS256 keys: the pair members signs access tokens with, and the key sets that verify them.

Members publishes its public keys as a JWKS (``/.well-known/jwks.json``): the current signing key
and, during a roll-over, the previous ones. Every other service reads that JWKS (cached, and read
again when a token names a key it does not know), so a key removed from it stops verifying.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import logging
import os
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from smart_shared.settings import Settings

log = logging.getLogger("smart.keys")

REFRESH_SECONDS = 600.0
UNKNOWN_KEY_RETRY_SECONDS = 30.0
# a token verified once is taken at its word this long (never past its expiry, never past a new
# reading of the key sets): the rate limit and the handler of one request, and a person's next
# requests, verify its signature once
VERIFIED_SECONDS = 60.0
VERIFIED_TOKENS = 10_000


def public_jwk(public_key: Any) -> dict[str, Any]:
    """The JWK of an RSA public key, with its RFC 7638 thumbprint as ``kid``."""
    jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(public_key))
    thumbprint = json.dumps({k: jwk[k] for k in ("e", "kty", "n")}, separators=(",", ":"),
                            sort_keys=True)
    digest = hashlib.sha256(thumbprint.encode()).digest()
    jwk.update(kid=base64.urlsafe_b64encode(digest).decode().rstrip("="), use="sig",
               alg="RS256")
    return jwk


def create_key_file(path: Path) -> None:
    """A new 2048-bit RSA private key in ``path`` (PEM, readable by its owner only)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    partial.write_bytes(pem)
    partial.chmod(0o600)
    with contextlib.suppress(FileExistsError):
        os.link(partial, path)  # the first process to make the key wins; the others read it
    partial.unlink()


def _public_key_of(path: Path) -> Any:
    data = path.read_bytes()
    if b"PRIVATE KEY" in data:
        return serialization.load_pem_private_key(data, password=None).public_key()
    return serialization.load_pem_public_key(data)


@dataclass
class SigningKeys:
    """Members' current private key and every public key it publishes."""

    private_key: Any
    kid: str
    published: list[dict[str, Any]]

    @classmethod
    def from_settings(cls, settings: Settings) -> SigningKeys:
        path = settings.jwt_signing_key_file
        if path is None:
            if settings.env != "local":
                raise ValueError("SMART_JWT_SIGNING_KEY_FILE is required outside SMART_ENV=local")
            path = settings.home / "keys" / "jwt-signing.pem"
        if not path.exists():
            if settings.env != "local":
                raise ValueError(f"no signing key in {path}")
            create_key_file(path)
        private_key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        current = public_jwk(private_key.public_key())
        previous = [public_jwk(_public_key_of(p)) for p in settings.jwt_previous_key_files]
        return cls(private_key, current["kid"], [current, *previous])

    def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self.private_key, algorithm="RS256", headers={"kid": self.kid})

    def jwks(self) -> dict[str, Any]:
        return {"keys": self.published}

    def key_set(self) -> KeySet:
        """The same keys as a key set, for members to verify its own tokens without a fetch."""
        return KeySet(None, {jwk["kid"]: RSAAlgorithm.from_jwk(jwk) for jwk in self.published})


@dataclass
class KeySet:
    """Public keys by ``kid`` from a JWKS URL, cached and read again when stale or when a token
    names an unknown key (at most every 30 seconds, so bad tokens cannot make a fetch each)."""

    url: str | None
    keys: dict[str, Any] = field(default_factory=dict)
    _fetched_at: float = 0.0
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def key(self, kid: str | None) -> Any | None:
        now = time.monotonic()
        stale = now - self._fetched_at > REFRESH_SECONDS
        unknown = kid not in self.keys and now - self._fetched_at > UNKNOWN_KEY_RETRY_SECONDS
        if self.url and (stale or unknown):
            async with self._lock:
                if time.monotonic() - self._fetched_at > min(REFRESH_SECONDS,
                                                             UNKNOWN_KEY_RETRY_SECONDS):
                    await self._fetch()
        return self.keys.get(kid or "")

    async def _fetch(self) -> None:
        import httpx

        assert self.url
        try:
            async with httpx.AsyncClient(timeout=5) as http:
                response = await http.get(self.url)
                response.raise_for_status()
                published = response.json()["keys"]
        except (httpx.HTTPError, KeyError, ValueError) as error:
            log.warning("could not read the JWKS at %s: %s", self.url, error)
            # try again in half a minute, not on every request
            self._fetched_at = time.monotonic() - REFRESH_SECONDS + UNKNOWN_KEY_RETRY_SECONDS
            return
        self.keys = {jwk["kid"]: RSAAlgorithm.from_jwk(jwk) for jwk in published
                     if jwk.get("kty") == "RSA" and "kid" in jwk}
        self._fetched_at = time.monotonic()


@dataclass
class TokenKeys:
    """The key sets a service verifies RS256 tokens with: the platform's (members' JWKS) and,
    where a branch configured one, its OpenID Connect provider's."""

    platform: KeySet
    oidc: KeySet | None = None
    _verified: OrderedDict[str, tuple[float, float, float, Any]] = field(
        default_factory=OrderedDict)

    def _readings(self) -> float:
        """Changes whenever a key set is read again: what was verified before is verified anew."""
        return self.platform._fetched_at + (self.oidc._fetched_at if self.oidc else 0.0)

    def verified(self, token: str) -> Any | None:
        """What ``token`` was found to be (``remember``) if that still holds, else None."""
        found = self._verified.get(token)
        if found is None:
            return None
        until, expires, readings, principal = found
        if time.monotonic() >= until or time.time() >= expires or readings != self._readings():
            del self._verified[token]
            return None
        return principal

    def remember(self, token: str, principal: Any, expires: float) -> None:
        """Keep what a verified ``token`` stands for until ``expires`` (its ``exp``, epoch
        seconds) or for ``VERIFIED_SECONDS``, whichever comes first."""
        self._verified[token] = (time.monotonic() + VERIFIED_SECONDS, expires,
                                 self._readings(), principal)
        self._verified.move_to_end(token)
        while len(self._verified) > VERIFIED_TOKENS:
            self._verified.popitem(last=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> TokenKeys:
        oidc = None
        if settings.oidc_issuer:
            url = settings.oidc_jwks_url or (settings.oidc_issuer.rstrip("/")
                                             + "/.well-known/jwks.json")
            oidc = KeySet(url)
        return cls(KeySet(settings.jwks_url), oidc)
