"""Every text of the pages is translated, and amounts and dates read as each country writes them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from portal import i18n

PORTAL = Path(i18n.__file__).parent
METHODS = [("**/templates/**.html", "jinja2.ext:babel_extract"), ("**.py", "python")]
OPTIONS = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}


def texts_of_the_pages() -> set[str]:
    found = extract_from_dir(str(PORTAL), METHODS, options_map=OPTIONS)
    return {message if isinstance(message, str) else message[0]
            for _, _, message, _, _ in found}


@pytest.mark.parametrize("language", ["fr", "nl"])
def test_every_text_of_the_pages_is_translated(language: str) -> None:
    texts = texts_of_the_pages()
    assert len(texts) > 100
    missing = sorted(texts - set(i18n.catalogue(language)))
    assert missing == []


@pytest.mark.parametrize("language", ["fr", "nl"])
def test_a_translation_keeps_the_placeholders_of_its_text(language: str) -> None:
    for text, translated in i18n.catalogue(language).items():
        placeholders = {part.split(")")[0] for part in text.split("%(")[1:]}
        assert placeholders == {part.split(")")[0] for part in translated.split("%(")[1:]}, text


@pytest.mark.parametrize(("language", "branch", "amount", "day"), [
    ("fr", "BE", "1\u202f210,50\xa0€", "14 mars 2026"),
    ("nl", "BE", "€\xa01.210,50", "14 maart 2026"),
    ("en", "BE", "1.210,50\xa0€", "14 March 2026"),  # CLDR: Belgian English writes euros so
    ("fr", "FR", "1\u202f210,50\xa0€", "14 mars 2026"),
])
def test_amounts_and_dates_follow_the_readers_language_and_country(
        language: str, branch: str, amount: str, day: str) -> None:
    i18n.read_in(i18n.Reading(language, branch))
    assert i18n.money(Decimal("1210.50")) == amount
    assert i18n.day(date(2026, 3, 14)) == day


@pytest.mark.parametrize(("language", "branch", "rate"), [
    ("fr", "BE", "5,12\xa0%"), ("nl", "BE", "5,12%"), ("en", "BE", "5,12%"),
    ("fr", "FR", "5,12\xa0%"),
])
def test_a_yearly_rate_reads_to_a_hundredth_of_a_per_cent_as_each_country_writes_it(
        language: str, branch: str, rate: str) -> None:
    i18n.read_in(i18n.Reading(language, branch))
    assert i18n.percent("0.051163") == rate
    assert i18n.percent(Decimal("0.05")).startswith("5")
    assert i18n.percent(None) == ""


@pytest.mark.parametrize(("header", "language"), [
    ("nl-BE,nl;q=0.9,fr;q=0.8", "nl"), ("de-DE,fr;q=0.5,nl;q=0.7", "nl"),
    ("fr-FR", "fr"), ("de", "en"), ("", "en"), ("nl;q=bad,fr", "fr"),
])
def test_the_browsers_first_known_language_is_chosen(header: str, language: str) -> None:
    assert i18n.best_language(header) == language
