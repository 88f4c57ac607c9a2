"""What every page shares: security headers, the reader's language, who is signed in, and
rendering a page or, for htmx, one block of it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jinja2_fragments.litestar import HTMXBlockTemplate
from litestar import Request, Response
from litestar.datastructures import State
from litestar.enums import ScopeType
from litestar.response import Redirect, Template
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from smart_shared.auth import Principal
from smart_shared.http import path_token
from smart_shared.service import Platform

from portal import i18n, sessions
from portal.services import Reader, RecentReads, Refused, Services
from portal.settings import PortalSettings

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
    "connect-src 'self'", "font-src 'self'", "object-src 'none'", "base-uri 'self'",
    "form-action 'self'", "frame-ancestors 'none'",
))
SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    # capability links carry their secret in the path: never hand it to another site
    (b"referrer-policy", b"no-referrer"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


def security_headers(app: ASGIApp) -> ASGIApp:
    """ASGI middleware: every answer carries the portal's security headers; pages are private
    (no-store) unless they are static files."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.extend(SECURITY_HEADERS)
                if not static:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await app(scope, receive, send_with_headers)

    return middleware


def reading_language(app: ASGIApp) -> ASGIApp:
    """ASGI middleware: the reader's language, from the remembered choice, else Accept-Language."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP:
            headers = {k.decode().lower(): v.decode(errors="replace")
                       for k, v in scope.get("headers", [])}
            chosen = _cookie(headers.get("cookie", ""), sessions.LANGUAGE_COOKIE)
            language = chosen if chosen in i18n.LANGUAGES else i18n.best_language(
                headers.get("accept-language"))
            i18n.read_in(i18n.Reading(language))
        await app(scope, receive, send)

    return middleware


def _cookie(header: str, name: str) -> str | None:
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return None


class SignInFirst(Exception):
    """The page needs someone signed in with another role: off to the sign-in page."""


@dataclass
class Visitor:
    """Who is looking at a page: signed in or not, and the platform APIs as them."""

    services: Services
    principal: Principal | None
    session_id: str | None
    settings: PortalSettings

    @property
    def language(self) -> str:
        return i18n.current().language

    @property
    def is_member(self) -> bool:
        return self.principal is not None and self.principal.role == "member"

    @property
    def is_staff(self) -> bool:
        return self.principal is not None and self.principal.role in ("staff", "admin")

    def require_member(self) -> Principal:
        if not self.is_member or self.principal is None:
            raise SignInFirst
        return self.principal

    def require_staff(self) -> Principal:
        if not self.is_staff or self.principal is None:
            raise SignInFirst
        return self.principal

    def require_admin(self) -> Principal:
        """An admin of their branch; other staff are refused (403), anyone else signs in."""
        principal = self.require_staff()
        if principal.role != "admin":
            raise Refused(403, i18n.gettext("Only an admin of the branch may do this"))
        return principal

    @property
    def is_admin(self) -> bool:
        return self.principal is not None and self.principal.role == "admin"

    def require_signed_in(self) -> Principal:
        if self.principal is None:
            raise SignInFirst
        return self.principal


async def provide_visitor(request: Request[Any, Any, Any], state: State) -> Visitor:
    platform: Platform = state.platform
    settings: PortalSettings = platform.settings  # type: ignore[assignment]
    session_id = sessions.session_id_of(request)
    person = await sessions.signed_in(platform.db, session_id)
    services: Services = platform.extras["services"]
    address = request.client.host if request.client else None
    if person is None:
        return Visitor(services.acting_as(None, address), None, None, settings)
    i18n.current().branch = person.principal.branch
    reads: RecentReads = platform.extras["recent_reads"]

    async def changed() -> None:
        await sessions.changed(platform.db, person.principal)

    reader = Reader(reads, sessions.session_key(session_id or ""), person.changes, changed)
    return Visitor(services.acting_as(person.token, address, reader), person.principal,
                   session_id, settings)


def page(request: Request[Any, Any, Any], template: str, block: str | None = None,
         status_code: int = 200, **context: Any) -> Template:
    """The whole page, or for an htmx request naming a block only that block."""
    context.setdefault("request_path", request.url.path.replace(
        "{token}", path_token(request.scope, "{token}")))
    if block and request.headers.get("hx-request") == "true":
        return HTMXBlockTemplate(template_name=template, block_name=block, context=context,
                                 status_code=status_code)
    return Template(template_name=template, context=context, status_code=status_code)


def home_of(principal: Principal | None) -> str:
    if principal is None:
        return "/login"
    return "/staff" if principal.role in ("staff", "admin") else "/dashboard"


def sign_in_first(request: Request[Any, Any, Any], _: Exception | None = None) -> Response[Any]:
    return Redirect(f"/login?next={request.url.path}", status_code=303)


def local_path(path: str | None, default: str = "/") -> str:
    """Only a path of this site (``/…``, not ``//host``) is a place to send someone back to."""
    if path and path.startswith("/") and not path.startswith("//") and "\\" not in path:
        return path
    return default


def download(answer: Any, filename: str) -> Response[bytes]:
    """A document from a service (PDF, UBL, pain.001) handed over as it came."""
    return Response(answer.content, media_type=answer.headers.get("content-type",
                                                                   "application/octet-stream"),
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
