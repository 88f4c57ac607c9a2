"""The letters' deadlines and mandatory mentions, each pinned to the text that requires it, read
back from the PDF as a client would."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from collection.documents import letter_pdf
from collection.domain import Claim, collection_rules, compose_letter, pay_by
from collection.domain.rules import CollectionRules, DebtorRules
from collection.dunning import letter_facts
from pypdf import PdfReader

BE = collection_rules("BE", date(2026, 1, 1))
FR = collection_rules("FR", date(2026, 1, 1))
MONDAY = date(2026, 3, 9)
FRIDAY = date(2026, 3, 13)


def case(kind: str = "consumer", branch: str = "BE", language: str = "fr") -> dict[str, object]:
    return {"_id": "case-1", "branch": branch, "member_id": "m-1",
            "invoice_number": f"{branch}-2026-000042", "issue_date": "2026-01-31",
            "due_date": "2026-03-02", "description": "Concert du 20 janvier 2026",
            "client": {"name": "Jo Peeters", "kind": kind, "language": language,
                       "email": "jo@example.be",
                       "address": "Rue Haute 1, 1000 Bruxelles, BE"}}


def text_of(pdf: bytes) -> str:
    # one plain space between words, whatever Babel's spaces or the justified lines' gaps
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return " ".join(text.replace("\u202f", " ").replace("\xa0", " ").split())


def printed(level: str, kind: str, branch: str, language: str, sent_on: date = MONDAY,
            outstanding: str = "1000.00") -> str:
    rules = collection_rules(branch, sent_on).for_debtor(kind)  # type: ignore[arg-type]
    claim = Claim(Decimal(outstanding), Decimal("0.00"), Decimal("0.00"))
    facts = letter_facts(case(kind, branch, language), level, claim, sent_on, "email", rules)
    letter = compose_letter(level, language, facts)  # type: ignore[arg-type]
    return text_of(letter_pdf(letter, "SMart", datetime(2026, 3, 9, tzinfo=UTC)))


def test_art_xix_2_an_emailed_free_reminder_gives_14_calendar_days_from_the_next_day() -> None:
    assert pay_by("reminder_1", MONDAY, "email", BE.consumer) == MONDAY + timedelta(days=14)
    assert pay_by("reminder_1", FRIDAY, "email", BE.consumer) == date(2026, 3, 27)


def test_art_xix_2_a_posted_free_reminder_gives_14_days_from_the_third_working_day() -> None:
    # posted Friday 13 March: third working day Wednesday 18 March, last day Tuesday 31 March
    assert pay_by("reminder_1", FRIDAY, "post", BE.consumer) == date(2026, 3, 31)


def test_art_xix_2_the_pack_waits_for_the_free_term_before_the_first_cost() -> None:
    rules = BE.consumer
    assert rules.cost_free_days is not None and rules.cost_free_days.value == 14
    assert rules.term_starts is not None
    last_day = (rules.schedule.day_of("reminder_1") + rules.term_starts.email_calendar_days.value
                + rules.cost_free_days.value - 1)
    assert rules.schedule.day_of(rules.claims_from.value) > last_day
    assert "XIX.2 §1" in rules.cost_free_days.source


def test_art_xix_2_a_pack_claiming_costs_inside_the_free_term_is_refused() -> None:
    raw = BE.model_dump(mode="json")
    raw["consumer"]["schedule"]["reminder_2"]["value"] = 21
    with pytest.raises(ValueError, match="term ends"):
        CollectionRules.model_validate(raw)


def test_other_letters_give_the_packs_days_from_the_day_they_are_sent() -> None:
    assert pay_by("reminder_1", MONDAY, "email", BE.business) == MONDAY + timedelta(days=8)
    assert pay_by("formal_notice", MONDAY, "email", BE.consumer) == MONDAY + timedelta(days=8)
    assert pay_by("legal_handover", MONDAY, "email", BE.business) is None
    assert pay_by("reminder_1", MONDAY, "email", FR.consumer) == MONDAY + timedelta(days=8)


@pytest.mark.parametrize("rules", [BE.business, BE.consumer, FR.business, FR.consumer],
                         ids=["BE business", "BE consumer", "FR business", "FR consumer"])
def test_every_mandatory_mention_has_its_source_in_the_pack(rules: DebtorRules) -> None:
    assert set(rules.mentions) == {"creditor", "debt", "amounts", "consequences", "deadline"}
    assert all(len(mention.source) > 20 for mention in rules.mentions.values())


def test_art_xix_2_the_free_reminder_in_french_carries_every_mandatory_mention() -> None:
    text = printed("reminder_1", "consumer", "BE", "fr")
    # 2°: the creditor's name and enterprise number (with its address and legal form)
    assert "SMart SCE" in text and "0896.755.397" in text and "Rue Coenraets 72" in text
    # 3°: the debt's origin: the invoice, its date, what was invoiced, the day it fell due
    assert "BE-2026-000042" in text and "31 janvier 2026" in text and "2 mars 2026" in text
    assert "Concert du 20 janvier 2026" in text
    # 1°: the amount still due, each part apart
    assert "Principal restant dû" in text and "1 000,00 €" in text
    assert "Indemnité" in text and "Intérêts de retard" in text
    # 1° and art. XIX.4 §2: damages if not paid in time (€65 + 5 % of €500) and the rate
    assert "gratuit" in text and "90,00 €" in text and "4,5 %" in text
    # 4°: the last day to pay, 14 calendar days from the day after the e-mail
    assert "23 mars 2026" in text


def test_art_xix_2_the_free_reminder_in_dutch_carries_every_mandatory_mention() -> None:
    text = printed("reminder_1", "consumer", "BE", "nl")
    assert "SMart SCE" in text and "Ondernemingsnummer 0896.755.397" in text
    assert "Factuur BE-2026-000042 van 31 januari 2026, vervallen op 2 maart 2026" in text
    assert "Concert du 20 janvier 2026" in text
    assert "Openstaande hoofdsom" in text and "€ 1.000,00" in text
    assert "Vergoeding" in text and "Verwijlintresten" in text
    assert "kosteloos" in text and "€ 90,00" in text and "4,5 %" in text
    assert "Uiterste betaaldatum: 23 maart 2026" in text


def test_law_of_2_august_2002_a_business_reminder_names_the_compensation_and_rate() -> None:
    text = printed("reminder_1", "business", "BE", "nl")
    assert "€ 40,00" in text and "10,5 %" in text
    assert "17 maart 2026" in text  # 8 days after Monday 9 March


def test_art_l441_10_a_french_business_reminder_states_penalties_and_the_40_euro_fee() -> None:
    text = printed("reminder_1", "business", "FR", "en")
    assert "L441-10" in text and "12,15 %" in text and "40,00 €" in text
    assert "SMart France" in text and "SIREN 808 451 561" in text
    assert "Rappel de paiement" in text  # French in France whatever the client's language


def test_the_formal_notice_keeps_its_mentions_and_prints_its_deadline() -> None:
    text = printed("formal_notice", "business", "BE", "fr")
    assert "mettons en demeure" in text and "17 mars 2026" in text
    assert "0896.755.397" in text


def test_a_letters_pdf_is_the_same_bytes_when_printed_twice() -> None:
    rules = BE.consumer
    claim = Claim(Decimal("120.00"), Decimal("0.00"), Decimal("0.00"))
    letter = compose_letter("reminder_1", "fr", letter_facts(case(), "reminder_1", claim, MONDAY,
                                                             "email", rules))
    created = datetime(2026, 3, 9, tzinfo=UTC)
    assert letter_pdf(letter, "SMart", created) == letter_pdf(letter, "SMart", created)
