"""Calls to the six services' public APIs, with the signed-in person's token (or none).

The portal reads nothing of theirs but what their APIs answer: a refusal comes back as
``Refused`` with the problem document's fields, so a page can show each error by its field; a
service that does not answer at all raises ``Unreachable``.
"""

from __future__ import annotations

import asyncio
import json as json_module
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import aiohttp
from opentelemetry import propagate

from portal.settings import SERVICES, PortalSettings

# below the services' keep-alive (uvicorn closes an idle connection after 5 s), so the portal
# never sends on a connection the service is closing
KEEP_ALIVE_SECONDS = 4.0


@dataclass(frozen=True)
class Answer:
    """A service's answer, read whole: a page renders it or hands a document over."""

    status_code: int
    reason_phrase: str
    headers: Mapping[str, str]
    content: bytes

    def json(self) -> Any:
        return json_module.loads(self.content)


class Unreachable(Exception):
    """A service did not answer: refused, reset or timed out (the portal shows a 502 page)."""


@dataclass
class Refused(Exception):
    """A service refused: its status and problem document (``errors`` by field name)."""

    status: int
    title: str
    detail: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, response: Answer) -> Refused:
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        errors: dict[str, str] = {}
        for error in body.get("errors") or []:
            if isinstance(error, dict) and "field" in error:
                errors.setdefault(str(error["field"]), str(error.get("message", "")))
        return cls(response.status_code, str(body.get("title", response.reason_phrase)),
                   str(body.get("detail", "")), errors)


# a form file: (file name, bytes, media type)
Upload = tuple[str, bytes, str]


class Transport(Protocol):
    """How ``Services`` reaches a service (``ServiceClients``; a test may answer itself)."""

    async def request(self, service: str, method: str, path: str, *,
                      query: list[tuple[str, str]], json: Any,
                      headers: dict[str, str], files: dict[str, Upload] | None) -> Answer: ...


class ServiceClients:
    """One pooled aiohttp session per service: a page's parallel calls to four services keep
    their own warm connections instead of churning one shared pool. A call costs a fraction of
    what a fuller client costs in CPU, which is most of what a page costs the portal."""

    def __init__(self, settings: PortalSettings, timeout: float = 15) -> None:
        self.urls = {name: settings.service_url(name) for name in SERVICES}
        self.timeout = timeout
        self._sessions: dict[str, aiohttp.ClientSession] = {}

    async def start(self) -> None:
        """Open the sessions (in the running event loop)."""
        for name, url in self.urls.items():
            connector = aiohttp.TCPConnector(limit=64, keepalive_timeout=KEEP_ALIVE_SECONDS)
            self._sessions[name] = aiohttp.ClientSession(
                base_url=url, connector=connector,
                timeout=aiohttp.ClientTimeout(total=self.timeout))

    async def close(self) -> None:
        sessions, self._sessions = self._sessions, {}
        await asyncio.gather(*(session.close() for session in sessions.values()))

    async def request(self, service: str, method: str, path: str, *,
                      query: list[tuple[str, str]], json: Any,
                      headers: dict[str, str], files: dict[str, Upload] | None) -> Answer:
        form = None
        if files:
            form = aiohttp.FormData()
            for name, (filename, content, media_type) in files.items():
                form.add_field(name, content, filename=filename, content_type=media_type)
        try:
            async with self._sessions[service].request(
                    method, path, params=query or None, json=json, data=form,
                    headers=headers) as response:
                return Answer(response.status, response.reason or "", response.headers,
                              await response.read())
        except (aiohttp.ClientError, TimeoutError) as error:
            raise Unreachable(f"{service}: {error!r}") from error


def _query(params: dict[str, Any] | None) -> list[tuple[str, str]]:
    """Query parameters as the services read them (booleans as ``true``/``false``, lists
    repeated, None left out)."""
    pairs: list[tuple[str, str]] = []
    for key, value in (params or {}).items():
        for one in value if isinstance(value, list | tuple) else [value]:
            if one is not None:
                pairs.append((key, str(one).lower() if isinstance(one, bool) else str(one)))
    return pairs


class RecentReads:
    """What people read in the last few seconds, per session and per change of theirs.

    A key names the session and how many commands its person had sent when it was read
    (``SignedIn.changes``): once they send another, from any session or portal replica, their
    next page reads afresh, so nobody sees their own change missing. What others change shows
    within ``seconds``.
    """

    def __init__(self, seconds: float, size: int = 2_000) -> None:
        self.seconds = seconds
        self.size = size
        self._answers: OrderedDict[tuple[Any, ...], tuple[float, Any]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._answers)

    def get(self, key: tuple[Any, ...]) -> Any:
        found = self._answers.get(key)
        if found is None:
            return None
        if found[0] < time.monotonic():
            del self._answers[key]
            return None
        return found[1]

    def keep(self, key: tuple[Any, ...], answer: Any) -> None:
        if self.seconds <= 0:
            return
        now = time.monotonic()
        self._answers[key] = (now + self.seconds, answer)
        self._answers.move_to_end(key)
        # kept in the order they expire: what is over goes first, then the oldest beyond size
        while self._answers and (len(self._answers) > self.size
                                 or next(iter(self._answers.values()))[0] < now):
            self._answers.popitem(last=False)


@dataclass(frozen=True)
class Listing:
    """One page of a history: its records, the cursor it was read at (none for the newest) and
    the one of the older records after it (none when these are the oldest)."""

    items: list[dict[str, Any]]
    cursor: str | None
    older: str | None


@dataclass(frozen=True)
class Reader:
    """A signed-in person's place in ``RecentReads``, and how to say they changed something."""

    reads: RecentReads
    session: str
    changes: int
    changed: Callable[[], Awaitable[None]]


class Services:
    """One HTTP client per service; ``token`` is the caller's platform token."""

    def __init__(self, settings: PortalSettings, http: Transport,
                 token: str | None = None, client_address: str | None = None,
                 reader: Reader | None = None) -> None:
        self.settings = settings
        self.http = http
        self.token = token
        self.client_address = client_address
        self.reader = reader

    def acting_as(self, token: str | None, client_address: str | None = None,
                  reader: Reader | None = None) -> Services:
        """The same clients, calling for a person: their token, and their address so that the
        services' rate limits count that person rather than the portal."""
        return Services(self.settings, self.http, token, client_address, reader)

    def anonymously(self) -> Services:
        """The same person's address, without their token (a client's capability link)."""
        return Services(self.settings, self.http, None, self.client_address)

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = dict(extra or {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if self.client_address:
            headers["X-Forwarded-For"] = self.client_address
        propagate.inject(headers)  # the service's spans join the page's trace
        return headers

    async def call(self, method: str, service: str, path: str, *,
                   json: Any = None, params: dict[str, Any] | None = None,
                   headers: dict[str, str] | None = None,
                   files: dict[str, Upload] | None = None,
                   changes: bool | None = None) -> Answer:
        """The raw answer (documents: PDF, UBL, pain.001); raises ``Refused`` on 4xx/5xx.

        Anything but a GET may change something (``changes=False`` for a read sent as POST):
        once it is answered, the person's recent reads are no longer theirs to see."""
        try:
            response = await self.http.request(
                service, method, path, query=_query(params), json=json,
                headers=self._headers(headers), files=files)
        finally:
            if self.reader is not None and (method != "GET" if changes is None else changes):
                await self.reader.changed()
        if response.status_code >= 400:
            raise Refused.of(response)
        return response

    async def get(self, service: str, path: str, **params: Any) -> Any:
        return (await self.call("GET", service, path, params=params)).json()

    async def recent(self, service: str, path: str, **params: Any) -> Any:
        """``get``, or the same person's same read of the last few seconds if they changed
        nothing since (pages that show a summary, like the dashboard; never a form to act on)."""
        if self.reader is None:
            return await self.get(service, path, **params)
        key = (self.reader.session, self.reader.changes, service, path,
               tuple(sorted(params.items())))
        answer = self.reader.reads.get(key)
        if answer is None:
            answer = await self.get(service, path, **params)
            self.reader.reads.keep(key, answer)
        return answer

    async def post(self, service: str, path: str, json: Any = None,
                   headers: dict[str, str] | None = None, changes: bool = True) -> Any:
        response = await self.call("POST", service, path, json=json, headers=headers,
                                   changes=changes)
        return response.json() if response.content else None

    async def patch(self, service: str, path: str, json: Any) -> Any:
        return (await self.call("PATCH", service, path, json=json)).json()

    async def items(self, service: str, path: str, limit: int = 100, recent: bool = False,
                    **params: Any) -> list[dict[str, Any]]:
        """The first page of a list (the portal shows the latest ``limit``)."""
        read = self.recent if recent else self.get
        page = await read(service, path, limit=limit, **params)
        return list(page.get("items", []))

    async def history(self, service: str, path: str, cursor: str | None,
                      **params: Any) -> Listing:
        """One page of a history, newest first: the newest ``page_size`` records, or those
        before ``cursor`` (a cursor of the service's, from the page before)."""
        query = {**params, "order": "newest", "limit": self.settings.page_size}
        if cursor:
            query["cursor"] = cursor
        page = await self.get(service, path, **query)
        return Listing(list(page.get("items", [])), cursor or None, page.get("next_cursor"))
