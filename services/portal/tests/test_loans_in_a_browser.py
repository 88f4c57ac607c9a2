"""Loans in a browser: a member active for half a year, with a contract invoiced, applies for a
microcredit in French (the fund's refusal of a field shown at that field); staff, in Dutch,
see the application in their queue with the member's eligibility, approve it, make the
disbursement file, download its pain.001 and confirm it; the member sees the loan active with
its schedule, then the first instalment withheld from their next salary, with its payslip."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, expect
from smart_shared.auth import mint_token
from smart_shared.settings import Settings

from services.portal.tests.conftest import Portal, run, screenshot
from tests.demo.scenario import (
    belgian_national_number,
    belgian_vat_number,
    move_clock_to,
    platform_today,
)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]
EVENTUAL = 60  # s: an event travels through Kafka to the service that acts on it


def today(portal: Portal) -> date:
    return run(platform_today(portal.platform))


def move_to(portal: Portal, day: date) -> None:
    run(move_clock_to(portal.platform, day))


def api(portal: Portal, method: str, service: str, path: str, token: str | None = None,
        headers: dict[str, str] | None = None, **kwargs: Any) -> Any:
    headers = dict(headers or {})
    if token:
        headers["Authorization"] = f"Bearer {token}"
    response = httpx.request(method, f"{portal.platform.urls[service]}{path}", headers=headers,
                             timeout=30, **kwargs)
    assert response.status_code < 300, response.text
    return response.json()


def until(check: Callable[[], Any], what: str, timeout: float = EVENTUAL) -> Any:
    """``check()`` once it answers something true (the platform acts on events in its time)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"{what}: not within {timeout}s")


class Story:
    """What the pages did so far, for the next step."""

    def __init__(self) -> None:
        tag = uuid.uuid4().hex[:8]
        self.member_email = f"amelie.{tag}@example.be"
        self.staff_email = f"lotte.{tag}@smart.example.be"

    member_id: str
    member_token: str
    later_contract_id: str
    loan_id: str


@pytest.fixture(scope="module")
def story() -> Story:
    return Story()


@pytest.fixture(scope="module")
def member_browser(portal: Portal, browser: Browser, story: Story,
                   ) -> Iterator[BrowserContext]:
    context = browser.new_context(locale="fr-BE")
    yield context
    context.close()


@pytest.fixture(scope="module")
def staff_browser(portal: Portal, browser: Browser, story: Story,
                  ) -> Iterator[BrowserContext]:
    """A staff member of BE who reads Dutch, signed in by the link mailed to them."""
    portal.add_staff(story.staff_email, "Lotte Claes", "BE", "nl")
    context = browser.new_context(locale="nl-BE")
    portal.log_in(context.new_page(), story.staff_email, "BE")
    yield context
    context.close()


def contract_for(portal: Portal, story: Story, first_day: date, amount: str) -> str:
    """A contract of the member for a Belgian business, drafted, sent and signed by its
    client through the signing link (the saga's browser test covers those pages)."""
    body = {"activity": "musicienne", "description": "Concerts de la saison",
            "work_days": [first_day.isoformat(), (first_day + timedelta(days=1)).isoformat()],
            "amount_excl_vat": {"amount": amount, "currency": "EUR"},
            "expenses": {"amount": "0.00", "currency": "EUR"},
            "client": {"name": "Brasserie du Parc SRL", "kind": "business", "country": "BE",
                       "vat_number": belgian_vat_number(random.Random()),
                       "email": f"admin.{uuid.uuid4().hex[:8]}@brasserieduparc.example.be",
                       "language": "fr",
                       "address": {"street": "Place Flagey 18", "postal_code": "1050",
                                   "city": "Ixelles", "country": "BE"}}}

    def drafted() -> Any:
        # contracts learns of the activation from members' events: 409 until it has
        response = httpx.post(f"{portal.platform.urls['contracts']}/v1/contracts", json=body,
                              headers={"Authorization": f"Bearer {story.member_token}"},
                              timeout=30)
        assert response.status_code in (201, 409), response.text
        return response.json() if response.status_code == 201 else None

    contract = until(drafted, "the contract drafted")
    submitted = api(portal, "POST", "contracts",
                    f"/v1/contracts/{contract['contract_id']}/submit", story.member_token)
    signed = api(portal, "POST", "contracts", submitted["signing_path"])
    assert signed["status"] == "signed"
    return str(contract["contract_id"])


def test_a_member_active_for_half_a_year_has_a_contract_invoiced(
        portal: Portal, story: Story) -> None:
    staff = portal.staff_token("BE")
    number, born = belgian_national_number(random.Random())
    member = api(portal, "POST", "members", "/v1/members", json={
        "branch": "BE", "first_name": "Amélie", "last_name": "Dubois",
        "email": story.member_email, "birth_date": born.isoformat(), "national_id": number,
        "address": {"street": "Rue Haute 12", "postal_code": "1000", "city": "Bruxelles",
                    "country": "BE"},
        "iban": "BE62510007547061",
        "activities": [{"name": "musicienne", "kind": "artistic", "joint_committee": "304"}]})
    story.member_id = member["member_id"]
    story.member_token = mint_token(Settings(), "member", "BE", story.member_id)
    share = api(portal, "POST", "members", f"/v1/members/{story.member_id}/shares",
                story.member_token, json={"count": 1})
    api(portal, "POST", "members", f"/v1/members/{story.member_id}/shares/{share['share_id']}"
        "/payment", staff, json={"amount": share["total"]},
        headers={"Idempotency-Key": f"share-{story.member_id}"})
    move_to(portal, today(portal) + timedelta(days=190))  # the pack wants six months active
    start = today(portal) + timedelta(days=3)
    contract_id = contract_for(portal, story, start, "3500.00")
    # a second contract, whose salary comes after the loan's first instalment falls due
    story.later_contract_id = contract_for(portal, story, start + timedelta(days=40), "3000.00")
    move_to(portal, start + timedelta(days=2))
    until(lambda: api(portal, "GET", "billing", "/v1/invoices", staff,
                      params={"contract_id": contract_id})["items"], "the invoice issued")


def test_the_member_applies_for_a_microcredit_in_french_and_a_refused_field_shows_at_its_place(
        portal: Portal, member_browser: BrowserContext, story: Story, accessible: Any) -> None:
    page = member_browser.new_page()
    portal.log_in(page, story.member_email, "BE")
    page.goto(f"{portal.url}/dashboard")
    page.get_by_role("link", name="Vos prêts et leasings").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Prêts et leasings")
    expect(page.locator("main")).to_contain_text("Pas encore de prêt.")
    accessible(page)
    page.get_by_role("link", name="Demander un microcrédit").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Demander un microcrédit")
    accessible(page)
    page.get_by_role("link", name="Prendre plutôt un équipement en leasing").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Demander un leasing")
    accessible(page)
    page.get_by_role("link", name="Emprunter plutôt de l'argent (microcrédit)").click()
    page.get_by_role("button", name="Envoyer ma demande").click()
    expect(page.locator("#amount-error")).to_contain_text("Remplissez ce champ")
    page.get_by_label("Montant à emprunter (EUR)").fill("3000")
    page.get_by_label("À quoi il servira").fill("Un nouvel instrument")
    page.get_by_label("Durée en mois").fill("0")  # the fund's own check refuses it
    page.get_by_role("button", name="Envoyer ma demande").click()
    expect(page.get_by_role("alert")).to_contain_text("Il y a un problème")
    expect(page.locator("#months-error")).to_be_visible()
    expect(page.locator("#months")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("À quoi il servira")).to_have_value("Un nouvel instrument")
    accessible(page)
    assert api(portal, "GET", "fund", "/v1/loans", story.member_token)["items"] == []
    page.get_by_label("Durée en mois").fill("12")
    page.get_by_role("button", name="Envoyer ma demande").click()
    expect(page.locator(".loan-status")).to_have_text("Demande en attente de décision")
    story.loan_id = page.url.rsplit("/", 1)[1]
    accessible(page)


def test_a_lease_without_a_valid_supplier_account_is_refused_at_that_field_with_javascript_off(
        portal: Portal, browser: Browser, story: Story) -> None:
    plain = browser.new_context(locale="fr-BE", java_script_enabled=False)
    try:
        page = plain.new_page()
        portal.log_in(page, story.member_email, "BE")
        page.goto(f"{portal.url}/loans/new?financing=leasing")
        page.get_by_label("Équipement", exact=True).fill("Piano numérique")
        page.get_by_label("Prix de l'équipement (EUR)").fill("2400,00")
        page.get_by_label("Fournisseur", exact=True).fill("Music Center SA")
        page.get_by_label("Compte du fournisseur (IBAN)").fill("BE00 1234 5678 9012")
        page.get_by_label("Valeur résiduelle (EUR)").fill("240")
        page.get_by_label("À quoi il servira").fill("Répétitions et concerts")
        page.get_by_label("Durée en mois").fill("24")
        page.get_by_role("button", name="Envoyer ma demande").click()
        expect(page.locator("#supplier_iban-error")).to_contain_text("IBAN")
        expect(page.get_by_label("Prix de l'équipement (EUR)")).to_have_value("2400,00")
        expect(page.get_by_role("alert")).to_contain_text("Il y a un problème")
    finally:
        plain.close()
    assert [loan["loan_id"] for loan in api(portal, "GET", "fund", "/v1/loans",
                                            story.member_token)["items"]] == [story.loan_id]


def test_staff_approve_the_application_from_their_queue_in_dutch(
        portal: Portal, staff_browser: BrowserContext, story: Story, accessible: Any) -> None:
    page = staff_browser.new_page()
    page.goto(f"{portal.url}/staff")
    page.get_by_role("link", name="Leningen", exact=True).click()
    expect(page.get_by_role("heading", level=2)).to_contain_text("Te beslissen aanvragen")
    row = page.locator("table.loans tr", has_text="Amélie Dubois")
    expect(row).to_contain_text("€\xa03.000,00")
    expect(row).to_contain_text("12 maanden")
    accessible(page)
    screenshot(page, "staff-loan-queue")
    row.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Microkrediet: Amélie Dubois")
    accessible(page)
    page.get_by_label("Weigeren").check()
    page.get_by_role("button", name="De beslissing boeken").click()
    expect(page.locator("#reason-error")).to_contain_text("Zeg waarom de aanvraag")
    expect(page.get_by_role("alert")).to_contain_text("Er is een probleem")
    accessible(page)
    page.get_by_label("Goedkeuren").check()
    page.get_by_role("button", name="De beslissing boeken").click()
    expect(page.locator(".loan-status")).to_have_text("Goedgekeurd: uit te betalen")
    expect(page.locator("table.schedule tbody tr")).to_have_count(12)
    expect(page.locator("dl.loan-facts")).to_contain_text("5%")  # the BE pack's 5 % a year
    accessible(page)


def test_staff_make_the_disbursement_file_download_it_and_confirm_it(
        portal: Portal, staff_browser: BrowserContext, story: Story, accessible: Any) -> None:
    page = staff_browser.new_page()
    page.goto(f"{portal.url}/staff/loans")
    page.get_by_role("link", name="De goedgekeurde leningen uitbetalen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Uitbetalingsbestanden")
    expect(page.locator("main")).to_contain_text("Un nouvel instrument")
    accessible(page)
    page.get_by_role("button", name="Het uitbetalingsbestand maken").click()
    expect(page.locator(".disbursement-status")).to_have_text("Open: wacht op de bank")
    expect(page.locator("main table")).to_contain_text("Amélie Dubois")
    accessible(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="Het SEPA-bestand downloaden (pain.001)").click()
    content = download.value.path().read_bytes()
    assert b"pain.001.001.09" in content and b"BE62510007547061" in content
    page.get_by_role("button", name="De bank voerde het uit: bevestigen").click()
    expect(page.locator(".disbursement-status")).to_have_text(
        "Bevestigd: de leningen zijn uitbetaald")
    accessible(page)
    page.get_by_role("link", name="Alle uitbetalingsbestanden").click()
    expect(page.locator("table.disbursement-files")).to_contain_text(
        "Bevestigd: de leningen zijn uitbetaald")
    accessible(page)


def test_the_member_sees_the_loan_active_with_its_schedule_in_french(
        portal: Portal, member_browser: BrowserContext, story: Story, accessible: Any) -> None:
    page = member_browser.new_page()
    page.goto(f"{portal.url}/loans/{story.loan_id}")
    expect(page.locator(".loan-status")).to_have_text("En cours : remboursement en cours")
    rows = page.locator("table.schedule tbody tr")
    expect(rows).to_have_count(12)
    expect(rows.first).to_contain_text("À venir")
    loan = api(portal, "GET", "fund", f"/v1/loans/{story.loan_id}", story.member_token)
    first = loan["schedule"][0]
    expect(rows.first).to_contain_text(f"{first['amount']['amount'].replace('.', ',')}\xa0€")
    expect(page.locator("dl.early-repayment")).to_contain_text("3\u202f000,00\xa0€")
    accessible(page)
    page.goto(f"{portal.url}/loans")
    expect(page.locator(".loan-status")).to_have_text("En cours : remboursement en cours")
    accessible(page)


def test_the_first_instalment_is_withheld_from_the_next_salary_and_names_its_payslip(
        portal: Portal, member_browser: BrowserContext, story: Story, accessible: Any) -> None:
    staff = portal.staff_token("BE")
    loan = api(portal, "GET", "fund", f"/v1/loans/{story.loan_id}", staff)
    first_due = date.fromisoformat(loan["schedule"][0]["due_date"])
    move_to(portal, first_due)
    until(lambda: api(portal, "GET", "fund", f"/v1/loans/{story.loan_id}", staff)
          ["schedule"][0].get("announced"), "the first instalment fallen due")
    page = member_browser.new_page()
    page.goto(f"{portal.url}/loans/{story.loan_id}")
    expect(page.locator("table.schedule tbody tr").first).to_contain_text("À payer")
    contract = api(portal, "GET", "contracts", f"/v1/contracts/{story.later_contract_id}",
                   staff)
    time.sleep(2)  # payroll takes the instalment due from the fund's topic before the salary
    move_to(portal, date.fromisoformat(contract["last_work_day"]) + timedelta(days=1))
    until(lambda: api(portal, "GET", "fund", f"/v1/loans/{story.loan_id}", staff)
          ["schedule"][0].get("withheld_from"), "the first instalment withheld")
    page.reload()
    first = page.locator("table.schedule tbody tr").first
    expect(first).to_contain_text("Retenu sur votre salaire")
    payslip = first.get_by_role("link", name="Fiche de paie du", exact=False)
    answer = page.request.get(f"{portal.url}{payslip.get_attribute('href')}")
    assert answer.headers["content-type"] == "application/pdf", (answer.status, answer.text())
    withheld = api(portal, "GET", "fund", f"/v1/loans/{story.loan_id}", staff)["schedule"][0]
    expect(page.locator("table.withheld")).to_contain_text(
        f"{withheld['paid'].replace('.', ',')}\xa0€")
    accessible(page)
    screenshot(page, "member-loan")
    page.goto(f"{portal.url}/salaries")
    expect(page.locator("main table")).to_contain_text("Retenu pour les prêts")
    accessible(page)
    # the contract whose salary withheld it says so on its timeline
    page.goto(f"{portal.url}/contracts/{story.later_contract_id}")
    expect(page.locator(".timeline")).to_contain_text("Mensualité de prêt retenue sur le salaire",
                                                      timeout=EVENTUAL * 1000)
    expect(page.locator(".step-InstalmentWithheld")).to_contain_text("mensualité 1")


def test_staff_record_the_early_repayment_and_the_member_sees_the_rest_settled(
        portal: Portal, staff_browser: BrowserContext, member_browser: BrowserContext,
        story: Story, accessible: Any) -> None:
    page = staff_browser.new_page()
    page.goto(f"{portal.url}/staff/loans?status=disbursed")
    page.locator("table.loans tr", has_text="Amélie Dubois").get_by_role("link").click()
    expect(page.locator("dl.early-repayment")).to_contain_text("€\xa02.755,68")
    accessible(page)
    record = page.get_by_role("button", name="Het lid betaalde dit bedrag: de vervroegde "
                              "terugbetaling boeken")
    record.click()
    expect(page.locator(".loan-status")).to_have_text("Terugbetaald")
    expect(record).to_have_count(0)
    accessible(page)
    check = api(portal, "GET", "fund", "/v1/fund/check", portal.staff_token("BE"))
    assert check["ok"] is True, check
    member = member_browser.new_page()
    member.goto(f"{portal.url}/loans/{story.loan_id}")
    expect(member.locator(".loan-status")).to_have_text("Remboursé")
    rows = member.locator("table.schedule tbody tr")
    expect(rows.first).to_contain_text("Retenu sur votre salaire")
    expect(rows.nth(1)).to_contain_text("Réglé par le remboursement anticipé")
    expect(member.locator("dl.early-repayment")).to_have_count(0)
    accessible(member)
