"""The six OpenAPI documents say what the services really answer.

Each document, as the service serves it at ``/schema/openapi.json``, passes
``openapi-spec-validator``; every error answer is an RFC 9457 problem document
(``application/problem+json``); every operation lists the problems the platform's own layers give
(400, 401/403 with a token, 404 for a path id, 413 for a body, 422 for an ``Idempotency-Key``, 429
for anonymous callers); only the public endpoints go without a token; documents and metrics are
in their own content types. Whether the services keep to these documents is schemathesis' part
(``tests/reliability/test_hostile_http.py``).
"""

from __future__ import annotations

import importlib
from functools import cache
from typing import Any

import pytest
from litestar.testing import TestClient
from openapi_spec_validator import validate

from tests.platform import SERVICES

PROBLEM = "application/problem+json"
PROBLEM_REF = "#/components/schemas/ProblemDetails"
METHODS = ("get", "post", "put", "patch", "delete")
UNLIMITED = ("/health", "/metrics")
ALWAYS_PUBLIC = {"GET /health/live", "GET /health/ready", "GET /metrics"}
PUBLIC = {
    "members": {"POST /v1/members", "POST /v1/login-links", "POST /v1/sessions",
                "GET /.well-known/jwks.json"},
    "contracts": {"GET /v1/contracts/sign/{token}", "POST /v1/contracts/sign/{token}",
                  "GET /v1/contracts/sign/{token}/document",
                  "GET /v1/contracts/sign/{token}/insurance-certificate"},
    "billing": {"POST /v1/client-invoices", "POST /v1/client-invoices/document"},
    "payroll": set(),
    "fund": set(),
    "collection": {"POST /v1/payment-plan-requests", "POST /v1/letter-documents"},
}
PDF, XML, JSON = "application/pdf", "application/xml", "application/json"
CONTENT_TYPES = {
    "collection": {
        "GET /v1/cases/{case_id}/letters/{level}": {PDF},
        "POST /v1/letter-documents": {PDF},
    },
    "billing": {
        "GET /v1/invoices/{invoice_id}": {JSON, PDF, XML},
        "GET /v1/invoices/{invoice_id}/pdf": {PDF},
        "GET /v1/invoices/{invoice_id}/ubl": {XML},
        "GET /v1/invoices/{invoice_id}/credit-notes/{credit_note_id}/pdf": {PDF},
        "GET /v1/invoices/{invoice_id}/credit-notes/{credit_note_id}/ubl": {XML},
        "POST /v1/client-invoices/document": {PDF, XML},
        "POST /v1/refunds/file": {XML},
    },
    "contracts": {
        "GET /v1/contracts/{contract_id}/document": {PDF},
        "GET /v1/contracts/sign/{token}/document": {PDF},
        "GET /v1/contracts/{contract_id}/insurance-certificate": {PDF},
        "GET /v1/contracts/sign/{token}/insurance-certificate": {PDF},
    },
    "fund": {
        "GET /v1/loan-disbursements/{disbursement_id}/pain.001.xml": {XML},
        "GET /v1/loan-collections/{collection_id}/pain.008.xml": {XML},
    },
    "payroll": {
        "GET /v1/salaries/{salary_id}/payslip.pdf": {PDF},
        "GET /v1/payment-runs/{run_id}/pain.001.xml": {XML},
    },
}


@cache
def document(service: str) -> dict[str, Any]:
    """The document as the service serves it (built without starting the service)."""
    app = importlib.import_module(f"{service}.app").app
    response = TestClient(app).get("/schema/openapi.json")
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


def operations(service: str) -> dict[str, dict[str, Any]]:
    """``"METHOD /path"`` → operation, for every operation of the document."""
    return {f"{method.upper()} {path}": operation
            for path, item in document(service)["paths"].items()
            for method, operation in item.items() if method in METHODS}


def statuses(operation: dict[str, Any]) -> set[int]:
    return {int(status) for status in operation["responses"]}


@pytest.mark.parametrize("service", SERVICES)
def test_the_document_passes_the_openapi_spec_validator(service: str) -> None:
    validate(document(service))


@pytest.mark.parametrize("service", SERVICES)
def test_every_error_answer_is_documented_as_a_problem_document(service: str) -> None:
    for name, operation in operations(service).items():
        for status, response in operation["responses"].items():
            if int(status) < 400:
                continue
            assert set(response["content"]) == {PROBLEM}, (name, status, response)
            assert response["content"][PROBLEM]["schema"] == {"$ref": PROBLEM_REF}, (name, status)
    problem = document(service)["components"]["schemas"]["ProblemDetails"]
    assert {"type", "title", "status"} <= set(problem["required"])
    field_error = document(service)["components"]["schemas"]["FieldError"]
    assert set(field_error["required"]) == {"field", "message"}
    # Litestar's own error shape is gone from the document
    assert '"status_code"' not in str(document(service)).replace("'", '"')


@pytest.mark.parametrize("service", SERVICES)
def test_every_operation_lists_the_problems_the_platform_gives_before_its_use_case(
    service: str,
) -> None:
    for name, operation in operations(service).items():
        method, path = name.split(" ", 1)
        found = statuses(operation)
        assert 400 in found, name
        needs_token = bool(operation.get("security"))
        assert ({401, 403} <= found) == needs_token, (name, found)
        if "{" in path:
            assert 404 in found, name
        if method in ("POST", "PUT", "PATCH"):
            assert 413 in found, name
        takes_key = any(p["name"] == "Idempotency-Key" for p in operation.get("parameters", []))
        assert (422 in found) == takes_key, (name, found)
        assert (429 in found) == (not path.startswith(UNLIMITED)), (name, found)


@pytest.mark.parametrize("service", SERVICES)
def test_only_the_public_endpoints_need_no_token(service: str) -> None:
    public = {name for name, operation in operations(service).items()
              if not operation.get("security")}
    assert public == ALWAYS_PUBLIC | PUBLIC[service]
    assert "security" not in document(service)  # no blanket requirement over them
    for name, operation in operations(service).items():
        if name not in public:
            assert operation["security"] == [{"BearerToken": []}], name
    assert document(service)["components"]["securitySchemes"]["BearerToken"]["scheme"] == "bearer"


@pytest.mark.parametrize("service", SERVICES)
def test_documents_and_metrics_are_documented_in_their_own_content_types(service: str) -> None:
    expected = {"GET /metrics": {"text/plain"}, **CONTENT_TYPES.get(service, {})}
    for name, operation in operations(service).items():
        success = next(r for s, r in operation["responses"].items() if s.startswith("2"))
        content = set(success.get("content") or {})
        # everything else answers JSON, or nothing at all (a 204)
        assert content == expected.get(name, {JSON} if content else set()), (name, content)


def test_the_bank_statement_import_documents_its_camt053_body() -> None:
    body = operations("billing")["POST /v1/bank-statements"]["requestBody"]
    assert body["required"] is True
    assert set(body["content"]) == {XML, "multipart/form-data"}
    assert body["content"]["multipart/form-data"]["schema"]["required"] == ["file"]


def test_conflicts_and_used_links_the_use_cases_raise_are_documented() -> None:
    assert {404, 409, 410} <= statuses(operations("contracts")["POST /v1/contracts/sign/{token}"])
    assert {404, 410} <= statuses(operations("contracts")["GET /v1/contracts/sign/{token}"])
    assert {404, 410} <= statuses(operations("members")["POST /v1/sessions"])
    assert 409 in statuses(operations("members")["POST /v1/members"])
    assert 409 in statuses(operations("payroll")["POST /v1/payment-runs"])
    assert {404, 409} <= statuses(operations("collection")["POST /v1/payment-plan-requests"])
    for service in SERVICES:
        assert 503 in statuses(operations(service)["GET /health/ready"]), service
