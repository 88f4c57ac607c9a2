"""Signing up, signing in by a one-time link, signing out, and choosing the language."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.response import Redirect, Template
from smart_shared.auth import Principal
from smart_shared.http import path_token
from smart_shared.service import Platform

from portal import i18n, sessions
from portal.i18n import gettext as _
from portal.pages.forms import field_errors, form_of, required
from portal.services import Refused
from portal.web import Visitor, home_of, local_path, page

SIGNUP_FIELDS = ("first_name", "last_name", "email", "birth_date", "national_id", "street",
                 "postal_code", "city", "country", "iban", "activity_name", "activity_kind")
ACTIVITY_KINDS = ("artistic", "manual", "other")
# the members API names the fields of its body; the form names them flat
SIGNUP_API_FIELDS = {"address.street": "street", "address.postal_code": "postal_code",
                     "address.city": "city", "address.country": "country",
                     "activities": "activity_name", "activities.0.name": "activity_name",
                     "activities.0.kind": "activity_kind"}


class AuthPages(Controller):
    include_in_schema = False

    @get("/")
    async def home(self, visitor: Visitor) -> Redirect:
        return Redirect(home_of(visitor.principal), status_code=303)

    @get("/login")
    async def login_form(self, request: Request[Any, Any, Any], visitor: Visitor) -> Template:
        return page(request, "auth/login.html", visitor=visitor, values={"branch": "BE"},
                    errors={})

    @post("/login", status_code=200)
    async def ask_for_link(self, request: Request[Any, Any, Any], visitor: Visitor) -> Template:
        values = await form_of(request)
        errors = required(values, "email")
        if "@" not in values.get("email", "@"):
            errors["email"] = _("Enter an e-mail address like name@example.com")
        if values.get("branch") not in ("BE", "FR"):
            errors["branch"] = _("Choose your branch")
        if errors:
            return page(request, "auth/login.html", status_code=400, visitor=visitor,
                        values=values, errors=errors)
        try:
            await visitor.services.acting_as(None).post("members", "/v1/login-links", {
                "email": values["email"], "branch": values["branch"],
                "language": visitor.language})
        except Refused as refused:
            return page(request, "auth/login.html", status_code=refused.status,
                        visitor=visitor, values=values, errors=field_errors(refused, {"email"}))
        return page(request, "auth/link_sent.html", visitor=visitor, email=values["email"])

    @get("/login/{token:str}")
    async def confirm_login(self, request: Request[Any, Any, Any], visitor: Visitor,
                            token: str) -> Template:
        token = path_token(request.scope, token)
        # a GET never uses the link: mail scanners open links before people do
        return page(request, "auth/confirm.html", visitor=visitor, token=token)

    @post("/login/{token:str}", status_code=200)
    async def sign_in(self, request: Request[Any, Any, Any], visitor: Visitor,
                      platform: Platform, token: str) -> Response[Any]:
        token = path_token(request.scope, token)
        try:
            answer = await visitor.services.acting_as(None).post(
                "members", "/v1/sessions", {"token": token})
        except Refused as refused:
            return page(request, "auth/link_refused.html", status_code=refused.status,
                        visitor=visitor, used=refused.status == 410)
        principal = Principal(**{k: answer["principal"].get(k) for k in
                                 ("sub", "role", "branch", "member_id")})
        expires_at = datetime.fromisoformat(answer["expires_at"])
        session_id = await sessions.open_session(platform.db, answer["access_token"], principal,
                                                 expires_at)
        response: Response[Any] = Redirect(home_of(principal), status_code=303)
        sessions.set_session_cookie(response, session_id, expires_at,
                                    visitor.settings.secure_cookies)
        return response

    @post("/logout", status_code=303)
    async def sign_out(self, visitor: Visitor, platform: Platform) -> Redirect:
        await sessions.close_session(platform.db, visitor.session_id)
        response = Redirect("/login", status_code=303)
        sessions.clear_session_cookie(response, visitor.settings.secure_cookies)
        return response

    @post("/language", status_code=303)
    async def choose_language(self, request: Request[Any, Any, Any],
                              visitor: Visitor) -> Redirect:
        values = await form_of(request)
        back = local_path(values.get("next"))
        response = Redirect(back, status_code=303)
        if values.get("language") in i18n.LANGUAGES:
            sessions.remember_language(response, values["language"],
                                       visitor.settings.secure_cookies)
        return response

    @get("/signup")
    async def signup_form(self, request: Request[Any, Any, Any], visitor: Visitor) -> Template:
        return page(request, "auth/signup.html", visitor=visitor, errors={},
                    values={"country": "BE", "branch": "BE"}, kinds=ACTIVITY_KINDS)

    @post("/signup", status_code=200)
    async def sign_up(self, request: Request[Any, Any, Any], visitor: Visitor) -> Template:
        values = await form_of(request)
        errors = required(values, *SIGNUP_FIELDS)
        if values.get("branch") not in ("BE", "FR"):
            errors["branch"] = _("Choose your branch")
        if not errors:
            try:
                member = await visitor.services.acting_as(None).post("members", "/v1/members", {
                    "branch": values["branch"], "first_name": values["first_name"],
                    "last_name": values["last_name"], "email": values["email"],
                    "birth_date": values["birth_date"], "national_id": values["national_id"],
                    "address": {"street": values["street"],
                                "postal_code": values["postal_code"],
                                "city": values["city"], "country": values["country"].upper()},
                    "iban": values["iban"],
                    "activities": [{"name": values["activity_name"],
                                    "kind": values["activity_kind"]}],
                })
                return page(request, "auth/signed_up.html", visitor=visitor, member=member)
            except Refused as refused:
                errors = {SIGNUP_API_FIELDS.get(name, name): message for name, message in
                          field_errors(refused, None).items()}
                errors = {name if name in SIGNUP_FIELDS or name == "branch" else "": message
                          for name, message in errors.items()}
        return page(request, "auth/signup.html", status_code=400, visitor=visitor,
                    errors=errors, values=values, kinds=ACTIVITY_KINDS)
