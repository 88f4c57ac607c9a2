"""Reminder letters in the client's language, and payment plans."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from collection.domain import (
    Claim,
    Instalment,
    LetterFacts,
    first_unkept,
    missed_instalment,
    plan_errors,
    render_letter,
)

FACTS = LetterFacts("Atelier Lumière", "BE-2026-000042", date(2026, 3, 2),
                    Claim(Decimal("1234.50"), Decimal("10.07"), Decimal("40.00")))


def test_a_formal_notice_in_french() -> None:
    text = render_letter("formal_notice", "fr", FACTS)
    assert text.startswith("Mise en demeure")
    assert "BE-2026-000042" in text and "2 mars 2026" in text
    assert "1\u202f234,50\xa0€" in text and "Total réclamé: 1\u202f284,57\xa0€" in text


def test_a_formal_notice_in_dutch() -> None:
    text = render_letter("formal_notice", "nl", FACTS)
    assert text.startswith("Ingebrekestelling")
    assert "Verwijlintresten: €\xa010,07" in text and "€\xa01.284,57" in text
    assert "2 maart 2026" in text


def test_a_free_reminder_in_english_claims_no_cost_and_says_so() -> None:
    facts = LetterFacts("Jo", "BE-2026-000042", date(2026, 3, 2),
                        Claim(Decimal("99.00"), Decimal("0.00"), Decimal("0.00")),
                        kind="consumer", free=True)
    text = render_letter("reminder_1", "en", facts)
    assert text.startswith("Payment reminder") and "free of charge" in text
    assert "Late interest: 0,00\xa0€" in text and "Compensation: 0,00\xa0€" in text
    assert "Total claimed: 99,00\xa0€" in text


def test_a_french_branch_letter_is_in_french_whatever_the_clients_language() -> None:
    facts = LetterFacts("Jo", "FR-2026-000042", date(2026, 3, 2),
                        Claim(Decimal("99.00"), Decimal("0.00"), Decimal("0.00")), branch="FR")
    assert render_letter("reminder_1", "en", facts).startswith("Rappel de paiement")


PLAN = [Instalment(date(2026, 4, 1), Decimal("300.00")),
        Instalment(date(2026, 5, 1), Decimal("700.00"))]


def test_a_plan_must_add_up_to_the_outstanding() -> None:
    assert plan_errors(PLAN, Decimal("1000.00"), date(2026, 3, 15)) == []
    errors = plan_errors(PLAN, Decimal("999.99"), date(2026, 3, 15))
    assert [field for field, _ in errors] == ["instalments"]


def test_plan_dates_must_be_in_the_future_and_in_order() -> None:
    late = [Instalment(date(2026, 5, 1), Decimal("500.00")),
            Instalment(date(2026, 4, 1), Decimal("500.00"))]
    fields = [field for field, _ in plan_errors(late, Decimal("1000.00"), date(2026, 4, 15))]
    assert fields == ["instalments[1].due_on", "instalments[1].due_on"]
    assert plan_errors([], Decimal("1.00"), date(2026, 1, 1))[0][0] == "instalments"


def test_a_plan_starting_today_or_ending_beyond_three_years_is_refused() -> None:
    today = date(2026, 3, 15)
    starting_today = [Instalment(today, Decimal("1000.00"))]
    assert plan_errors(starting_today, Decimal("1000.00"), today) == [
        ("instalments[0].due_on", "must be after today")]
    endless = [Instalment(date(2026, 4, 1), Decimal("500.00")),
               Instalment(date(2029, 3, 16), Decimal("500.00"))]
    assert plan_errors(endless, Decimal("1000.00"), today) == [
        ("instalments[1].due_on", "must be on or before 2029-03-15: a plan runs at most three "
         "years")]
    three_years = [Instalment(date(2029, 3, 15), Decimal("1000.00"))]
    assert plan_errors(three_years, Decimal("1000.00"), today) == []


def test_an_instalment_is_missed_the_day_after_its_date_when_underpaid() -> None:
    assert missed_instalment(PLAN, Decimal("0.00"), date(2026, 4, 1)) is None
    assert missed_instalment(PLAN, Decimal("299.99"), date(2026, 4, 2)) == PLAN[0]
    assert missed_instalment(PLAN, Decimal("300.00"), date(2026, 4, 2)) is None
    assert missed_instalment(PLAN, Decimal("300.00"), date(2026, 5, 2)) == PLAN[1]
    assert first_unkept(PLAN, Decimal("1000.00")) is None
