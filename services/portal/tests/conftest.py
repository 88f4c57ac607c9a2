"""The portal in a real browser: Debian's Chromium driven by Playwright, against the portal and
the six services as processes on a private deployment of the genuine Kafka and mongod, mailing
to a genuine Mailpit. People sign in, and clients open their pages, by the links of their mails."""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    expect,
    sync_playwright,
)
from smart_shared.auth import mint_token
from smart_shared.settings import Settings
from smart_testing import Infrastructure, Mailpit, eventually

from tests.platform import PlatformProcesses, private_platform, start_portal

CHROMIUM = Path("/usr/bin/chromium")
# the network is closed: nothing may reach out for updates, sync or QUIC
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]
AXE_RULES = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa",
                                                   "best-practice"]},
             "resultTypes": ["violations"]}
T = TypeVar("T")


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Await ``coroutine`` on a thread of its own: Playwright's loop runs in this one."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


@dataclass
class Portal:
    """The running portal, the platform behind it, and a way to open a session in it."""

    url: str
    platform: PlatformProcesses
    mailpit: Mailpit

    @property
    def database(self) -> str:
        return f"{self.platform.env['SMART_DATABASE_PREFIX']}smart_portal"

    def staff_token(self, branch: str) -> str:
        return mint_token(Settings(), "staff", branch)

    def mailed_link(self, to: str, kind: str, subject: str | None = None,
                    known: frozenset[str] = frozenset()) -> str:
        """The portal link (``login``, ``sign``, ``invoice``) of the newest mail that reached
        ``to`` (with ``subject`` in its subject, not one of the ``known`` mail ids) and carries
        one, as its reader gets it: read from Mailpit."""
        pattern = re.compile(rf"{re.escape(self.url)}/{kind}/[A-Za-z0-9_.\-]+")

        async def newest() -> str | None:
            for summary in await self.mailpit.messages(to):  # newest first
                if summary["ID"] in known or (subject and subject not in summary["Subject"]):
                    continue
                links = pattern.findall((await self.mailpit.message(summary["ID"]))["Text"])
                if links:
                    return str(links[-1])
            return None

        return str(run(eventually(newest, timeout=60, interval=0.3)))

    def add_staff(self, email: str, name: str, branch: str, language: str,
                  role: str = "staff") -> None:
        """A staff identity of ``branch``, as its admin adds it (members' ``POST /v1/staff``)."""
        admin = mint_token(Settings(), "admin", branch, sub="admin-of-the-tests")
        answer = httpx.post(f"{self.platform.urls['members']}/v1/staff", timeout=30,
                            headers={"Authorization": f"Bearer {admin}"},
                            json={"email": email, "name": name, "branch": branch,
                                  "role": role, "language": language})
        assert answer.status_code == 201, answer.text

    def log_in(self, page: Page, email: str, branch: str) -> None:
        """Sign in as a person does: ask for a link on the sign-in page, open the link the
        mail brought (read from Mailpit) and confirm; the page ends on the person's home."""
        known = frozenset(m["ID"] for m in run(self.mailpit.messages(email)))
        page.goto(f"{self.url}/login")
        page.locator("#email").fill(email)
        page.locator("#branch").select_option(branch)
        page.locator("main form button[type=submit]").click()
        expect(page.locator("main p")).to_contain_text(email)
        page.goto(self.mailed_link(email, "login", known=known))
        page.locator("main form button[type=submit]").click()
        expect(page).not_to_have_url(re.compile(r"/login"))


@pytest.fixture(scope="module")
def portal(request: pytest.FixtureRequest, infrastructure: Infrastructure, mailpit: Mailpit,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    """A module's portal and platform; a module may set ``PORTAL_ENV`` (settings of its own)."""
    home: Path = tmp_path_factory.mktemp("portal")
    platform = private_platform(home, infrastructure.kafka_bootstrap_servers,
                                infrastructure.mongodb_uri,
                                SMART_FUND_INITIAL_CAPITAL_BE="500000.00",
                                # every mail goes to the tests' Mailpit, promptly
                                **{**mailpit.settings(), "SMART_MAIL_IDLE_SECONDS": "0.3"},
                                **getattr(request.module, "PORTAL_ENV", {}))
    try:
        url = start_portal(platform)
    except BaseException:
        platform.stop_all()
        raise
    yield Portal(url, platform, mailpit)
    platform.stop_all()


# module scope: the sync driver keeps an event loop running in this thread while it is open,
# and the asyncio tests that run after the portal's need that thread free
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: apt-get install -y chromium (.ci/run does)")
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
    yield chromium
    chromium.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    opened = browser.new_context(locale="en-GB")
    yield opened
    opened.close()


@pytest.fixture(scope="session")
def axe() -> Axe:
    """axe-core as ``axe-playwright-python`` bundles it."""
    return Axe()


def serious_violations(page: Page, axe: Axe) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now (WCAG 2.1 AA)."""
    # injected by the driver, not as a page script: the portal's CSP stays as it is
    result = axe.run(page, options=AXE_RULES).response["violations"]
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in result if v["impact"] in ("serious", "critical")]


def screenshot(page: Page, name: str) -> None:
    """Keep a picture of the page for the documentation when ``SMART_PORTAL_SCREENSHOTS``
    names a folder (``docs/portal``)."""
    folder = os.environ.get("SMART_PORTAL_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


@pytest.fixture
def accessible(axe: Axe) -> Any:
    """Assert that a page has no serious or critical accessibility violation."""

    def check(page: Page) -> None:
        found = serious_violations(page, axe)
        assert found == [], f"{page.url}: {json.dumps(found, indent=1)}"

    return check
