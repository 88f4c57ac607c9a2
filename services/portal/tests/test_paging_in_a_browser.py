"""A history runs over pages, newest first: the newest records, the older ones by a link, and
back; a cursor nobody gave out is refused and named (pages of two records here)."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta

import httpx
from playwright.sync_api import BrowserContext, Page, expect
from portal.sessions import SESSION_COOKIE
from smart_shared.auth import mint_token
from smart_shared.settings import Settings

from services.portal.tests.conftest import Portal, run
from tests.demo.scenario import platform_today
from tests.performance.portal import contract_body, member_with_a_contract, open_member_session

PORTAL_ENV = {"SMART_PORTAL_PAGE_SIZE": "2"}


def member_with_three_contracts(portal: Portal) -> str:
    """An active member whose contracts' clients are, oldest first, Drukkerij Noord BV, Atelier
    Twee and Studio Drie; their session's id."""
    platform = portal.platform
    member_id, _ = run(member_with_a_contract(platform))
    token = mint_token(Settings(), "member", "BE", member_id)
    start = run(platform_today(platform)) + timedelta(days=10)
    for client in ("Atelier Twee", "Studio Drie"):
        created = httpx.post(f"{platform.urls['contracts']}/v1/contracts", timeout=30,
                             headers={"Authorization": f"Bearer {token}"},
                             json=contract_body(start, client, "c@noord.example.be", "nl",
                                                random.Random()))
        assert created.status_code == 201, created.text
    return run(open_member_session(platform, member_id))


def test_a_members_contracts_go_from_the_newest_to_the_oldest_page_and_back(
        portal: Portal, context: BrowserContext, accessible: Callable[[Page], None]) -> None:
    session = member_with_three_contracts(portal)
    context.add_cookies([{"name": SESSION_COOKIE, "value": session, "url": portal.url}])
    page = context.new_page()
    page.goto(f"{portal.url}/contracts")
    clients = page.locator("main table tbody tr td:first-child")
    expect(clients).to_have_text(["Studio Drie", "Atelier Twee"])
    expect(page.get_by_role("link", name="Newest")).to_have_count(0)
    accessible(page)

    page.get_by_role("link", name="Older").click()
    expect(clients).to_have_text(["Drukkerij Noord BV"])
    expect(page.get_by_role("link", name="Older")).to_have_count(0)
    accessible(page)

    page.get_by_role("link", name="Newest").click()
    expect(clients).to_have_text(["Studio Drie", "Atelier Twee"])

    assert context.browser is not None
    dutch = context.browser.new_context(locale="nl-BE")
    try:
        dutch.add_cookies([{"name": SESSION_COOKIE, "value": session, "url": portal.url}])
        page = dutch.new_page()
        page.goto(f"{portal.url}/contracts")
        page.get_by_role("link", name="Oudere").click()
        clients = page.locator("main table tbody tr td:first-child")
        expect(clients).to_have_text(["Drukkerij Noord BV"])
        expect(page.get_by_role("link", name="Nieuwste")).to_be_visible()
        accessible(page)
    finally:
        dutch.close()


def test_a_cursor_the_services_never_gave_out_is_refused_by_name(
        portal: Portal, context: BrowserContext) -> None:
    session = run(open_member_session(portal.platform, "m-nobody"))
    context.add_cookies([{"name": SESSION_COOKIE, "value": session, "url": portal.url}])
    page = context.new_page()
    answer = page.goto(f"{portal.url}/contracts?cursor=not-one-of-ours")
    assert answer is not None and answer.status == 400
    expect(page.locator("main")).to_contain_text("cursor")
