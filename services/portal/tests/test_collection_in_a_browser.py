"""An unpaid invoice in a browser: the client, from the invoice's link, asks for a payment plan;
staff find the request on the dunning case and agree a plan."""

from __future__ import annotations

import time
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, expect

from services.portal.tests.conftest import Portal
from services.portal.tests.test_saga_in_a_browser import advance, api, run, today
from tests.performance.portal import member_with_a_contract

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]


def overdue_invoice(portal: Portal) -> dict[str, Any]:
    """A signed contract's invoice, left unpaid past its due date (a dunning case is open)."""
    _, signing_token = run(member_with_a_contract(portal.platform))
    signed = httpx.post(f"{portal.platform.urls['contracts']}/v1/contracts/sign/{signing_token}",
                        timeout=30)
    assert signed.status_code == 200, signed.text
    staff = portal.staff_token("BE")
    advance(portal, 12)  # past the last work day: invoiced
    deadline = time.monotonic() + 60
    while not (listed := api(portal, "GET", "billing", "/v1/invoices", staff,
                             params={"contract_id": signed.json()["contract_id"]})["items"]):
        assert time.monotonic() < deadline, "no invoice"
        time.sleep(0.5)
    invoice = api(portal, "GET", "billing", f"/v1/invoices/{listed[0]['invoice_id']}", staff)
    advance(portal, (date.fromisoformat(invoice["due_date"]) - today(portal)).days + 2)
    while not api(portal, "GET", "collection", "/v1/cases", staff)["items"]:
        assert time.monotonic() < deadline + 60, "no dunning case"
        time.sleep(0.5)
    return dict(invoice)


def test_the_client_asks_for_a_plan_and_staff_agree_it_on_the_case(
        portal: Portal, browser: Browser, accessible: Any) -> None:
    invoice = overdue_invoice(portal)
    client = browser.new_context(locale="fr-BE")
    try:
        page = client.new_page()
        page.goto(f"{portal.url}/invoice/{invoice['client_token']}")
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

    staff = browser.new_context(locale="en-GB")
    try:
        portal.sign_in(staff, "staff", "BE")
        page = staff.new_page()
        page.goto(f"{portal.url}/staff")
        page.get_by_role("link", name=invoice["number"]).click()
        expect(page.locator(".timeline")).to_contain_text("The client asked for a payment plan")
        expect(page.locator(".timeline")).to_contain_text("Deux fois, merci")
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
    finally:
        staff.close()
