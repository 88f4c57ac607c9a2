"""A fresh sign-in link for each person of the demo, members and staff, to open the portal as them.

The links are made the way anyone gets one: the demo asks members' public
``POST /v1/login-links`` for each address, and reads the mail that members sends from the local
Mailpit's API, as the person would from their inbox. Nothing secret travels any other way: the
token lives in members' mail outbox until the mail is sent, and in the mail. Each link works
once, within 15 minutes of platform time.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
import uuid
from dataclasses import dataclass

import httpx
from smart_shared.auth import mint_token
from smart_shared.settings import Settings

from tests.demo.scenario import Summary
from tests.platform import PlatformProcesses

WAIT = 20.0  # seconds for one mail to reach Mailpit (members' mail relay polls every second)
# staff of the demo (added by their branch's admin on every run: addresses are fresh each time)
STAFF = (("Ana Dumont", "BE", "admin", "fr"), ("Lotte Claes", "BE", "staff", "nl"),
         ("Camille Roux", "FR", "staff", "fr"))


@dataclass(frozen=True)
class Person:
    name: str
    role: str
    branch: str
    email: str


@dataclass(frozen=True)
class LoginLink:
    person: Person
    link: str | None  # None: no mail came (the platform says why in `make logs`)


def mailpit_url() -> str:
    """Where the launcher's Mailpit answers (``SMART_MAILPIT_URL``, else its port)."""
    return os.environ.get("SMART_MAILPIT_URL",
                          f"http://127.0.0.1:{os.environ.get('SMART_MAILPIT_PORT', '8025')}")


async def add_staff(platform: PlatformProcesses, http: httpx.AsyncClient) -> list[Person]:
    """The demo's staff identities, each added by an admin of its branch (``POST /v1/staff``)."""
    tag = uuid.uuid4().hex[:6]
    people = []
    for name, branch, role, language in STAFF:
        first = name.split()[0].lower()
        person = Person(name, role, branch, f"{first}.{tag}@staff.example.org")
        admin = mint_token(Settings(), "admin", branch, sub="demo-admin")
        answer = await http.post(f"{platform.urls['members']}/v1/staff",
                                 headers={"Authorization": f"Bearer {admin}"},
                                 json={"email": person.email, "name": name, "branch": branch,
                                       "role": role, "language": language})
        answer.raise_for_status()
        people.append(person)
    return people


async def mailed_link(http: httpx.AsyncClient, mailpit: str, email: str,
                      portal: str) -> str | None:
    """The sign-in link of the newest mail to ``email`` (every demo address is fresh)."""
    pattern = re.compile(rf"{re.escape(portal.rstrip('/'))}/login/[A-Za-z0-9_\-]+")
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        found = (await http.get(f"{mailpit}/api/v1/search",
                                params={"query": f"to:{email}", "limit": 1})).json()
        for summary in found.get("messages") or []:
            message = (await http.get(f"{mailpit}/api/v1/message/{summary['ID']}")).json()
            link = pattern.search(message.get("Text", ""))
            if link:
                return link.group(0)
        await asyncio.sleep(0.5)
    return None


async def login_links(platform: PlatformProcesses, summary: Summary,
                      mailpit: str | None = None) -> list[LoginLink]:
    """Ask members for a sign-in link for every demo member and staff, and read it from the
    mail; the links lead to the portal (``SMART_PORTAL_URL``)."""
    mailpit = mailpit or mailpit_url()
    portal = platform.env.get("SMART_PORTAL_URL", "http://127.0.0.1:8000")
    async with httpx.AsyncClient(timeout=30) as http:
        people = [Person(m.name, "member", m.branch, m.email)
                  for m in summary.members if m.email and m.status == "active"]
        people += await add_staff(platform, http)
        for person in people:
            answer = await http.post(f"{platform.urls['members']}/v1/login-links",
                                     json={"email": person.email, "branch": person.branch})
            answer.raise_for_status()
        links = await asyncio.gather(*(mailed_link(http, mailpit, p.email, portal)
                                       for p in people))
    return [LoginLink(person, link) for person, link in zip(people, links, strict=True)]


def render_links(links: list[LoginLink]) -> str:
    """The table ``make up`` ends with."""
    lines = ["\nSIGN IN AS (each link works once, within 15 minutes; more at /login)"]
    width = max((len(f"{x.person.name} ({x.person.role}, {x.person.branch})") for x in links),
                default=0)
    for x in links:
        who = f"{x.person.name} ({x.person.role}, {x.person.branch})"
        lines.append(f"  {who:<{width}}  {x.link or 'no mail came: see make logs'}")
    return "\n".join(lines)
