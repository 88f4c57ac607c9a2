"""Bearer JWT authentication and the platform's authorisation rules (DESIGN.md §5).

Claims: ``sub``, ``role`` (member, staff, admin, service), ``branch``, ``member_id``. A member sees
only their own data; staff and admins only their branch; services act for the branch they serve.
People's tokens are RS256, signed by members and verified against the keys members publishes
(``smart_shared.keys``), or issued by a branch's OpenID Connect provider and verified against its
JWKS, with its claims mapped by configuration. HS256 with the shared secret (``smart token``, the
tests) is accepted only in ``SMART_ENV=local``. Tokens without an expiry, with another algorithm
(``none`` included), a key that is not published, or a bad signature are refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, Protocol, TypeVar

import jwt
from litestar import Request

from smart_shared.keys import TokenKeys
from smart_shared.problems import Problem, forbidden, not_found
from smart_shared.settings import Settings

Role = Literal["member", "staff", "admin", "service"]


class Owned(Protocol):
    """A record kept for one member of one branch."""

    @property
    def member_id(self) -> str | None: ...

    @property
    def branch(self) -> str: ...


Found = TypeVar("Found", bound="Mapping[str, Any] | Owned")
ROLES: tuple[Role, ...] = ("member", "staff", "admin", "service")


@dataclass(frozen=True)
class Principal:
    """Who is calling, as the token says."""

    sub: str
    role: Role
    branch: str
    member_id: str | None = None

    @property
    def is_staff(self) -> bool:
        return self.role in ("staff", "admin", "service")

    def require(self, *roles: Role) -> None:
        """Refuse (403) unless the caller has one of ``roles``."""
        if self.role not in roles:
            raise forbidden(f"This needs the role {' or '.join(roles)}; you are {self.role}")

    def require_branch(self, branch: str) -> None:
        """Refuse (403) anything outside the caller's branch."""
        if branch != self.branch:
            raise forbidden(f"You act for branch {self.branch}, not {branch}")

    def require_member_or_staff(self, member_id: str, branch: str) -> None:
        """A member may act only for themselves; staff only within their branch."""
        self.require_branch(branch)
        if self.role == "member" and self.member_id != member_id:
            raise forbidden("A member may only see and change their own data")

    def sees(self, member_id: str | None, branch: str) -> bool:
        """A member sees their own records; staff, admins and services their branch's."""
        if branch != self.branch:
            return False
        return self.role != "member" or (member_id is not None and member_id == self.member_id)



def visible_or_404(principal: Principal, found: Found | None, what: str, ident: str) -> Found:
    """``found`` (a stored document or a model with ``member_id`` and ``branch``) if it exists
    and the caller may see it; otherwise the 404 of an unknown id, so that an answer never tells
    a caller that a record they may not see exists."""
    if found is None:
        raise not_found(what, ident)
    if isinstance(found, Mapping):
        member_id, branch = found.get("member_id"), found["branch"]
    else:
        member_id, branch = found.member_id, found.branch
    if not principal.sees(member_id, branch):
        raise not_found(what, ident)
    return found


def _key(settings: Settings, for_signing: bool) -> Any:
    if settings.jwt_algorithm == "HS256":
        return settings.jwt_secret
    if for_signing:
        raise ValueError("RS256 tokens are minted by the identity provider, not here")
    if not settings.jwt_public_key_file:
        raise ValueError("SMART_JWT_PUBLIC_KEY_FILE is required with RS256")
    return Path(settings.jwt_public_key_file).read_text()


def mint_token(
    settings: Settings,
    role: Role,
    branch: str,
    member_id: str | None = None,
    sub: str | None = None,
    ttl: timedelta = timedelta(hours=8),
) -> str:
    """A local HS256 token (the ``smart token`` command and the tests use this)."""
    if settings.env != "local":
        raise ValueError("HS256 tokens exist only in SMART_ENV=local")
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "sub": sub or member_id or f"{role}@{branch.lower()}",
        "role": role,
        "branch": branch,
        "iat": now,
        "exp": now + ttl,
    }
    if member_id:
        claims["member_id"] = member_id
    return jwt.encode(claims, _key(settings, True), algorithm="HS256")


def _unauthorised(detail: str) -> Problem:
    return Problem(401, "Not authenticated", detail, "unauthenticated")


def read_token(settings: Settings, token: str) -> Principal:
    """Verify a token and return its principal, or a 401 problem saying why not."""
    try:
        claims = jwt.decode(
            token,
            _key(settings, False),
            algorithms=[settings.jwt_algorithm],
            options={"require": ["exp", "sub", "role", "branch"]},
        )
    except jwt.ExpiredSignatureError:
        raise _unauthorised("The token has expired") from None
    except jwt.InvalidTokenError as error:
        raise _unauthorised(f"The token is not valid: {error}") from None
    return _principal(claims)


def _principal(claims: dict[str, Any], role_claim: str = "role", branch_claim: str = "branch",
               member_claim: str = "member_id") -> Principal:
    role = claims.get(role_claim)
    if role not in ROLES:
        raise _unauthorised(f"Unknown role {role!r}")
    branch = claims.get(branch_claim)
    if not isinstance(branch, str) or not branch:
        raise _unauthorised(f"The token has no {branch_claim} claim")
    member_id = claims.get(member_claim)
    if role == "member" and not member_id:
        raise _unauthorised("A member token needs a member_id claim")
    return Principal(sub=str(claims["sub"]), role=role, branch=branch,
                     member_id=str(member_id) if member_id else None)


async def authenticate(settings: Settings, token: str, keys: TokenKeys) -> Principal:
    """Verify any token the deployment accepts and return its principal (401 problem if not).

    A token verified in the last minute is not verified again (``TokenKeys.verified``)."""
    known = keys.verified(token)
    if known is not None:
        return known  # type: ignore[no-any-return]
    try:
        header = jwt.get_unverified_header(token)
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.InvalidTokenError as error:
        raise _unauthorised(f"The token is not valid: {error}") from None
    principal = await _verify(settings, token, keys, header, unverified)
    # a verified token has an ``exp`` (required above); a number, or PyJWT would have refused it
    keys.remember(token, principal, float(unverified["exp"]))
    return principal


async def _verify(settings: Settings, token: str, keys: TokenKeys, header: dict[str, Any],
                  unverified: dict[str, Any]) -> Principal:
    algorithm = header.get("alg")
    if algorithm == "HS256":
        if settings.env != "local":
            raise _unauthorised("HS256 tokens are accepted only in SMART_ENV=local")
        return read_token(settings.model_copy(update={"jwt_algorithm": "HS256"}), token)
    if algorithm != "RS256":
        raise _unauthorised(f"Tokens signed with {algorithm!r} are not accepted")
    if settings.jwt_public_key_file and "kid" not in header:
        return read_token(settings, token)
    kid = header.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise _unauthorised("The token's key id is not a string")
    external = bool(settings.oidc_issuer) and unverified.get("iss") == settings.oidc_issuer
    key_set = keys.oidc if external and keys.oidc else keys.platform
    key = await key_set.key(kid)
    if key is None:
        raise _unauthorised("The token is signed by a key that is not (or no longer) published")
    try:
        claims = jwt.decode(
            token, key, algorithms=["RS256"],
            issuer=settings.oidc_issuer if external else settings.jwt_issuer,
            audience=settings.oidc_audience if external else None,
            options={"require": ["exp", "sub", "iss"],
                     "verify_aud": bool(external and settings.oidc_audience)},
        )
    except jwt.ExpiredSignatureError:
        raise _unauthorised("The token has expired") from None
    except jwt.InvalidTokenError as error:
        raise _unauthorised(f"The token is not valid: {error}") from None
    if external:
        return _principal(claims, settings.oidc_role_claim, settings.oidc_branch_claim,
                          settings.oidc_member_id_claim)
    return _principal(claims)


def token_keys_of(state: Any, settings: Settings) -> TokenKeys:
    """The app's published keys (one cache per process, made on first use)."""
    keys: TokenKeys | None = getattr(state, "token_keys", None)
    if keys is None:
        keys = state.token_keys = TokenKeys.from_settings(settings)
    return keys


async def has_valid_token(settings: Settings, token: str, keys: TokenKeys) -> bool:
    """Whether ``token`` is one this deployment accepts (the rate limit spares such callers)."""
    if not token:
        return False
    try:
        await authenticate(settings, token, keys)
    except Problem:
        return False
    return True


async def current_principal(request: Request[Any, Any, Any]) -> Principal:
    """Litestar dependency: the authenticated caller (401 problem when missing or invalid)."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorised("Send 'Authorization: Bearer <token>'")
    settings: Settings = request.app.state.settings
    keys = token_keys_of(request.app.state, settings)
    principal = await authenticate(settings, token.strip(), keys)
    revoked = getattr(request.app.state, "session_revoked", None)
    if revoked is not None and await revoked(token.strip()):
        raise _unauthorised("The session was closed (logged out)")
    return principal
