"""The payslip, read back as the member reads it."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from payroll.domain.rules import salary_rules
from payroll.domain.salary import compute_salary
from payroll.payslip import payslip_pdf
from smart_shared.money import Money

from tests.documents.reading import pdf_text

WORDS = {
    "fr": ["Fiche de paie", "Numéro d'entreprise 0896.755.397", "Numéro d'employeur à la sécurité "
           "sociale ONSS/RSZ", "Commission paritaire 304",
           "Période 23 février 2026 \u2013 27 février 2026",
           "Jours prestés 3", "Versé sur le compte BE71096123456769", "Camille Dupont-Lambert",
           "Adresse Rue Haute 12, 1000 Bruxelles, BE",
           "Base des cotisations (108 % du brut)", "Cotisations personnelles (13,07 % de la base)",
           "Précompte professionnel (11,11 %)", "Salaire brut"],
    "nl": ["Loonbrief", "Ondernemingsnummer 0896.755.397", "Werkgeversnummer sociale zekerheid",
           "Paritair comité 304", "Gewerkte dagen 3", "Adres Rue Haute 12, 1000 Bruxelles, BE",
           "Gestort op rekening BE71096123456769",
           "Bijdragegrondslag (108 % van het brutoloon)", "Werknemersbijdragen (13,07 % van de "
           "grondslag)", "Bedrijfsvoorheffing (11,11 %)", "Brutoloon"],
    "en": ["Payslip", "Enterprise number 0896.755.397", "Social security employer number",
           "Joint committee 304", "Days worked 3", "Paid to account BE71096123456769",
           "Social security base (108 % of gross)",
           "Employee social contributions (13,07 % of the base)", "Withholding tax (11,11 %)"],
}


def a_salary(kind: str = "artistic") -> tuple[dict[str, object], dict[str, object],
                                              dict[str, object]]:
    rules = salary_rules("BE", datetime(2026, 2, 27).date())
    breakdown = compute_salary(rules, Money.of(Decimal("1000.00"), "EUR"),
                               Money.of(Decimal("50.00"), "EUR"), kind)  # type: ignore[arg-type]
    salary = {"_id": "salary-1", "branch": "BE", "contract_id": "contract-1",
              "member_id": "member-1", "activity_kind": kind, "last_work_day": "2026-02-27",
              "guaranteed": True, "pay_date": "2026-03-10", "status": "due",
              "breakdown": breakdown.model_dump(mode="json"),
              "due_at": datetime(2026, 2, 28, tzinfo=UTC)}
    contract = {"_id": "contract-1", "first_work_day": "2026-02-23",
                "work_days": ["2026-02-23", "2026-02-25", "2026-02-27"],
                "activity": {"name": "musician", "kind": kind, "joint_committee": "304"}}
    member = {"_id": "member-1", "payout": {"iban": "BE71096123456769",
                                            "holder_name": "Camille Dupont"},
              "contact": {"name": "Camille Dupont-Lambert", "email": "camille@example.org",
                          "address": {"street": "Rue Haute 12", "postal_code": "1000",
                                      "city": "Bruxelles", "country": "BE"}}}
    return salary, contract, member


@pytest.mark.parametrize("language", WORDS)
def test_the_payslip_is_in_the_members_language_with_employer_worker_period_and_rates(
    language: str,
) -> None:
    text = pdf_text(payslip_pdf(*a_salary(), language))
    for mention in WORDS[language]:
        assert mention in text, mention


def test_the_payslip_shows_the_108_percent_base_that_explains_the_employee_contributions(
) -> None:
    salary, contract, member = a_salary()
    breakdown = salary["breakdown"]
    assert isinstance(breakdown, dict)
    gross = Decimal(breakdown["gross"]["amount"])
    employee = Decimal(breakdown["employee_contributions"]["amount"])
    text = pdf_text(payslip_pdf(salary, contract, member, "en"))
    base = (gross * Decimal("1.08")).quantize(Decimal("0.01"))
    assert f"{base:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".") in text
    assert employee == (base * Decimal("0.1307")).quantize(Decimal("0.01"))


def test_an_employee_payslip_shows_no_108_percent_base() -> None:
    text = pdf_text(payslip_pdf(*a_salary("other"), "en"))
    assert "Social security base" not in text
    assert "Employee social contributions (13,07 % of gross)" in text
