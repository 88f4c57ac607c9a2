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
           "Base des cotisations (108 % du brut)", "Cotisations personnelles",
           "Cotisation patronale de base (19,88 % de", "Cotisation de modération salariale",
           "Cotisation vacances annuelles (trimestrielle)", "Cotisation vacances annuelles "
           "(annuelle)", "Prime d'assurance accidents du travail",
           "Précompte professionnel (11,11 %)", "Salaire brut"],
    "nl": ["Loonbrief", "Ondernemingsnummer 0896.755.397", "Werkgeversnummer sociale zekerheid",
           "Paritair comité 304", "Gewerkte dagen 3", "Adres Rue Haute 12, 1000 Bruxelles, BE",
           "Gestort op rekening BE71096123456769",
           "Bijdragegrondslag (108 % van het brutoloon)", "Werknemersbijdragen (13,07 % van",
           "Basiswerkgeversbijdrage", "Loonmatigingsbijdrage",
           "Bijdrage jaarlijkse vakantie (jaarlijks)", "Bedrijfsvoorheffing (11,11 %)",
           "Brutoloon"],
    "en": ["Payslip", "Enterprise number 0896.755.397", "Social security employer number",
           "Joint committee 304", "Days worked 3", "Paid to account BE71096123456769",
           "Social security base (108 % of gross)",
           "Employee social contributions (13,07 % of", "Basic employer contribution (19,88 % of",
           "Wage moderation contribution", "Holiday pay contribution (quarterly)",
           "Holiday pay contribution (yearly)", "Work-accident insurance premium",
           "Withholding tax (11,11 %)"],
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


def shown(amount: Decimal) -> str:
    return f"{amount:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")


def test_the_payslip_shows_the_108_percent_base_that_explains_the_employee_contributions(
) -> None:
    salary, contract, member = a_salary()
    breakdown = salary["breakdown"]
    assert isinstance(breakdown, dict)
    gross = Decimal(breakdown["gross"]["amount"])
    employee = Decimal(breakdown["employee_contributions"]["amount"])
    text = pdf_text(payslip_pdf(salary, contract, member, "en"))
    base = (gross * Decimal("1.08")).quantize(Decimal("0.01"))
    assert f"Employee social contributions (13,07 % of {shown(base)} €)" in text
    assert employee == (base * Decimal("0.1307")).quantize(Decimal("0.01"))


def test_an_employee_payslip_shows_no_108_percent_base() -> None:
    salary, contract, member = a_salary("other")
    breakdown = salary["breakdown"]
    assert isinstance(breakdown, dict)
    gross = Decimal(breakdown["gross"]["amount"])
    text = pdf_text(payslip_pdf(salary, contract, member, "en"))
    assert "Social security base" not in text
    assert f"Employee social contributions (13,07 % of {shown(gross)} €)" in text
    assert "Holiday pay contribution" not in text
    assert "Withholding tax (progressive scale)" in text


def test_the_payslip_marks_each_estimated_rate_and_says_what_the_mark_means() -> None:
    text = pdf_text(payslip_pdf(*a_salary(), "en"))
    assert "Work-accident insurance premium (1 % of" in text
    assert text.count(" *") >= 3
    assert "* Estimated rate: the rule pack gives its source" in text


def test_a_french_payslip_lists_the_csg_on_98_25_percent_and_the_agirc_arrco_tranche() -> None:
    rules = salary_rules("FR", datetime(2026, 2, 27).date())
    breakdown = compute_salary(rules, Money.of(Decimal("3000.00"), "EUR"), Money.zero(),
                               "other")
    salary, contract, member = a_salary("other")
    salary.update(branch="FR", breakdown=breakdown.model_dump(mode="json"))
    text = pdf_text(payslip_pdf(salary, contract, member, "fr"))
    csg = next(line for line in breakdown.employee_lines if line.name == "csg_deductible")
    assert "CSG déductible (6,8 % de 1 889,95 €)" in text  # 1,923.61 x 98.25 %
    assert csg.base == Money.of("1889.95")
    assert "Retraite complémentaire Agirc-Arrco (tranche 1)" in text
    assert "(tranche 2)" not in text  # nothing above the ceiling: no line of zeros
