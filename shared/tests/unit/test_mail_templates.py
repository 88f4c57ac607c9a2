"""Mail templates: every mail in French, Dutch and English, HTML escaped, formats per locale."""

from __future__ import annotations

import pytest
from smart_shared.mail import LANGUAGES, render
from smart_shared.mail.render import TEMPLATES, default_language

MAILS = sorted({path.stem for path in (TEMPLATES / "en").glob("*.txt")})


def test_every_mail_exists_in_french_dutch_and_english() -> None:
    for language in LANGUAGES:
        assert sorted(p.stem for p in (TEMPLATES / language).glob("*.txt")) == MAILS


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_html_part_escapes_what_people_typed(language: str) -> None:
    mail = render("login_link", language,  # type: ignore[arg-type]
                  {"name": "<script>x</script>", "minutes": 15, "link": "http://p/login/t"}, "BE")
    assert "<script>" not in mail.html and "&lt;script&gt;" in mail.html
    assert "<script>x</script>" in mail.text  # plain text stays as typed
    assert mail.subject and "\n" not in mail.subject


def test_a_branch_without_a_chosen_language_writes_in_its_own() -> None:
    from datetime import date

    assert default_language("BE", date(2026, 3, 1)) == "fr"
    assert default_language("FR", date(2026, 3, 1)) == "fr"



def test_a_template_is_compiled_once_not_for_every_mail(monkeypatch: pytest.MonkeyPatch) -> None:
    from jinja2 import Environment

    data = {"name": "Ada", "minutes": 15, "link": "http://p/login/t"}
    render("login_link", "nl", data, "BE")  # compiled here, at the latest
    compiled: list[str] = []
    original = Environment.compile

    def counting(self: Environment, source: str, name: str | None = None,
                 *args: object, **kwargs: object) -> object:
        compiled.append(name or "?")
        return original(self, source, name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Environment, "compile", counting)
    for _ in range(3):
        render("login_link", "nl", data, "BE")
    assert compiled == []


def test_each_language_keeps_its_own_dates_whatever_was_rendered_before() -> None:
    from datetime import date
    from zoneinfo import ZoneInfo

    from smart_shared.mail.render import _environment, _locale

    zone = ZoneInfo("Europe/Brussels")
    dutch = _environment(_locale("nl", "BE"), zone)
    french = _environment(_locale("fr", "BE"), zone)
    assert dutch.filters["day"](date(2026, 12, 2)) == "2 december 2026"
    assert french.filters["day"](date(2026, 12, 2)) == "2 décembre 2026"
