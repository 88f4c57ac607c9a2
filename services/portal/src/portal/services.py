"""Calls to the six services' public APIs, with the signed-in person's token (or none).

The portal reads nothing of theirs but what their APIs answer: a refusal comes back as
``Refused`` with the problem document's fields, so a page can show each error by its field.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from portal.settings import SERVICES, PortalSettings

# below the services' keep-alive (uvicorn closes an idle connection after 5 s), so the portal
# never sends on a connection the service is closing
KEEP_ALIVE_SECONDS = 4.0


@dataclass
class Refused(Exception):
    """A service refused: its status and problem document (``errors`` by field name)."""

    status: int
    title: str
    detail: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, response: httpx.Response) -> Refused:
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


def service_clients(settings: PortalSettings, timeout: float = 15) -> dict[str, httpx.AsyncClient]:
    """One pooled client per service: a page's parallel calls to four services keep their own
    warm connections instead of churning one shared pool."""
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=32,
                          keepalive_expiry=KEEP_ALIVE_SECONDS)
    return {name: httpx.AsyncClient(base_url=settings.service_url(name), timeout=timeout,
                                    limits=limits) for name in SERVICES}


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
class Reader:
    """A signed-in person's place in ``RecentReads``, and how to say they changed something."""

    reads: RecentReads
    session: str
    changes: int
    changed: Callable[[], Awaitable[None]]


class Services:
    """One HTTP client per service; ``token`` is the caller's platform token."""

    def __init__(self, settings: PortalSettings, http: dict[str, httpx.AsyncClient],
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
        return headers

    async def call(self, method: str, service: str, path: str, *,
                   json: Any = None, params: dict[str, Any] | None = None,
                   headers: dict[str, str] | None = None,
                   files: dict[str, Any] | None = None,
                   changes: bool | None = None) -> httpx.Response:
        """The raw answer (documents: PDF, UBL, pain.001); raises ``Refused`` on 4xx/5xx.

        Anything but a GET may change something (``changes=False`` for a read sent as POST):
        once it is answered, the person's recent reads are no longer theirs to see."""
        try:
            response = await self.http[service].request(
                method, path, json=json,
                params={k: v for k, v in (params or {}).items() if v is not None} or None,
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
