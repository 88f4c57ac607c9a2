"""Authorisation across every service of the running platform.

A member cannot read or change another member's data in any service; staff of one branch see
nothing of another branch; expired, unsigned (``alg: none``), tampered, wrongly signed or
wrong-algorithm tokens are refused with a 401 problem; a contract's signing link works once.
"""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import httpx
import jwt
import pytest
import pytest_asyncio
from smart_shared.auth import mint_token

from tests.platform import PlatformProcesses
from tests.reliability.saga import (
    Saga,
    Tally,
    bearer,
    call,
    eventually,
    list_all,
    member,
    settings_of,
    staff,
)

pytestmark = pytest.mark.integration

DENIED = {403, 404}


class World:
    """Member A's whole footprint: contract, invoice, salary, guarantee, dunning case."""

    def __init__(self, saga: Saga) -> None:
        self.saga = saga
        self.a = ""
        self.b = ""
        self.ids: dict[str, str] = {}

    def url(self, service: str, path: str) -> str:
        return self.saga.url(service, path)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def world(platform: PlatformProcesses) -> Any:
    async with httpx.AsyncClient(timeout=30) as http:
        saga = Saga(platform, http)
        w = World(saga)
        w.a = await saga.register()
        w.b = await saga.register()
        contract_id = await saga.contract(await saga.today() + timedelta(days=1))
        await platform.advance_clock(timedelta(days=4))
        invoices = await eventually(saga.invoices, timeout=120, what="A's invoice")
        invoice = invoices[contract_id]

        async def salary() -> list[dict[str, Any]]:
            return await list_all(http, saga.url("payroll", "/v1/salaries"), staff(platform),
                                  member_id=w.a)

        salaries = await eventually(salary, timeout=120, what="A's salary")
        await platform.advance_clock(timedelta(days=35))  # the invoice falls overdue

        async def case() -> list[dict[str, Any]]:
            cases = await list_all(http, saga.url("collection", "/v1/cases"), staff(platform))
            return [c for c in cases if c.get("invoice_id") == invoice["invoice_id"]]

        cases = await eventually(case, timeout=120, what="A's dunning case")
        w.ids = {"contract": contract_id, "invoice": invoice["invoice_id"],
                 "salary": salaries[0]["salary_id"], "case": cases[0]["case_id"]}
        yield w


def a_resources(w: World) -> list[tuple[str, str, str, dict[str, Any] | None]]:
    """(service, method, path, body) of everything that belongs to member A."""
    a, ids = w.a, w.ids
    return [
        ("members", "GET", f"/v1/members/{a}", None),
        ("members", "PATCH", f"/v1/members/{a}", {"email": "mallory@example.be"}),
        ("members", "POST", f"/v1/members/{a}/shares", {"count": 1}),
        ("members", "POST", f"/v1/members/{a}/erasure", None),
        ("contracts", "GET", f"/v1/contracts/{ids['contract']}", None),
        ("contracts", "POST", f"/v1/contracts/{ids['contract']}/submit", None),
        ("contracts", "POST", f"/v1/contracts/{ids['contract']}/cancel", {"reason": "mine now"}),
        ("billing", "GET", f"/v1/invoices/{ids['invoice']}", None),
        ("billing", "GET", f"/v1/invoices/{ids['invoice']}/pdf", None),
        ("billing", "GET", f"/v1/invoices/{ids['invoice']}/ubl", None),
        ("payroll", "GET", f"/v1/salaries/{ids['salary']}", None),
        ("payroll", "GET", f"/v1/salaries/{ids['salary']}/payslip.pdf", None),
        ("fund", "GET", f"/v1/guarantees/{ids['contract']}", None),
        ("collection", "GET", f"/v1/cases/{ids['case']}", None),
    ]


async def test_a_member_cannot_read_or_change_another_members_data_anywhere(
    world: World, platform: PlatformProcesses, http: httpx.AsyncClient, tally: Tally,
) -> None:
    b_headers = member(platform, world.b)
    for service, method, path, body in a_resources(world):
        response = await http.request(method, world.url(service, path), headers=b_headers,
                                      json=body)
        tally.faults["cross-member requests"] += 1
        assert response.status_code in DENIED, (service, method, path, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    # A's own token reaches every one of them (the denial above is about who asks)
    a_headers = member(platform, world.a)
    for service, method, path, _ in a_resources(world):
        if method == "GET":
            response = await http.get(world.url(service, path), headers=a_headers)
            assert response.status_code == 200, (service, path, response.text)
    # lists show B nothing of A, and filtering by A is refused or empty
    for service, path in [("contracts", "/v1/contracts"), ("billing", "/v1/invoices"),
                          ("payroll", "/v1/salaries")]:
        response = await http.get(world.url(service, path), headers=b_headers,
                                  params={"member_id": world.a})
        if response.status_code == 200:
            assert all(item.get("member_id") != world.a for item in response.json()["items"])
        else:  # contracts: 403; payroll: 400 naming member_id
            assert response.status_code in DENIED | {400}, (service, response.text)
            assert response.headers["content-type"].startswith("application/problem+json")
    for service, path in [("members", "/v1/members"), ("collection", "/v1/cases"),
                          ("fund", "/v1/fund"), ("fund", "/v1/fund/transfers")]:
        response = await http.get(world.url(service, path), headers=b_headers)
        assert response.status_code == 403, (service, path)
    # nothing changed for A
    a_now = (await http.get(world.url("members", f"/v1/members/{world.a}"),
                            headers=a_headers)).json()
    assert a_now["email"] != "mallory@example.be" and a_now["status"] == "active"


async def test_staff_of_one_branch_see_nothing_of_another(
    world: World, platform: PlatformProcesses, http: httpx.AsyncClient, tally: Tally,
) -> None:
    fr = staff(platform, "FR")
    for service, method, path, body in a_resources(world):
        response = await http.request(method, world.url(service, path), headers=fr, json=body)
        tally.faults["cross-branch requests"] += 1
        assert response.status_code in DENIED, (service, method, path, response.text)
    for service, path in [("members", "/v1/members"), ("contracts", "/v1/contracts"),
                          ("billing", "/v1/invoices"), ("payroll", "/v1/salaries"),
                          ("collection", "/v1/cases"), ("fund", "/v1/fund/transfers")]:
        items = await list_all(http, world.url(service, path), fr)
        assert all(item.get("branch", "FR") == "FR" for item in items), (service, items[:1])
    for path in ["/v1/fund?branch=BE", "/v1/fund/check?branch=BE",
                 "/v1/fund/transfers?branch=BE"]:
        response = await http.get(world.url("fund", path), headers=fr)
        assert response.status_code == 403, path


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def bad_tokens(platform: PlatformProcesses, member_id: str) -> dict[str, str]:
    settings = settings_of(platform)
    good = mint_token(settings, "staff", "BE")
    header, payload, signature = good.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    promoted = dict(claims, role="admin", branch="FR")
    return {
        "expired": mint_token(settings, "staff", "BE", ttl=timedelta(seconds=-30)),
        "unsigned (alg none)": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}.",
        "tampered payload": f"{header}.{_b64(promoted)}.{signature}",
        "tampered signature": f"{header}.{payload}.{signature[:-4]}AAAA",
        "another secret": jwt.encode(claims, "not-the-platform-secret-at-all-32b",
                                     algorithm="HS256"),
        "wrong algorithm (HS512)": jwt.encode(claims, settings.jwt_secret, algorithm="HS512"),
        "no expiry": jwt.encode({k: v for k, v in claims.items() if k != "exp"},
                                settings.jwt_secret, algorithm="HS256"),
        "unknown role": jwt.encode(dict(claims, role="root"), settings.jwt_secret,
                                   algorithm="HS256"),
        "member without member_id": jwt.encode(dict(claims, role="member"),
                                               settings.jwt_secret, algorithm="HS256"),
        "garbage": "not.a.jwt",
    }


async def test_bad_tokens_are_refused_with_a_401_problem_by_every_service(
    world: World, platform: PlatformProcesses, http: httpx.AsyncClient, tally: Tally,
) -> None:
    protected = {"members": f"/v1/members/{world.a}", "contracts": "/v1/contracts",
                 "billing": "/v1/invoices", "payroll": "/v1/salaries",
                 "fund": "/v1/fund", "collection": "/v1/cases"}
    for kind, value in bad_tokens(platform, world.a).items():
        for service, path in protected.items():
            response = await http.get(world.url(service, path), headers=bearer(value))
            tally.faults["bad tokens tried"] += 1
            assert response.status_code == 401, (kind, service, response.text)
            assert response.headers["content-type"].startswith("application/problem+json")
            assert response.headers.get("www-authenticate") == "Bearer"
    for service, path in protected.items():
        for headers in ({}, {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer"}):
            response = await http.get(world.url(service, path), headers=headers)
            assert response.status_code == 401, (service, headers)


async def test_the_signing_link_works_once(
    world: World, platform: PlatformProcesses, http: httpx.AsyncClient,
) -> None:
    saga = Saga(platform, http)
    saga.members.append(world.b)
    contract_id = await saga.draft(world.b, 1, await saga.today() + timedelta(days=3))
    submitted = await call(http, "POST", saga.url("contracts",
                                                  f"/v1/contracts/{contract_id}/submit"),
                           headers=member(platform, world.b))
    path = submitted.json()["signing_path"]
    first = await http.post(saga.url("contracts", path))
    assert first.status_code == 200 and first.json()["status"] == "signed", first.text
    again = await http.post(saga.url("contracts", path))
    assert again.status_code == 410, again.text
    assert again.headers["content-type"].startswith("application/problem+json")
    unknown = await http.post(saga.url("contracts", "/v1/contracts/sign/" + "x" * 43))
    assert unknown.status_code == 404
    # the token is nowhere in the contract as its owner reads it
    token = path.rsplit("/", 1)[1]
    shown = await http.get(saga.url("contracts", f"/v1/contracts/{contract_id}"),
                           headers=member(platform, world.b))
    assert token not in shown.text
