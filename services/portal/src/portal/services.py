"""Calls to the six services' public APIs, with the signed-in person's token (or none).

The portal reads nothing of theirs but what their APIs answer: a refusal comes back as
``Refused`` with the problem document's fields, so a page can show each error by its field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from portal.settings import PortalSettings


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


class Services:
    """One HTTP client for every service; ``token`` is the caller's platform token."""

    def __init__(self, settings: PortalSettings, http: httpx.AsyncClient,
                 token: str | None = None, client_address: str | None = None) -> None:
        self.settings = settings
        self.http = http
        self.token = token
        self.client_address = client_address

    def acting_as(self, token: str | None, client_address: str | None = None) -> Services:
        """The same client, calling for a person: their token, and their address so that the
        services' rate limits count that person rather than the portal."""
        return Services(self.settings, self.http, token, client_address)

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
                   files: dict[str, Any] | None = None) -> httpx.Response:
        """The raw answer (documents: PDF, UBL, pain.001); raises ``Refused`` on 4xx/5xx."""
        response = await self.http.request(
            method, f"{self.settings.service_url(service)}{path}", json=json,
            params={k: v for k, v in (params or {}).items() if v is not None} or None,
            headers=self._headers(headers), files=files)
        if response.status_code >= 400:
            raise Refused.of(response)
        return response

    async def get(self, service: str, path: str, **params: Any) -> Any:
        return (await self.call("GET", service, path, params=params)).json()

    async def post(self, service: str, path: str, json: Any = None,
                   headers: dict[str, str] | None = None) -> Any:
        response = await self.call("POST", service, path, json=json, headers=headers)
        return response.json() if response.content else None

    async def patch(self, service: str, path: str, json: Any) -> Any:
        return (await self.call("PATCH", service, path, json=json)).json()

    async def items(self, service: str, path: str, limit: int = 100, **params: Any,
                    ) -> list[dict[str, Any]]:
        """The first page of a list (the portal shows the latest ``limit``)."""
        page = await self.get(service, path, limit=limit, **params)
        return list(page.get("items", []))
