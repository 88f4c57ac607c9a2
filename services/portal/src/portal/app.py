"""Wiring of the portal: pages, templates, static files, sessions, CSRF, headers,
and the timeline projection consumed from the six topics."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar import Request, Response
from litestar.config.csrf import CSRFConfig
from litestar.contrib.jinja import JinjaTemplateEngine
from litestar.di import Provide
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.plugins.htmx import HTMXPlugin
from litestar.response import Redirect, Template
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from pymongo.asynchronous.database import AsyncDatabase
from smart_shared.http import keep_tokens_out_of_paths
from smart_shared.mongo import Document
from smart_shared.service import Platform, Service, build_service

from portal import i18n, sessions, timeline
from portal.pages import PAGES
from portal.services import RecentReads, Refused, ServiceClients, Services, Unreachable
from portal.settings import PortalSettings
from portal.web import (
    SignInFirst,
    provide_visitor,
    reading_language,
    security_headers,
    sign_in_first,
)

HERE = Path(__file__).parent


def templates() -> Environment:
    """The pages' Jinja environment: autoescaped, translated, with Babel's formats."""
    environment = Environment(
        loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(),
        extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True)
    environment.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.gettext, i18n.ngettext, newstyle=True)
    environment.filters.update(money=i18n.money, day=i18n.day, moment=i18n.moment,
                               percent=i18n.percent)
    environment.globals.update(languages=i18n.LANGUAGE_NAMES, reading=i18n.current)
    return environment


async def create_indexes(db: AsyncDatabase[Document]) -> None:
    await timeline.create_indexes(db)
    await sessions.create_indexes(db)


def refused_page(request: Request[Any, Any, Any], refused: Exception) -> Response[Any]:
    """A service's refusal that no page turned into a message: sign in again, or say why."""
    assert isinstance(refused, Refused)
    if refused.status == 401:
        return Redirect(f"/login?next={request.url.path}", status_code=303)
    status = refused.status if 400 <= refused.status < 500 else 502
    return Template("error.html", status_code=status, context={
        "status": status, "refused": refused, "visitor": None,
        "request_path": request.url.path})


def unreachable_page(request: Request[Any, Any, Any], error: Exception) -> Response[Any]:
    """A service that does not answer makes a 502 page, never a 500."""
    return Template("error.html", status_code=502, context={
        "status": 502, "refused": Refused(502, i18n.gettext("A service does not answer; try "
                                                            "again in a moment")),
        "visitor": None, "request_path": request.url.path})


def not_allowed_page(request: Request[Any, Any, Any], error: Exception) -> Response[Any]:
    # the CSRF middleware refuses a form without its token as 403
    return Template("error.html", status_code=403, context={
        "status": 403, "refused": Refused(403, i18n.gettext("This form has expired")),
        "visitor": None, "request_path": request.url.path})


def create_service(settings: PortalSettings | None = None) -> Service:
    """The portal, with the deployment's settings (or the environment's)."""
    settings = settings or PortalSettings(SMART_SERVICE="portal")
    environment = templates()

    async def on_start(platform: Platform) -> None:
        clients = ServiceClients(settings)
        await clients.start()
        platform.closing.append(("the portal's service clients", clients.close))
        platform.extras["services"] = Services(settings, clients)
        platform.extras["recent_reads"] = RecentReads(settings.recent_reads_seconds)
        platform.extras["templates"] = environment

    built = build_service(
        "portal", port=8000,
        controllers=[*PAGES, create_static_files_router(
            path="/static", directories=[HERE / "static"], include_in_schema=False)],
        handlers=timeline.handlers, indexes=create_indexes,
        on_start=on_start, settings=settings,
        web={
            # people reach the portal without a bearer token: the services it calls limit each
            # person's own address, which the portal forwards (Services.acting_as)
            "rate_limit_anonymous": False,
            "template_config": TemplateConfig(
                instance=JinjaTemplateEngine.from_environment(environment)),
            "plugins": [HTMXPlugin()],
            "middleware": [security_headers, reading_language],
            "csrf_config": CSRFConfig(secret=settings.portal_secret, cookie_name="smart_csrf",
                                      cookie_secure=settings.secure_cookies,
                                      cookie_httponly=True, cookie_samesite="lax"),
            "dependencies": {"visitor": Provide(provide_visitor)},
            "exception_handlers": {Refused: refused_page, SignInFirst: sign_in_first,
                                   Unreachable: unreachable_page,
                                   PermissionDeniedException: not_allowed_page,
                                   NotAuthorizedException: not_allowed_page},
        })
    # the tokens of capability links (sign-in, signing, invoice) never reach traces or logs
    keep_tokens_out_of_paths(built.app, "/login/", "/sign/", "/invoice/")
    return built


service = create_service()
app = service.app
