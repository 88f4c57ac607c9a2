"""The saga in a browser: a member signs up, signs in with the link mailed to them and drafts a
contract (in French); the client opens the signing link of their mail, reads and signs (in Dutch)
while the member's open page shows the signature arrive; the invoice's mail brings the client to
its page; staff, signed in by their own mailed link (in Dutch), book the bank statement and pay
the salary, and the member sees it paid. Every link is read from the mails, as Mailpit got them."""

from __future__ import annotations

import random
import time
import uuid
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from pymongo import MongoClient
from smart_shared.auth import mint_token
from smart_shared.settings import Settings

from services.portal.tests.conftest import Portal, run, screenshot
from tests.demo.scenario import belgian_national_number, belgian_vat_number, platform_today
from tests.documents.reading import pdf_text
from tests.performance.bench import camt053

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]
LIVE = 45_000  # ms: an event travels through Kafka, a consumer and the page's SSE stream


def today(portal: Portal) -> date:
    return run(platform_today(portal.platform))


def advance(portal: Portal, days: int) -> None:
    run(portal.platform.advance_clock(timedelta(days=days)))


def api(portal: Portal, method: str, service: str, path: str, token: str,
        **kwargs: Any) -> Any:
    response = httpx.request(method, f"{portal.platform.urls[service]}{path}",
                             headers={"Authorization": f"Bearer {token}"}, timeout=30, **kwargs)
    assert response.status_code < 300, response.text
    return response.json()


class Story:
    """What the pages did so far, for the next step."""

    def __init__(self) -> None:
        tag = uuid.uuid4().hex[:8]
        self.client_email = f"admin.{tag}@brasserieduparc.example.be"
        self.staff_email = f"lotte.{tag}@smart.example.be"

    member_id: str
    member_email: str
    contract_id: str
    signing_link: str
    contract_page: Page


@pytest.fixture(scope="module")
def story() -> Story:
    return Story()


@pytest.fixture(scope="module")
def member_browser(browser: Browser) -> Any:
    context = browser.new_context(locale="fr-BE")
    yield context
    context.close()


@pytest.fixture(scope="module")
def staff_browser(portal: Portal, browser: Browser, story: Story) -> Any:
    """A staff member of BE who reads Dutch, signed in by the link mailed to them."""
    portal.add_staff(story.staff_email, "Lotte Claes", "BE", "nl")
    context = browser.new_context(locale="nl-BE")
    portal.log_in(context.new_page(), story.staff_email, "BE")
    yield context
    context.close()


def test_a_member_signs_up_in_french(portal: Portal, member_browser: Any, story: Story,
                                     accessible: Any) -> None:
    number, born = belgian_national_number(random.Random())
    page = member_browser.new_page()
    page.goto(f"{portal.url}/signup")
    expect(page.get_by_role("heading", level=1)).to_have_text("Devenir membre")
    page.get_by_label("Prénom").fill("Amélie")
    page.get_by_label("Nom", exact=True).fill("Dubois")
    story.member_email = f"amelie.{number}@example.be"
    page.get_by_label("Adresse e-mail").fill(story.member_email)
    page.get_by_label("Date de naissance").fill(born.isoformat())
    page.get_by_label("Numéro national").fill(number)
    page.get_by_label("Rue et numéro").fill("Rue Haute 12")
    page.get_by_label("Code postal").fill("1000")
    page.get_by_label("Localité").fill("Bruxelles")
    page.get_by_label("Pays").fill("BE")
    page.get_by_label("Compte bancaire (IBAN) pour votre salaire").fill("BE62510007547061")
    page.get_by_label("Votre activité").fill("musicienne")
    page.get_by_label("Type d'activité").select_option("artistic")
    page.get_by_role("button", name="Envoyer ma demande").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Demande reçue")
    accessible(page)
    members = api(portal, "GET", "members", "/v1/members", portal.staff_token("BE"),
                  params={"status": "applicant"})["items"]
    [member] = [m for m in members if m["national_id"] == number]
    story.member_id = member["member_id"]
    # the applicant subscribes their first share (through members' API: no page asks for it)
    api(portal, "POST", "members", f"/v1/members/{story.member_id}/shares",
        mint_token(Settings(), "member", "BE", story.member_id), json={"count": 1})


def test_the_applicant_signs_in_with_the_link_of_their_mail_in_french(
        portal: Portal, member_browser: Any, story: Story, accessible: Any) -> None:
    page = member_browser.new_page()
    page.goto(f"{portal.url}/login")
    expect(page.get_by_role("heading", level=1)).to_have_text("Se connecter")
    page.get_by_label("Adresse e-mail").fill(story.member_email)
    page.get_by_role("button", name="M'envoyer un lien de connexion").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Consultez vos e-mails")
    accessible(page)
    link = portal.mailed_link(story.member_email, "login", subject="connexion")
    page.goto(link)
    accessible(page)
    page.get_by_role("button", name="Me connecter").click()
    expect(page).to_have_url(f"{portal.url}/dashboard")
    expect(page.locator(".status")).to_contain_text("Candidat")
    page.goto(link)  # a second use of the link opens nothing
    page.get_by_role("button", name="Me connecter").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ce lien ne fonctionne plus")
    accessible(page)


def test_staff_signed_in_by_their_mailed_link_record_the_share_payment_in_dutch(
        portal: Portal, staff_browser: Any, story: Story, accessible: Any) -> None:
    page = staff_browser.new_page()
    page.goto(f"{portal.url}/staff")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Te behandelen voor afdeling BE")
    accessible(page)
    page.get_by_role("button", name="Aandeel van Amélie Dubois betaald", exact=False).click()
    expect(page.get_by_role("button", name="Aandeel van Amélie Dubois betaald",
                            exact=False)).to_have_count(0)
    member = api(portal, "GET", "members", f"/v1/members/{story.member_id}",
                 portal.staff_token("BE"))
    assert member["status"] == "active"


def test_the_salary_simulation_works_with_javascript_off(
        portal: Portal, browser: Browser, story: Story, accessible: Any) -> None:
    plain = browser.new_context(locale="en-GB", java_script_enabled=False)
    try:
        page = plain.new_page()
        portal.log_in(page, story.member_email, "BE")  # signing in needs no script
        page.goto(f"{portal.url}/contracts/new")
        page.get_by_label("Amount excl. VAT (EUR)").fill("1200,00")
        page.get_by_role("button", name="Simulate the salary").click()
        expect(page.locator("#simulation")).to_contain_text("You receive")
        expect(page.get_by_label("Amount excl. VAT (EUR)")).to_have_value("1200,00")
        page.get_by_role("button", name="Save the draft").click()
        expect(page.get_by_role("alert")).to_contain_text("There is a problem")
        expect(page.locator("#client_name-error")).to_contain_text("Enter this field")
    finally:
        plain.close()


def test_the_member_drafts_a_contract_with_the_salary_simulation_beside_it(
        portal: Portal, member_browser: Any, story: Story, accessible: Any) -> None:
    page = member_browser.new_page()
    page.goto(f"{portal.url}/dashboard")
    # staff's change shows once the member's recent reads (5 s) are over
    for _ in range(10):
        if page.locator(".status").inner_text() == "Membre actif":
            break
        page.wait_for_timeout(1000)
        page.reload()
    expect(page.locator(".status")).to_have_text("Membre actif")
    accessible(page)
    page.get_by_role("link", name="Nouveau contrat").click()
    start = today(portal) + timedelta(days=3)
    page.get_by_label("Ce que vous faites pour le client").fill("Concert d'ouverture")
    page.get_by_label("Ce que le client paie (cela détermine la TVA)").select_option(
        "performance_for_organiser")
    page.get_by_label("Jours de travail").fill(f"{start} {start + timedelta(days=1)}")
    page.get_by_label("Montant HTVA (EUR)").press_sequentially("1200")
    simulation = page.locator("#simulation")
    expect(simulation).to_contain_text("Vous recevez", timeout=10_000)
    expect(simulation).to_contain_text("1\u202f200,00\xa0€")
    accessible(page)
    screenshot(page, "contract-form")
    page.get_by_label("Nom du client").fill("Brasserie du Parc SRL")
    page.get_by_label("Le client est").select_option("business")
    page.get_by_label("Numéro de TVA du client").fill(belgian_vat_number(random.Random()))
    page.get_by_label("Adresse e-mail du client").fill(story.client_email)
    page.locator("#client_street").fill("Place Flagey 18")
    page.locator("#client_postal_code").fill("1050")
    page.locator("#client_city").fill("Ixelles")
    page.locator("#client_country").fill("BE")
    page.get_by_label("Langue du client").select_option("nl")
    page.get_by_role("button", name="Enregistrer le brouillon").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Contrat avec Brasserie du Parc SRL")
    story.contract_id = page.url.rsplit("/", 1)[1]
    page.get_by_role("button", name="Envoyer au client pour signature").click()
    expect(page.locator(".signing-link")).to_be_visible()
    accessible(page)
    story.signing_link = portal.mailed_link(story.client_email, "sign")
    story.contract_page = page  # stays open: the timeline arrives there


def test_the_client_reads_and_signs_in_dutch_and_the_members_page_shows_it_live(
        portal: Portal, browser: Browser, story: Story, accessible: Any) -> None:
    client = browser.new_context(locale="nl-BE", user_agent="Mozilla/5.0 (client test)")
    try:
        page = client.new_page()
        page.goto(story.signing_link)
        expect(page.get_by_role("heading", level=1)).to_have_text("Te ondertekenen contract")
        expect(page.locator(".contract")).to_contain_text("Brasserie du Parc SRL")
        expect(page.locator(".contract")).to_contain_text("€\xa01.200,00")
        accessible(page)
        screenshot(page, "signing-page")
        page.get_by_label("Uw volledige naam").fill("Jan Peeters")
        page.get_by_role("button", name="Het contract ondertekenen").click()
        expect(page.locator("#consent-error")).to_contain_text("Vink het vakje aan")
        expect(page.get_by_role("alert")).to_contain_text("Er is een probleem")
        accessible(page)
        page.get_by_label("Ik heb dit contract gelezen en ga ermee akkoord.").check()
        page.get_by_role("button", name="Het contract ondertekenen").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Contract ondertekend")
        accessible(page)
        covered = page.get_by_role("link", name="Attest van verzekeringsdekking (PDF)")
        certificate = page.request.get(f"{portal.url}{covered.get_attribute('href')}")
        assert certificate.headers["content-type"] == "application/pdf"
        assert "Attest van verzekeringsdekking" in pdf_text(certificate.body())
    finally:
        client.close()
    timeline = story.contract_page.locator(".timeline")
    expect(timeline).to_contain_text("Signé par le client", timeout=LIVE)
    # the contract's page offers the certificate once the contract is covered
    story.contract_page.goto(f"{portal.url}/contracts/{story.contract_id}")
    covered = story.contract_page.get_by_role(
        "link", name="Attestation de couverture d'assurance (PDF)")
    mine = story.contract_page.request.get(f"{portal.url}{covered.get_attribute('href')}")
    assert "Attestation de couverture d'assurance" in pdf_text(mine.body())
    contract = api(portal, "GET", "contracts", f"/v1/contracts/{story.contract_id}",
                   portal.staff_token("BE"))
    signature = contract["client_signature"]
    token = story.signing_link.rsplit("/", 1)[1]
    written = [path for path in portal.platform.home.rglob("*") if path.is_file()
               and token in path.read_text(errors="replace")]
    assert written == [], "the signing token reached a log or a trace"
    assert signature["signer_name"] == "Jan Peeters"
    assert signature["user_agent"] == "Mozilla/5.0 (client test)"
    assert len(signature["terms_sha256"]) == 64


def test_the_invoice_arrives_on_the_timeline_and_its_page_offers_the_qr_code(
        portal: Portal, member_browser: Any, story: Story, accessible: Any) -> None:
    advance(portal, 6)  # past the last work day: the work is completed, the client invoiced
    timeline = story.contract_page.locator(".timeline")
    expect(timeline).to_contain_text("Facture envoyée au client", timeout=LIVE)
    expect(timeline).to_contain_text("Salaire dû", timeout=LIVE)
    screenshot(story.contract_page, "contract-timeline")
    page = member_browser.new_page()
    page.goto(f"{portal.url}/dashboard")
    expect(page.locator("main")).to_contain_text("1 contrat")
    expect(page.locator("main")).to_contain_text("1 facture en attente de paiement")
    expect(page.locator("main")).to_contain_text("1 salaire à payer")
    accessible(page)
    screenshot(page, "member-dashboard")
    page.goto(f"{portal.url}/contracts")
    expect(page.locator("main")).to_contain_text("Brasserie du Parc SRL")
    accessible(page)
    page.goto(f"{portal.url}/invoices")
    accessible(page)
    page.get_by_role("link", name=f"BE-{today(portal).year}-", exact=False).first.click()
    expect(page.locator("img[alt^='Code QR EPC']")).to_be_visible()
    accessible(page)


def test_the_client_opens_the_invoice_from_its_link_in_dutch(
        portal: Portal, browser: Browser, story: Story, accessible: Any) -> None:
    [listed] = api(portal, "GET", "billing", "/v1/invoices", portal.staff_token("BE"),
                   params={"contract_id": story.contract_id})["items"]
    invoice = api(portal, "GET", "billing", f"/v1/invoices/{listed['invoice_id']}",
                  portal.staff_token("BE"))
    link = portal.mailed_link(story.client_email, "invoice", subject=invoice["number"])
    client = browser.new_context(locale="nl-BE")
    try:
        page = client.new_page()
        page.goto(link)
        expect(page.get_by_role("heading", level=1)).to_have_text(f"Factuur {invoice['number']}")
        expect(page.locator("dl.facts")).to_contain_text(invoice["structured_reference"])
        expect(page.locator("img[alt^='EPC-QR-code']")).to_be_visible()
        accessible(page)
        screenshot(page, "invoice-page")
        with page.expect_download() as download:
            page.get_by_role("link", name="De pdf downloaden").click()
        assert download.value.path().read_bytes().startswith(b"%PDF")
        forged = page.goto(f"{portal.url}/invoice/{listed['invoice_id']}.forged-link-xxxxxxxx")
        assert forged is not None and forged.status == 404
    finally:
        client.close()


def test_staff_book_the_statement_and_pay_the_salary_and_the_member_sees_it_paid(
        portal: Portal, staff_browser: Any, member_browser: Any, story: Story,
        accessible: Any) -> None:
    [invoice] = api(portal, "GET", "billing", "/v1/invoices", portal.staff_token("BE"),
                    params={"contract_id": story.contract_id})["items"]
    # the member said the concert was for its organiser: VAT Code art. 44 §2 8° exempts it
    assert (invoice["vat_category"], invoice["vat_amount"]) == ("E", "0.00")
    page = staff_browser.new_page()
    page.goto(f"{portal.url}/staff")
    accessible(page)
    statement = camt053(f"STMT-{story.contract_id[:8]}", [
        {"total": {"amount": invoice["total"], "currency": "EUR"},
         "structured_reference": invoice["structured_reference"]}], today(portal))
    page.get_by_label("camt.053-bestand").set_input_files(
        files=[{"name": "statement.xml", "mimeType": "application/xml", "buffer": statement}])
    page.get_by_role("button", name="Het uittreksel boeken").click()
    expect(page.get_by_role("status")).to_have_text("Uittreksel geboekt.")
    expect(story.contract_page.locator(".timeline")).to_contain_text(
        "Facture payée", timeout=LIVE)

    [salary] = api(portal, "GET", "payroll", "/v1/salaries", portal.staff_token("BE"),
                   params={"member_id": story.member_id})["items"]
    pay_date = date.fromisoformat(salary["pay_date"])
    if pay_date > today(portal):
        advance(portal, (pay_date - today(portal)).days)
    page.get_by_role("link", name="Betaalrondes").click()
    accessible(page)
    page.get_by_label("Elk verschuldigd loon betalen tot").fill(pay_date.isoformat())
    page.get_by_role("button", name="Een betaalronde openen").click()
    expect(page.locator(".run-status")).to_have_text("Open: wacht op de bank")
    expect(page.locator("table")).to_contain_text("BE62510007547061")
    accessible(page)
    screenshot(page, "staff-payment-run")
    with page.expect_download() as download:
        page.get_by_role("link", name="Het SEPA-bestand downloaden (pain.001)").click()
    assert b"pain.001.001.09" in download.value.path().read_bytes()
    page.get_by_role("button", name="De bank voerde het uit: bevestigen").click()
    expect(page.locator(".run-status")).to_have_text("Bevestigd: de lonen zijn betaald")
    page.get_by_role("link", name="Betaalrondes").click()
    expect(page.locator("table.past-runs")).to_contain_text("Bevestigd: de lonen zijn betaald")
    accessible(page)
    expect(story.contract_page.locator(".timeline")).to_contain_text("Salaire payé", timeout=LIVE)
    page = member_browser.new_page()
    page.goto(f"{portal.url}/salaries")
    expect(page.locator(".salary-status")).to_contain_text("Payé le", timeout=LIVE)
    accessible(page)


def test_the_member_changes_their_address_and_a_wrong_iban_is_shown_at_its_field(
        portal: Portal, member_browser: Any, story: Story, accessible: Any) -> None:
    page = member_browser.new_page()
    page.goto(f"{portal.url}/profile")
    accessible(page)
    page.get_by_label("Localité").fill("Namur")
    page.get_by_label("Code postal").fill("5000")
    page.get_by_role("button", name="Enregistrer", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("Vos modifications sont enregistrées.")
    member = api(portal, "GET", "members", f"/v1/members/{story.member_id}",
                 portal.staff_token("BE"))
    assert (member["address"]["city"], member["address"]["postal_code"]) == ("Namur", "5000")
    page.get_by_label("Compte bancaire (IBAN) pour votre salaire").fill("BE00 0000 0000 0000")
    page.get_by_role("button", name="Enregistrer", exact=True).click()
    expect(page.locator("#iban-error")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("Il y a un problème")
    accessible(page)


def test_the_members_erasure_removes_them_from_the_timelines(
        portal: Portal, member_browser: Any, story: Story, accessible: Any) -> None:
    page = member_browser.new_page()
    page.goto(f"{portal.url}/profile")
    page.get_by_role("button", name="Effacer mes données").click()
    expect(page.locator("#confirm-error")).to_be_visible()
    page.get_by_label("Je comprends", exact=False).check()
    page.get_by_role("button", name="Effacer mes données").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Vos données sont effacées")
    accessible(page)
    with MongoClient(portal.platform.env["MONGODB_URI"]) as client:
        timeline = client[portal.database]["timeline"]

        def remaining() -> int:
            return timeline.count_documents({"member_id": story.member_id})

        deadline = time.monotonic() + 45
        while remaining() and time.monotonic() < deadline:
            time.sleep(0.5)
        assert remaining() == 0
