"""Languages of the portal: gettext catalogues (.po, read with Babel) and Babel formats.

Pages are written in English message ids; ``fr`` and ``nl`` translate them. Amounts and dates
follow the reader's language in the branch's country (``fr_BE``, ``nl_BE``, ``en_BE``,
``fr_FR``).
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import cache, lru_cache
from pathlib import Path

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_percent

LANGUAGES = ("fr", "nl", "en")
LANGUAGE_NAMES = {"fr": "Français", "nl": "Nederlands", "en": "English"}
LOCALES = {("fr", "BE"): "fr_BE", ("nl", "BE"): "nl_BE", ("en", "BE"): "en_BE",
           ("fr", "FR"): "fr_FR"}
CATALOGUES = Path(__file__).parent / "locales"


@dataclass
class Reading:
    """Who reads the page: their language and the country whose formats they see."""

    language: str = "en"
    branch: str = "BE"

    @property
    def locale(self) -> str:
        return LOCALES.get((self.language, self.branch), f"{self.language}_BE")


_reading: ContextVar[Reading | None] = ContextVar("reading", default=None)


def read_in(reading: Reading) -> None:
    """Render the rest of this request for ``reading``."""
    _reading.set(reading)


def current() -> Reading:
    """The reading of this request (English in Belgium outside one); a page may set its
    branch once it knows whose it is."""
    reading = _reading.get()
    if reading is None:
        reading = Reading()
        _reading.set(reading)
    return reading


@cache
def catalogue(language: str) -> dict[str, str]:
    """The translations of one language (message id → text); empty for English."""
    path = CATALOGUES / language / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return {}
    with path.open("rb") as po:
        messages = read_po(po, locale=language)
    return {str(m.id): str(m.string) for m in messages if m.id and m.string and not m.fuzzy}


def gettext(message: str) -> str:
    return catalogue(current().language).get(message, message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return gettext(singular if n == 1 else plural)


def best_language(accept_language: str | None) -> str:
    """The first of the browser's languages the portal speaks (Accept-Language, by weight)."""
    wanted: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, parameters = part.strip().partition(";")
        weight = 1.0
        if parameters.strip().startswith("q="):
            try:
                weight = float(parameters.strip()[2:])
            except ValueError:
                weight = 0.0
        wanted.append((-weight, position, tag.strip().lower()[:2]))
    for _, _, language in sorted(wanted):
        if language in LANGUAGES:
            return language
    return "en"


def money(amount: Decimal | str | None, currency: str = "EUR") -> str:
    """An amount as the reader writes it: ``1.210,00 €`` in fr_BE, ``€ 1.210,00`` in nl_BE."""
    if amount is None or amount == "":
        return ""
    return _money(str(amount), currency, current().locale)


# pages show the same few amounts and days again and again; Babel parses its patterns each time
@lru_cache(maxsize=4096)
def _money(amount: str, currency: str, locale: str) -> str:
    return format_currency(Decimal(amount), currency, locale=locale)


def percent(rate: Decimal | str | None) -> str:
    """A yearly rate (``0.0512``) as the reader writes it, to a hundredth of a per cent:
    ``5,12\u00a0%`` in fr_BE, ``5,12%`` in nl_BE."""
    if rate is None or rate == "":
        return ""
    exact = Decimal(str(rate)).quantize(Decimal("0.0001"), ROUND_HALF_UP)
    return format_percent(exact, locale=current().locale, decimal_quantization=False)


def day(value: date | str | None) -> str:
    if not value:
        return ""
    when = date.fromisoformat(value[:10]) if isinstance(value, str) else value
    return _day(when, current().locale)


@lru_cache(maxsize=4096)
def _day(when: date, locale: str) -> str:
    return format_date(when, format="long", locale=locale)


def moment(value: datetime | str | None) -> str:
    if not value:
        return ""
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    return format_datetime(when, format="medium", locale=current().locale)


def language_name(language: str) -> str:
    return Locale.parse(language).get_display_name(language) or language
