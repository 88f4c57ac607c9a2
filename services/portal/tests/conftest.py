"""The portal in a real browser: Debian's Chromium driven by Playwright, against the portal and
the six services as processes on a private deployment of the genuine Kafka and mongod."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright
from portal.sessions import SESSION_COOKIE, SESSIONS, session_document
from pymongo import MongoClient
from smart_shared.auth import Principal, Role, mint_token
from smart_shared.settings import Settings
from smart_shared.testing import Infrastructure

from tests.platform import PlatformProcesses, private_platform, start_portal

CHROMIUM = Path("/usr/bin/chromium")
# the network is closed: nothing may reach out for updates, sync or QUIC
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]
AXE_VERSION = "4.14.1"
REPO = Path(__file__).resolve().parents[3]


@dataclass
class Portal:
    """The running portal, the platform behind it, and a way to open a session in it."""

    url: str
    platform: PlatformProcesses

    @property
    def database(self) -> str:
        return f"{self.platform.env['SMART_DATABASE_PREFIX']}smart_portal"

    def sign_in(self, context: BrowserContext, role: Role, branch: str,
                member_id: str | None = None) -> str:
        """Open a session for a locally minted token, as the login link would (test only)."""
        token = mint_token(Settings(), role, branch, member_id=member_id)
        session_id = secrets.token_urlsafe(32)
        principal = Principal(member_id or f"{role}@{branch.lower()}", role, branch, member_id)
        with MongoClient(self.platform.env["MONGODB_URI"]) as client:
            client[self.database][SESSIONS].insert_one(session_document(
                session_id, token, principal, datetime.now(UTC) + timedelta(hours=8)))
        context.add_cookies([{"name": SESSION_COOKIE, "value": session_id, "url": self.url,
                              "httpOnly": True, "sameSite": "Lax"}])
        return token

    def staff_token(self, branch: str) -> str:
        return mint_token(Settings(), "staff", branch)


@pytest.fixture(scope="module")
def portal(infrastructure: Infrastructure, tmp_path_factory: pytest.TempPathFactory,
           ) -> Iterator[Portal]:
    home: Path = tmp_path_factory.mktemp("portal")
    platform = private_platform(home, infrastructure.kafka_bootstrap_servers,
                                infrastructure.mongodb_uri,
                                SMART_FUND_INITIAL_CAPITAL_BE="500000.00")
    try:
        url = start_portal(platform)
    except BaseException:
        platform.stop_all()
        raise
    yield Portal(url, platform)
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
def axe_source() -> str:
    """axe-core from the npm registry, installed once into the local cache (never committed)."""
    cache = Path(os.environ.get("SMART_HOME", REPO / ".local")) / "cache" / f"axe-{AXE_VERSION}"
    script = cache / "node_modules" / "axe-core" / "axe.min.js"
    if not script.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("npm is needed to fetch axe-core for the accessibility checks")
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run([npm, "install", "--prefix", str(cache), "--no-audit", "--no-fund",
                        f"axe-core@{AXE_VERSION}"], check=True, capture_output=True)
    return script.read_text()


def serious_violations(page: Page, axe_source: str) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now (WCAG 2.1 AA)."""
    # evaluated by the driver, not as a page script: the portal's CSP stays as it is
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source + "\n;0")
    result = page.evaluate("""async () => (await axe.run(document, {runOnly: {type: 'tag',
        values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})).violations""")
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
def accessible(axe_source: str) -> Any:
    """Assert that a page has no serious or critical accessibility violation."""

    def check(page: Page) -> None:
        found = serious_violations(page, axe_source)
        assert found == [], f"{page.url}: {json.dumps(found, indent=1)}"

    return check
