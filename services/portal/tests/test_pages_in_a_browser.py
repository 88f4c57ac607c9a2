"""Signing up, the sign-in form, languages and the security of every answer, in Chromium."""

from __future__ import annotations

import urllib.request
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from babel.dates import format_datetime
from playwright.sync_api import BrowserContext, expect
from portal.sessions import SESSIONS, session_key
from pymongo import MongoClient

from services.portal.tests.conftest import Portal, run

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def staff_email(portal: Portal) -> str:
    """A staff member of BE, who signs in by the links mailed to them."""
    email = f"jo.{uuid.uuid4().hex[:8]}@smart.example.be"
    portal.add_staff(email, "Jo Wouters", "BE", "en")
    return email


def test_every_answer_carries_the_security_headers(portal: Portal) -> None:
    with urllib.request.urlopen(f"{portal.url}/login") as answer:
        headers = answer.headers
    policy = headers["content-security-policy"]
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy
    assert "frame-ancestors 'none'" in policy
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["cache-control"] == "no-store"


def test_the_sign_up_form_shows_each_error_next_to_its_field(
        portal: Portal, context: BrowserContext, accessible: Any) -> None:
    page = context.new_page()
    page.goto(f"{portal.url}/signup")
    accessible(page)
    page.get_by_label("First name").fill("Ann")
    page.get_by_role("button", name="Send my application").click()
    expect(page.get_by_role("alert")).to_contain_text("There is a problem")
    expect(page.locator("#last_name-error")).to_contain_text("Enter this field")
    expect(page.get_by_label("First name")).to_have_value("Ann")
    accessible(page)


def test_the_browser_language_comes_first_and_the_chosen_one_is_remembered(
        portal: Portal, browser: Any) -> None:
    context = browser.new_context(locale="nl-BE")
    try:
        page = context.new_page()
        page.goto(f"{portal.url}/login")
        expect(page.locator("html")).to_have_attribute("lang", "nl")
        expect(page.get_by_role("heading", level=1)).to_have_text("Aanmelden")
        page.get_by_label("Taal").select_option("fr")
        page.get_by_role("button", name="Wijzigen").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Se connecter")
        page.goto(f"{portal.url}/signup")
        expect(page.locator("html")).to_have_attribute("lang", "fr")
    finally:
        context.close()


def test_a_form_without_its_csrf_token_is_refused(portal: Portal) -> None:
    request = urllib.request.Request(f"{portal.url}/login", data=b"email=a%40b.be&branch=BE",
                                     method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request)
    assert refused.value.code == 403


def test_the_session_cookie_is_http_only_and_the_token_stays_on_the_server(
        portal: Portal, context: BrowserContext, staff_email: str) -> None:
    page = context.new_page()
    portal.log_in(page, staff_email, "BE")
    expect(page.get_by_role("heading", level=1)).to_contain_text("BE")
    cookies = {c["name"]: c for c in context.cookies()}
    assert cookies["smart_session"]["httpOnly"] is True
    assert cookies["smart_session"]["sameSite"] == "Lax"
    with MongoClient(portal.platform.env["MONGODB_URI"]) as client:
        session = client[portal.database][SESSIONS].find_one(
            {"_id": session_key(cookies["smart_session"]["value"])})
    assert session is not None and session["principal"]["role"] == "staff"
    assert all(session["token"] not in c["value"] for c in cookies.values())
    assert page.evaluate("() => document.cookie") == ""


def test_opening_a_sign_in_link_asks_before_using_it_and_an_unknown_one_opens_no_session(
        portal: Portal, context: BrowserContext, accessible: Any) -> None:
    page = context.new_page()
    page.goto(f"{portal.url}/login")
    accessible(page)
    page.goto(f"{portal.url}/login/{'x' * 43}")
    expect(page.get_by_role("button", name="Sign me in")).to_be_visible()
    accessible(page)
    page.get_by_role("button", name="Sign me in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("This link no longer works")
    accessible(page)
    assert "smart_session" not in {c["name"] for c in context.cookies()}
    page.goto(f"{portal.url}/dashboard")
    assert page.url.startswith(f"{portal.url}/login")


def test_a_signing_link_that_does_not_exist_says_so(portal: Portal, context: BrowserContext,
                                                    accessible: Any) -> None:
    page = context.new_page()
    answer = page.goto(f"{portal.url}/sign/{'y' * 43}")
    assert answer is not None and answer.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("This link no longer works")
    accessible(page)


def test_staff_see_their_funds_position_and_check_its_ledger(
        portal: Portal, context: BrowserContext, staff_email: str, accessible: Any) -> None:
    page = context.new_page()
    portal.log_in(page, staff_email, "BE")
    expect(page.locator("#fund-title")).to_have_text("Guarantee fund")
    expect(page.get_by_role("region", name="Guarantee fund")).to_contain_text("500.000,00\xa0€")
    accessible(page)
    page.get_by_role("link", name="Check the ledger").click()
    expect(page.get_by_role("status")).to_contain_text("The balances match the")
    accessible(page)


def test_an_admin_sees_the_dead_letters_of_the_services_and_sends_one_again_in_dutch(
        portal: Portal, context: BrowserContext, staff_email: str, accessible: Any) -> None:
    from aiokafka import AIOKafkaProducer
    from smart_shared.events.catalogue import CONTRACTS_TOPIC

    async def poison() -> None:
        """A WorkCompleted whose body is none: billing and payroll, which handle the type,
        dead-letter it (fund, which reads the topic too, skips the type unread)."""
        kafka = portal.platform.env["KAFKA_BOOTSTRAP_SERVERS"]
        producer = AIOKafkaProducer(bootstrap_servers=kafka)
        await producer.start()
        try:
            headers = {"ce_specversion": "1.0", "ce_id": str(uuid.uuid4()),
                       "ce_source": "/smart/BE/contracts",
                       "ce_type": "coop.smart.contracts.WorkCompleted.v1",
                       "ce_time": "2026-12-01T10:00:00+00:00", "ce_subject": "contract-broken",
                       "content-type": "application/json"}
            await producer.send_and_wait(
                portal.platform.env["SMART_TOPIC_NAMESPACE"] + CONTRACTS_TOPIC, b"{}",
                key=b"contract-broken", headers=[(k, v.encode()) for k, v in headers.items()])
        finally:
            await producer.stop()

    run(poison())
    admin = f"an.{uuid.uuid4().hex[:8]}@smart.example.be"
    portal.add_staff(admin, "An Peeters", "BE", "nl", role="admin")
    assert context.browser is not None
    dutch = context.browser.new_context(locale="nl-BE")
    page = dutch.new_page()
    portal.log_in(page, admin, "BE")
    page.get_by_role("link", name="Dode brieven").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dode brieven")
    rows = page.locator("table.dead-letters tbody tr").filter(has_text="contract-broken")
    for _ in range(30):  # the consumers dead-letter it within seconds
        if rows.count() >= 2:
            break
        page.wait_for_timeout(1000)
        page.reload()
    expect(rows).to_have_count(2)
    expect(page.locator("table.dead-letters caption")).to_have_text(
        "Wachten op opnieuw versturen")
    # when it failed, as Dutch writes it (``2 dec 2026, 10:00:00``), not as the API sent it
    expect(rows.first).to_contain_text(format_datetime(datetime.now(UTC), "MMM y", locale="nl_BE"))
    accessible(page)
    rows.filter(has_text="billing").get_by_role("button", name="Opnieuw versturen").click()
    expect(page.get_by_role("status")).to_have_text("De gebeurtenis is opnieuw verstuurd.")
    accessible(page)
    dutch.close()

    staff = context.browser.new_context()
    other = staff.new_page()
    portal.log_in(other, staff_email, "BE")
    expect(other.get_by_role("link", name="Dead letters")).to_have_count(0)
    refused = other.goto(f"{portal.url}/staff/dead-letters")
    assert refused is not None and refused.status == 403
    staff.close()
