"""RFC 9457 problem details: every error a client sees is ``application/problem+json``."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, NotFoundException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from pydantic import BaseModel, ConfigDict, Field

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://smart.coop/problems/"
log = logging.getLogger("smart.http")


class Problem(Exception):
    """An error answered as a problem document. Raise it from any use case or controller."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        type: str | None = None,
        errors: list[dict[str, str]] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail
        self.type = TYPE_BASE + type if type else "about:blank"
        self.errors = errors
        self.extensions = extensions

    def body(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"type": self.type, "title": self.title, "status": self.status}
        if self.detail:
            body["detail"] = self.detail
        if instance:
            body["instance"] = instance
        if self.errors:
            body["errors"] = self.errors
        body.update(self.extensions)
        return body


class FieldError(BaseModel):
    """One refused field of a request: where it is and what is wrong with it."""

    field: str = Field(description="The field, e.g. 'amount', 'body.payout.holder', "
                       "'Idempotency-Key'.")
    message: str


class ProblemDetails(BaseModel):
    """An RFC 9457 problem document, the body of every error answer (``Problem.body``)."""

    # extensions ride along (``retry_after`` of a 429, ``checks`` of a 503, ``excluded``)
    model_config = ConfigDict(extra="allow")

    type: str = Field(description="A URI naming the kind of problem; 'about:blank' when it "
                      "is only the status.")
    title: str
    status: int
    detail: str | None = None
    instance: str | None = Field(None, description="The path of the request.")
    errors: list[FieldError] | None = Field(
        None, description="Each refused field of a 400 (validation).")


def not_found(what: str, ident: str) -> Problem:
    return Problem(404, f"{what} not found", f"No {what.lower()} with id {ident}", "not-found")


def conflict(title: str, detail: str) -> Problem:
    return Problem(409, title, detail, "conflict")


def invalid(field: str, message: str, title: str = "Invalid request") -> Problem:
    """A 400 naming the failing field (for rules checked beyond the request schema)."""
    return Problem(400, title, f"{field}: {message}", "validation",
                   errors=[{"field": field, "message": message}])


def forbidden(detail: str = "You may not do this") -> Problem:
    return Problem(403, "Forbidden", detail, "forbidden")


def _response(problem: Problem, request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
    headers = {}
    if problem.status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if "retry_after" in problem.extensions:
        headers["Retry-After"] = str(problem.extensions["retry_after"])
    return Response(
        problem.body(str(request.url.path)),
        status_code=problem.status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def _field_errors(extra: Any) -> list[dict[str, str]]:
    errors = []
    for item in extra if isinstance(extra, list) else []:
        if isinstance(item, dict):
            field = str(item.get("key") or item.get("loc") or "body")
            errors.append({"field": field, "message": str(item.get("message", "invalid"))})
    return errors


def handle_problem(request: Request[Any, Any, Any], exc: Problem) -> Response[dict[str, Any]]:
    return _response(exc, request)


def handle_validation(
    request: Request[Any, Any, Any], exc: ValidationException
) -> Response[dict[str, Any]]:
    errors = _field_errors(exc.extra)
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors) or str(exc.detail)
    return _response(Problem(400, "Invalid request", detail, "validation", errors=errors), request)


def handle_http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    title = "Not found" if isinstance(exc, NotFoundException) else str(exc.detail)
    detail = str(exc.detail) if not isinstance(exc, NotFoundException) else None
    return _response(Problem(exc.status_code, title, detail), request)


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    route = request.scope.get("path_template") or "?"
    log.exception("unhandled error on %s %s", request.method, route)
    return _response(
        Problem(HTTP_500_INTERNAL_SERVER_ERROR, "Internal error",
                "Something went wrong on our side; it has been logged."),
        request,
    )


EXCEPTION_HANDLERS: dict[int | type[Exception], Any] = {
    Problem: handle_problem,
    ValidationException: handle_validation,
    HTTPException: handle_http,
    Exception: handle_unexpected,
}
