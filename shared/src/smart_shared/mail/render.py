"""Mail templates in French, Dutch and English: Jinja2 with autoescaped HTML and a plain-text
part, dates and amounts formatted for the recipient's locale with Babel.

A mail ``name`` has a template per language under ``templates/<language>/``: ``name.txt`` with
the blocks ``subject`` and ``text``. Its HTML part is ``name.html`` (extends ``_layout.html``)
where one exists, else the plain text set as escaped paragraphs with its links made clickable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, get_args
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime
from babel.numbers import format_currency
from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateNotFound,
    select_autoescape,
)
from markupsafe import Markup, escape
from pydantic import BaseModel, ConfigDict

from smart_shared.events.catalogue import Language
from smart_shared.rulepacks import Sourced, UnknownRulePack, rule_pack

TEMPLATES = Path(__file__).parent / "templates"
URL = re.compile(r"https?://[^\s<>\"]+")
LANGUAGES: tuple[Language, ...] = get_args(Language)


class MailRules(BaseModel):
    """The ``mail`` section of a branch's rule pack."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    default_language: Sourced[Language]
    time_zone: Sourced[str]


def mail_rules(branch: str, on: date) -> MailRules:
    return rule_pack(branch, on).section("mail", MailRules)


def default_language(branch: str, on: date) -> Language:
    """The language of a mail whose recipient chose none: the branch's."""
    return mail_rules(branch, on).default_language.value


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


@cache
def _locale(language: str, branch: str | None) -> Locale:
    if branch:
        try:
            return Locale.parse(f"{language}_{branch}")
        except (UnknownLocaleError, ValueError):
            pass
    return Locale.parse(language)


@cache  # an overlay has its own template cache: a new one per mail compiled every template
def _environment(locale: Locale, zone: ZoneInfo) -> Environment:
    env = _base_environment().overlay()

    def money(value: Any) -> str:
        if isinstance(value, dict):
            return str(format_currency(Decimal(value["amount"]), value["currency"],
                                       locale=locale))
        return str(format_currency(Decimal(value), "EUR", locale=locale))

    def day(value: Any) -> str:
        parsed = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
        return str(format_date(parsed, format="long", locale=locale))

    def moment(value: Any) -> str:
        parsed = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        return str(format_datetime(parsed.astimezone(zone), format="medium", locale=locale))

    # an overlay shares its base's filters dict: this one's own, so each keeps its locale
    env.filters = {**env.filters, "money": money, "day": day, "moment": moment}
    return env


def linkify(line: str) -> Markup:
    """One line of text as HTML: escaped, its web addresses as links."""
    escaped = str(escape(line))
    return Markup(URL.sub(lambda m: f'<a href="{m[0]}">{m[0]}</a>', escaped))


@cache
def _base_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        # HTML is escaped; the plain-text part is not HTML, so escaping would garble it
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,  # the templates ship with the code: no stat of each file per mail
    )
    env.filters["linkify"] = linkify
    return env


def render(template: str, language: Language, data: dict[str, Any], branch: str | None = None,
           on: date | None = None) -> Rendered:
    """The subject, plain text and HTML of mail ``template`` in ``language`` with ``data``."""
    if language not in LANGUAGES:
        raise ValueError(f"no mail templates in {language!r}")
    try:
        zone = ZoneInfo(mail_rules(branch, on or date.today()).time_zone.value
                        if branch else "UTC")
    except UnknownRulePack:
        zone = ZoneInfo("UTC")
    env = _environment(_locale(language, branch), zone)
    context = {**data, "language": language}
    text = env.get_template(f"{language}/{template}.txt")
    text_context = text.new_context(context)
    subject = "".join(text.blocks["subject"](text_context)).strip()
    body = "".join(text.blocks["text"](text_context)).strip() + "\n"
    try:
        html = env.get_template(f"{language}/{template}.html").render(**context, subject=subject)
    except TemplateNotFound:
        paragraphs = [part.splitlines() for part in body.split("\n\n") if part.strip()]
        html = env.get_template("_text.html").render(language=language, subject=subject,
                                                    paragraphs=paragraphs)
    return Rendered(subject=subject, text=body, html=html)
