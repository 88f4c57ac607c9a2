"""HTTP API of login: login links, sessions, staff identities and the public keys (JWKS)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import jwt
from litestar import Controller, Request, delete, get, post
from pydantic import BaseModel, ConfigDict, Field
from smart_shared.auth import Principal
from smart_shared.events.catalogue import Language
from smart_shared.ids import new_id
from smart_shared.keys import SigningKeys, TokenKeys
from smart_shared.mongo import UnitOfWork
from smart_shared.openapi import problems
from smart_shared.problems import Problem, conflict, invalid
from smart_shared.service import Platform, Service

from members import identities, login
from members.domain import validate_email
from members.domain.errors import RuleBroken
from members.domain.login import Identity, normalise_address

Email = Annotated[str, Field(min_length=3, max_length=254)]
Branch = Annotated[str, Field(pattern=r"^[A-Z]{2}$")]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LoginLinkRequest(_Body):
    email: Email
    branch: Branch
    language: Language | None = None


class SessionRequest(_Body):
    token: Annotated[str, Field(min_length=1, max_length=200)]


class PrincipalOut(BaseModel):
    sub: str
    role: str
    branch: str
    member_id: str | None


class SessionOut(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_at: datetime
    principal: PrincipalOut


class StaffIn(_Body):
    email: Email
    name: Annotated[str, Field(min_length=1, max_length=140)]
    branch: Branch
    role: Literal["staff", "admin"] = "staff"
    language: Language | None = None


class StaffOut(BaseModel):
    staff_id: str
    email: str
    name: str
    branch: str
    role: str
    language: Language | None


def _keys(platform: Platform) -> SigningKeys:
    keys: SigningKeys = platform.extras["signing_keys"]
    return keys


def _session_out(platform: Platform, identity: Identity, session_id: str) -> SessionOut:
    token, expires_at = login.access_token(_keys(platform), platform.settings.jwt_issuer,
                                           identity, session_id)
    return SessionOut(access_token=token, expires_at=expires_at,
                      principal=PrincipalOut(**identity.model_dump()))


def _session_id(request: Request[Any, Any, Any]) -> str | None:
    token = request.headers.get("authorization", "").partition(" ")[2].strip()
    claims = jwt.decode(token, options={"verify_signature": False})  # verified by `principal`
    sid = claims.get("sid")
    return str(sid) if sid else None


class LoginController(Controller):
    path = "/v1"
    tags = ["login"]

    @post("/login-links", status_code=202,
          summary="Mail a one-time login link (public; the same answer for any address)")
    async def ask_for_link(self, platform: Platform, data: LoginLinkRequest) -> dict[str, str]:
        if data.branch not in platform.settings.branches:
            served = ", ".join(platform.settings.branches)
            raise invalid("branch", f"this deployment serves {served}")

        async def work(uow: UnitOfWork) -> None:
            await login.request_login_link(uow, data.email, data.branch, data.language,
                                           platform.settings.portal_url)

        await platform.database.transaction(work)
        return {"status": "sent"}

    @post("/sessions", status_code=201,
          summary="Exchange a login link's token for an access token (public)",
          responses=problems((404, "No login link has this token"),
                             (410, "The login link was used already or has expired")))
    async def open_session(self, platform: Platform, data: SessionRequest) -> SessionOut:
        async def work(uow: UnitOfWork) -> tuple[Identity, str]:
            return await login.exchange_login_link(uow, data.token)

        identity, session_id = await platform.database.transaction(work)
        return _session_out(platform, identity, session_id)

    @post("/sessions/refresh", status_code=201,
          summary="A new access token for the caller's open session")
    async def refresh(self, platform: Platform, principal: Principal,
                      request: Request[Any, Any, Any]) -> SessionOut:
        session_id = _session_id(request)
        doc = await identities.session(platform.db, session_id) if session_id else None
        if doc is None or doc["revoked_at"] is not None:
            raise Problem(401, "Not authenticated", "This token belongs to no open session",
                          "unauthenticated")
        identity = Identity(sub=doc["sub"], role=doc["role"], branch=doc["branch"],
                            member_id=doc.get("member_id"))
        return _session_out(platform, identity, doc["_id"])

    @delete("/sessions/current", status_code=204, summary="Log out: close the caller's session")
    async def log_out(self, platform: Platform, principal: Principal,
                      request: Request[Any, Any, Any]) -> None:
        session_id = _session_id(request)
        if session_id:
            await identities.revoke_session(platform.db, session_id, datetime.now(UTC))


class StaffController(Controller):
    path = "/v1/staff"
    tags = ["login"]

    @post("/", summary="Create a staff identity of the admin's branch (admin)",
          responses=problems((409, "The address is already staff of the branch")))
    async def add(self, platform: Platform, principal: Principal, data: StaffIn) -> StaffOut:
        principal.require("admin")
        principal.require_branch(data.branch)
        try:
            email = validate_email(data.email)
        except RuleBroken:
            raise invalid("email", "is not an email address") from None
        staff = StaffOut(staff_id=new_id(), email=email, name=" ".join(data.name.split()),
                         branch=data.branch, role=data.role, language=data.language)

        async def work(uow: UnitOfWork) -> None:
            if await identities.staff_by_address(uow, data.branch, normalise_address(email)):
                raise conflict("Already staff", f"{email} is already staff of {data.branch}")
            await identities.add_staff(uow, {"_id": staff.staff_id,
                                             **staff.model_dump(exclude={"staff_id"}),
                                             "email_key": normalise_address(email),
                                             "created_by": principal.sub})

        await platform.database.transaction(work)
        return staff


@get("/.well-known/jwks.json", tags=["login"], include_in_schema=True,
     summary="The public keys that verify the platform's access tokens")
async def jwks(platform: Platform) -> dict[str, Any]:
    return _keys(platform).jwks()


async def start_login(service: Service, platform: Platform) -> None:
    """Give members its signing keys, verify its own tokens with them (no fetch of its own
    JWKS), and refuse the tokens of closed sessions."""

    async def session_closed(token: str) -> bool:
        sid = jwt.decode(token, options={"verify_signature": False}).get("sid")
        if not sid:
            return False
        doc = await identities.session(platform.db, str(sid))
        return doc is None or doc["revoked_at"] is not None

    keys = SigningKeys.from_settings(platform.settings)
    platform.extras["signing_keys"] = keys
    verify = TokenKeys.from_settings(platform.settings)
    verify.platform = keys.key_set()
    service.app.state.token_keys = verify
    service.app.state.session_revoked = session_closed
