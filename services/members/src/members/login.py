"""Logging in with a one-time link sent by e-mail, and the sessions it opens.

Asking for a link answers the same whether the address is known or not; the link's token is
random, kept only as its SHA-256 (the plain token lives in the mail outbox until the mail is
sent, then the relay drops it), works once and for 15 minutes of platform time. A session is an
RS256 access token of 8 hours signed with members' key; refreshing gives a new one for the same
session; logging out closes it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from smart_shared.events.catalogue import Language
from smart_shared.ids import new_id
from smart_shared.keys import SigningKeys
from smart_shared.mail import Mail, send_mail
from smart_shared.mail.render import default_language
from smart_shared.mongo import Document, UnitOfWork
from smart_shared.problems import Problem, not_found

from members import identities
from members.domain.login import (
    LINK_LIFETIME,
    LINKS_PER_ADDRESS,
    SESSION_LIFETIME,
    Identity,
    link_state,
    new_link_token,
    normalise_address,
    token_digest,
)


def _identity_of(member: Document | None, staff: Document | None) -> tuple[Identity, Document]:
    if member is not None:
        return Identity(sub=member["_id"], role="member", branch=member["branch"],
                        member_id=member["_id"]), {**member, "name": member["first_name"]}
    assert staff is not None
    return Identity(sub=staff["_id"], role=staff["role"], branch=staff["branch"]), staff


async def request_login_link(uow: UnitOfWork, email: str, branch: str,
                             language: Language | None, portal_url: str) -> None:
    """Mail a login link if the address is a member's or staff's of ``branch``; else nothing."""
    now = uow.clock.now()
    key = normalise_address(email)
    if await identities.links_asked_since(uow, key, now - LINK_LIFETIME) >= LINKS_PER_ADDRESS:
        return  # enough links are on their way to this address
    member = await identities.member_by_address(uow, branch, key)
    staff = None if member else await identities.staff_by_address(uow, branch, key)
    token = new_link_token()
    digest = token_digest(token)
    if member is None and staff is None:
        await identities.add_link(uow, digest, key, None, now, now + LINK_LIFETIME)
        return
    identity, person = _identity_of(member, staff)
    await identities.add_link(uow, digest, key, identity, now, now + LINK_LIFETIME)
    # to the address on file, as the person gave it, not as it was typed in the request
    send_mail(uow, Mail(
        cause=f"login-link:{digest}", to=person["email"], to_name=person["name"],
        branch=branch, template="login_link", secret=True, person_id=identity.sub,
        language=language or person.get("language") or default_language(branch,
                                                                         uow.clock.today()),
        data={"name": person["name"], "link": f"{portal_url.rstrip('/')}/login/{token}",
              "minutes": int(LINK_LIFETIME.total_seconds() // 60)},
    ))


def _gone(detail: str) -> Problem:
    return Problem(410, "Login link no longer valid", detail, "gone")


def access_token(keys: SigningKeys, issuer: str, identity: Identity, session_id: str
                 ) -> tuple[str, datetime]:
    """An RS256 access token for ``identity`` in session ``session_id``, and when it expires."""
    # tokens live in real time: the platform clock may be moved, a token's validity may not
    now = datetime.now(UTC)
    expires_at = now + SESSION_LIFETIME
    claims: dict[str, Any] = {"iss": issuer, "sub": identity.sub, "role": identity.role,
                              "branch": identity.branch, "sid": session_id, "iat": now,
                              "exp": expires_at}
    if identity.member_id:
        claims["member_id"] = identity.member_id
    return keys.sign(claims), expires_at


async def exchange_login_link(uow: UnitOfWork, token: str) -> tuple[Identity, str]:
    """Use a login link once: the identity it stands for and a new session id."""
    digest = token_digest(token)
    doc = await identities.link(uow, digest)
    if doc is None:
        raise not_found("Login link", "this link")
    state = link_state(doc["expires_at"], doc["used_at"], uow.clock.now())
    if state != "valid":
        raise _gone(f"This login link is {state}; ask for a new one")
    if not await identities.use_link(uow, digest, uow.clock.now()):
        raise _gone("This login link is used; ask for a new one")
    identity = Identity.model_validate(doc["identity"])
    session_id = new_id()
    await identities.open_session(uow, session_id, identity,
                                  datetime.now(UTC) + SESSION_LIFETIME)
    return identity, session_id
