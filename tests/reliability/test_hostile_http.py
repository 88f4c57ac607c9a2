"""Hostile HTTP input against every service of the running platform.

- ``schemathesis`` runs every operation (every path and method) of each service's OpenAPI
  document, positive and negative data, ``SMART_SCHEMATHESIS_EXAMPLES`` examples per operation
  (25 by default; more for a deeper run), and fails on any 5xx, any status or content type the
  operation does not document, and any response body that breaks its documented schema. It acts
  as an admin of branch FR, so it cannot disturb the BE data the other suites work on.
- Oversized bodies, with or without a Content-Length, are refused with a 413 problem.
- Floats, negative, zero, over-precise, non-finite and absurdly large amounts are refused with a
  400 problem naming the field, by every endpoint that takes money.
- MongoDB operators smuggled into query filters or cursors are plain values: harmless.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.platform import SERVICES, PlatformProcesses
from tests.reliability.saga import Tally, admin, staff, token

pytestmark = pytest.mark.integration

EXAMPLES = int(os.environ.get("SMART_SCHEMATHESIS_EXAMPLES", "25"))
PROBLEM = "application/problem+json"
# every answer's status and content type must be documented, and its body fit its schema
CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,"
          "response_schema_conformance")


def schemathesis_command() -> list[str]:
    pytest.importorskip("schemathesis", reason="schemathesis is a dev dependency")
    st = Path(sys.executable).with_name("st")
    return [str(st)] if st.exists() else [shutil.which("st") or "st"]


@pytest.mark.parametrize("service", SERVICES)
def test_schemathesis_finds_no_server_error_and_no_answer_outside_the_document(
    service: str, platform: PlatformProcesses, tally: Tally, tmp_path: Path,
) -> None:
    command = [
        *schemathesis_command(), "run", f"{platform.urls[service]}/schema/openapi.json",
        "--checks", CHECKS,
        "--max-examples", str(EXAMPLES), "--mode", "all",
        "--phases", "examples,coverage,fuzzing", "--no-shrink", "--seed", "20261126",
        "--request-timeout", "30", "--max-failures", "20",
        "--header", f"Authorization: Bearer {token(platform, 'admin', 'FR')}",
        "--report", "junit", "--report-dir", str(tmp_path),
    ]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=600,
                                cwd=tmp_path, env=dict(os.environ, NO_COLOR="1"))
    finally:
        if service == "contracts":
            # schemathesis may have switched the (deployment-wide) simulated social-security
            # gateway to failing: switch it back so the other suites' contracts get declared
            httpx.put(f"{platform.urls[service]}/v1/declaration-gateway-simulator",
                      json={"failing": False}, headers=admin(platform), timeout=30)
    generated = re.search(r"(\d+) generated", result.stdout)
    tally.faults["schemathesis inputs"] += int(generated[1]) if generated else 0
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]


# ---------------------------------------------------------------- oversized bodies

POSTS = {
    "members": "/v1/members",
    "contracts": "/v1/contracts",
    "billing": "/v1/payments",
    "payroll": "/v1/simulations",
    "fund": "/v1/fund/capital",
    "collection": "/v1/cases/some-case/write-off",
}


async def test_oversized_bodies_are_refused_with_a_413_problem(
    platform: PlatformProcesses, http: httpx.AsyncClient, tally: Tally,
) -> None:
    limit = int(platform.env.get("SMART_MAX_BODY_BYTES", 1_048_576))
    body = b'{"note": "' + b"a" * (limit + 1024) + b'"}'

    async def chunked() -> Any:
        for _ in range(limit // 65536 + 2):
            yield b"a" * 65536

    for service, path in POSTS.items():
        headers = dict(admin(platform), **{"content-type": "application/json",
                                           "Idempotency-Key": "oversized"})
        for content in (body, chunked()):
            response = await http.post(platform.urls[service] + path, content=content,
                                       headers=headers)
            tally.faults["oversized bodies"] += 1
            assert response.status_code == 413, (service, response.text[:300])
            assert response.headers["content-type"].startswith(PROBLEM)
            assert response.json()["status"] == 413


# ---------------------------------------------------------------- amounts

BAD_AMOUNTS: list[tuple[Any, str]] = [
    (100.5, "float"),
    (100, "integer"),
    ("-10.00", "negative"),
    ("0.00", "zero"),
    ("10.001", "over-precise"),
    ("NaN", "not a number"),
    ("Infinity", "infinite"),
    ("12,50", "comma"),
    ({"$gt": "0"}, "operator"),
    (True, "boolean"),
    ("\u0661\u0660.00", "Arabic-Indic digits"),
    ("\uff11\uff10.00", "fullwidth digits"),
    ("1e3", "exponent"),
    ("1E+999999", "huge exponent"),
]
HUGE = ("1" * 40, "forty digits")


def money_requests(
    platform: PlatformProcesses, amount: Any,
) -> list[tuple[str, str, dict[str, Any], str]]:
    """(service, path, body, field) for every endpoint that takes money, with ``amount``."""
    money = {"amount": amount, "currency": "EUR"}
    return [
        ("payroll", "/v1/simulations",
         {"branch": "BE", "activity_kind": "artistic", "amount_excl_vat": money},
         "amount_excl_vat"),
        ("fund", "/v1/fund/capital", {"amount": money, "note": "endowment"}, "amount"),
        ("billing", "/v1/payments",
         {"amount": money, "received_on": "2026-01-05", "payer_iban": "BE68539007547034",
          "invoice_id": "some-invoice"}, "amount"),
        ("billing", "/v1/invoices/some-invoice/credit-notes",
         {"amount": money, "reason": "goodwill"}, "amount"),
        ("members", "/v1/members/some-member/shares/some-share/payment", {"amount": money},
         "amount"),
        ("contracts", "/v1/contracts",
         {"member_id": "some-member", "activity": "musician", "description": "gig",
          "client": {"name": "Acme", "kind": "consumer", "country": "BE",
                     "email": "a@acme.be", "language": "fr",
                     "address": {"street": "Rue 1", "postal_code": "1000", "city": "Bxl",
                                 "country": "BE"}},
          "work_days": ["2030-01-07"], "amount_excl_vat": money}, "amount_excl_vat"),
        ("collection", "/v1/cases/some-case/payment-plan",
         {"instalments": [{"due_on": "2030-01-07", "amount": money}]}, "instalments"),
        ("collection", "/v1/loan-cases/some-case/payments", {"amount": money}, "amount"),
    ]


async def assert_refused_naming(http: httpx.AsyncClient, platform: PlatformProcesses,
                                amount: Any, what: str) -> int:
    tried = 0
    headers = dict(admin(platform), **{"Idempotency-Key": f"bad-amount-{what}"})
    for service, path, body, field in money_requests(platform, amount):
        response = await http.post(platform.urls[service] + path, json=body, headers=headers)
        tried += 1
        assert response.status_code == 400, (what, service, path, response.status_code,
                                              response.text[:400])
        assert response.headers["content-type"].startswith(PROBLEM)
        problem = response.json()
        fields = [e["field"] for e in problem.get("errors", [])]
        assert any(field in f for f in fields), (what, service, fields, problem)
    return tried


async def test_bad_amounts_are_refused_with_a_problem_naming_the_field(
    platform: PlatformProcesses, http: httpx.AsyncClient, tally: Tally,
) -> None:
    for amount, what in BAD_AMOUNTS:
        tally.faults["bad amounts"] += await assert_refused_naming(http, platform, amount, what)


async def test_absurdly_large_amounts_are_refused_with_a_problem_naming_the_field(
    platform: PlatformProcesses, http: httpx.AsyncClient, tally: Tally,
) -> None:
    tally.faults["bad amounts"] += await assert_refused_naming(http, platform, *HUGE)


# ---------------------------------------------------------------- injection in filters

OPERATORS = ['{"$gt": ""}', '{"$ne": null}', '{"$where": "sleep(1000)"}', '{"$regex": ".*"}']


def cursor_of(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


async def test_operators_in_query_filters_are_harmless(
    platform: PlatformProcesses, http: httpx.AsyncClient, tally: Tally,
) -> None:
    lists = {
        "members": ("/v1/members", ["status", "activity"]),
        "contracts": ("/v1/contracts", ["member_id", "status"]),
        "billing": ("/v1/invoices", ["contract_id", "status", "client"]),
        "payroll": ("/v1/salaries", ["member_id", "status"]),
        "fund": ("/v1/fund/transfers", ["contract_id", "branch"]),
        "collection": ("/v1/cases", ["status", "level"]),
    }
    be_staff = staff(platform)
    for service, (path, fields) in lists.items():
        url = platform.urls[service] + path
        for field in fields:
            attempts: list[dict[str, str]] = [{field: op} for op in OPERATORS]
            attempts += [{f"{field}[$ne]": "x"}, {f"{field}[$gt]": ""}]
            for params in attempts:
                response = await http.get(url, params=params, headers=be_staff)
                tally.faults["injection attempts"] += 1
                assert response.status_code in (200, 400, 403), (service, params, response.text)
                if response.status_code == 200:
                    # a filter on a literal that matches nothing, or an unknown parameter that
                    # filters nothing: never "everything of every branch"
                    items = response.json()["items"]
                    assert all(i.get("branch", "BE") == "BE" for i in items), (service, params)
                    if "[" not in next(iter(params)):
                        assert items == [], (service, params, items[:1])
                else:
                    assert response.headers["content-type"].startswith(PROBLEM)
        for cursor in ({"$gt": ""}, {"$where": "1"}, [1, 2], None, "x" * 600):
            response = await http.get(url, params={"cursor": cursor_of(cursor)}, headers=be_staff)
            tally.faults["injection attempts"] += 1
            assert response.status_code in (200, 400), (service, cursor, response.text)
        response = await http.get(url, params={"cursor": "not base64 !"}, headers=be_staff)
        assert response.status_code in (200, 400)
    # a member smuggling an operator for member_id still sees only their own data
    member_token = {"Authorization": f"Bearer {token(platform, 'member', 'BE', 'nobody')}"}
    for service, path in [("contracts", "/v1/contracts"), ("billing", "/v1/invoices"),
                          ("payroll", "/v1/salaries")]:
        for params in ({"member_id": '{"$ne": null}'}, {"member_id[$ne]": "nobody"}):
            response = await http.get(platform.urls[service] + path, params=params,
                                      headers=member_token)
            assert response.status_code in (200, 400, 403), (service, response.text)
            if response.status_code == 200:
                assert response.json()["items"] == [], (service, params)
