"""Requests without a valid token are rate-limited per address: public registration, the client's
signing link, and every other endpoint an anonymous caller can reach (real services, real Kafka
and MongoDB, a low limit so the test is short)."""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest
from smart_shared.auth import mint_token
from smart_shared.service import Service
from smart_testing import isolated_settings, serving

pytestmark = pytest.mark.integration

BURST = 3
PUBLIC_ENDPOINTS = [
    ("members", "POST", "/v1/members"),                       # registration
    ("contracts", "POST", "/v1/contracts/sign/some-token"),   # the client's signing link
    ("billing", "GET", "/v1/invoices"),                       # anything else, answered 401
]


def _build(name: str) -> Service:
    settings = isolated_settings(name, SMART_PUBLIC_RATE_PER_MINUTE=6, SMART_PUBLIC_BURST=BURST)
    app: Any = importlib.import_module(f"{name}.app")
    return app.create_service(settings)  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
async def services(infrastructure: Any) -> AsyncIterator[dict[str, tuple[str, Service]]]:
    running: dict[str, tuple[str, Service]] = {}
    async with AsyncExitStack() as stack:
        for name in ("members", "contracts", "billing"):
            service = _build(name)
            running[name] = (await stack.enter_async_context(serving(service.app)), service)
        yield running
        for _, service in running.values():
            if service.platform is not None:
                await service.platform.database.client.drop_database(
                    service.settings.database_name)


@pytest.mark.parametrize(("service", "method", "path"), PUBLIC_ENDPOINTS)
async def test_anonymous_requests_beyond_the_burst_get_a_429_problem_with_retry_after(
    services: dict[str, tuple[str, Service]], service: str, method: str, path: str,
) -> None:
    url, _ = services[service]
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        answers = [await http.request(method, path, json={}) for _ in range(BURST + 1)]
        health = await http.get("/health/live")

    assert all(a.status_code != 429 for a in answers[:BURST]), [a.status_code for a in answers]
    limited = answers[BURST]
    assert limited.status_code == 429, limited.text
    assert limited.headers["content-type"].startswith("application/problem+json")
    assert int(limited.headers["Retry-After"]) >= 1
    assert limited.json()["status"] == 429 and limited.json()["retry_after"] >= 1
    assert health.status_code == 200  # probes are never limited


async def test_a_valid_token_is_not_limited_and_a_forged_one_is(
    services: dict[str, tuple[str, Service]],
) -> None:
    url, service = services["billing"]
    valid = {"Authorization": f"Bearer {mint_token(service.settings, 'staff', 'BE')}"}
    forged = {"Authorization": "Bearer eyJhbGciOiJub25lIn0.e30."}
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        with_token = [await http.get("/v1/invoices", headers=valid) for _ in range(BURST + 3)]
        with_forgery = [await http.get("/v1/invoices", headers=forged) for _ in range(BURST + 1)]

    assert [a.status_code for a in with_token] == [200] * (BURST + 3)
    assert with_forgery[-1].status_code == 429
