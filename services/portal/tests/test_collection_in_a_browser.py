"""An unpaid invoice in a browser: the client signs from the link of their mail, the invoice goes
unpaid, and from the link of the reminder's mail the client asks for a payment plan (in French);
staff, signed in by their mailed link, find the request on the dunning case, agree a plan and
credit part of the invoice."""

from __future__ import annotations

import time
import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from services.portal.tests.conftest import Portal, run
from services.portal.tests.test_saga_in_a_browser import advance, api, today
from tests.performance.portal import member_with_a_contract

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]


def invoiced(portal: Portal, contract_id: str) -> dict[str, Any]:
    """The contract's invoice, once the clock is past the last work day."""
    staff = portal.staff_token("BE")
    advance(portal, 12)
    deadline = time.monotonic() + 60
    while not (listed := api(portal, "GET", "billing", "/v1/invoices", staff,
                             params={"contract_id": contract_id})["items"]):
        assert time.monotonic() < deadline, "no invoice"
        time.sleep(0.5)
    return dict(api(portal, "GET", "billing", f"/v1/invoices/{listed[0]['invoice_id']}", staff))


def test_the_client_asks_for_a_plan_from_the_reminder_and_staff_agree_it_on_the_case(
        portal: Portal, browser: Browser, accessible: Any) -> None:
    client_email = f"compta.{uuid.uuid4().hex[:8]}@noord.example.be"
    run(member_with_a_contract(portal.platform, client_email, "fr"))
    client = browser.new_context(locale="fr-BE")
    try:
        page = client.new_page()
        page.goto(portal.mailed_link(client_email, "sign"))
        expect(page.get_by_role("heading", level=1)).to_have_text("Contrat à signer")
        page.get_by_label("Vos nom et prénom").fill("Marie Lambert")
        page.get_by_label("J'ai lu ce contrat et je l'accepte.").check()
        page.get_by_role("button", name="Signer le contrat").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Contrat signé")
        contracts = api(portal, "GET", "contracts", "/v1/contracts", portal.staff_token("BE"),
                        params={"limit": 100})["items"]
        [contract] = [c for c in contracts if c["client"]["email"] == client_email]
        invoice = invoiced(portal, contract["contract_id"])
        # the first reminder leaves a week after the due date
        advance(portal, (date.fromisoformat(invoice["due_date"]) - today(portal)).days + 8)
        page.goto(portal.mailed_link(client_email, "invoice", subject="Rappel de paiement"))
        expect(page.get_by_role("status")).to_contain_text("en retard depuis")
        accessible(page)
        page.get_by_label("En combien de paiements mensuels ?").fill("20")
        page.get_by_role("button", name="Demander un plan de paiement").click()
        expect(page.locator("#instalments-error")).to_contain_text("de 2 à 12")
        page.get_by_label("En combien de paiements mensuels ?").fill("2")
        page.get_by_label("Message (facultatif)").fill("Deux fois, merci")
        page.get_by_role("button", name="Demander un plan de paiement").click()
        expect(page.get_by_role("status").last).to_contain_text(
            "Votre demande de plan de paiement a été envoyée")
        accessible(page)
    finally:
        client.close()

    staff_email = f"ann.{uuid.uuid4().hex[:8]}@smart.example.be"
    portal.add_staff(staff_email, "Ann Peeters", "BE", "en")
    staff = browser.new_context(locale="en-GB")
    try:
        page = staff.new_page()
        portal.log_in(page, staff_email, "BE")
        page.get_by_role("link", name=invoice["number"]).click()
        expect(page.locator(".timeline")).to_contain_text("The client asked for a payment plan")
        expect(page.locator(".timeline")).to_contain_text("Deux fois, merci")
        expect(page.locator(".timeline")).to_contain_text("Reminder sent to the client")
        accessible(page)
        half = f"{float(invoice['balance_due']) / 2:.2f}"
        rest = f"{float(invoice['balance_due']) - float(half):.2f}"
        first = today(portal) + timedelta(days=30)
        page.locator("#due_on_1").fill(first.isoformat())
        page.locator("#amount_1").fill(half)
        page.locator("#due_on_2").fill((first + timedelta(days=30)).isoformat())
        page.locator("#amount_2").fill(rest)
        page.get_by_role("button", name="Agree the plan").click()
        expect(page.get_by_role("heading", name="Payment plan")).to_be_visible()
        expect(page.locator("main")).to_contain_text(first.strftime("%-d"))
        accessible(page)
        page.get_by_role("link", name="The invoice and its credit notes").click()
        accessible(page)
        page.get_by_label("Amount incl. VAT (EUR)").fill("ten")
        page.get_by_role("button", name="Issue the credit note").click()
        expect(page.locator("#amount-error")).to_contain_text("Enter an amount")
        expect(page.locator("#reason-error")).to_be_visible()
        page.get_by_label("Amount incl. VAT (EUR)").fill("10,00")
        page.get_by_label("Reason").fill("Goodwill for the late delivery")
        page.get_by_role("button", name="Issue the credit note").click()
        expect(page.get_by_role("status")).to_have_text("Credit note issued.")
        notes = page.locator("table.credit-notes")
        expect(notes).to_contain_text(f"BE-CN-{today(portal).year}-")
        expect(notes).to_contain_text("Goodwill for the late delivery")
        accessible(page)
        with page.expect_download() as download:
            notes.get_by_role("link").first.click()
        assert download.value.path().read_bytes().startswith(b"%PDF")
        credited = api(portal, "GET", "billing", f"/v1/invoices/{invoice['invoice_id']}",
                       portal.staff_token("BE"))
        assert [n["amount"]["amount"] for n in credited["credit_notes"]] == ["10.00"]
        page.get_by_role("navigation").get_by_role("link", name="Invoices").click()
        expect(page.get_by_role("row", name=invoice["number"])).to_contain_text("Open")
        accessible(page)
    finally:
        staff.close()
