"""What a service's OpenAPI document says beyond its success answers.

``build_service`` runs ``describe_operations`` over the app: every operation gets the problem
answers (``application/problem+json``, the ``ProblemDetails`` schema) that the platform's own
layers can give it, and the bearer token requirement exactly when its handler needs a
``principal``:

- 400 always: the request guard checks every query parameter, and bodies and path parameters
  are validated (``errors[].field`` names each refused field);
- 401 and 403 when it needs a token; 404 when its path names a resource; 413 when it takes a
  body; 422 when it takes an ``Idempotency-Key``; 429 for callers without a valid token, outside
  the health, metrics and documentation paths.

A route adds what its use case raises itself with ``responses=problems(409, (410, "why"))``,
answers in more than one content type or a body it reads itself with ``operation_with``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import (
    Components,
    OpenAPIMediaType,
    OpenAPIResponse,
    Operation,
    RequestBody,
    Schema,
    SecurityScheme,
)
from litestar.openapi.spec.enums import OpenAPIType
from litestar.routes import HTTPRoute

from smart_shared.guards import EXEMPT_PREFIXES
from smart_shared.problems import PROBLEM_JSON, ProblemDetails

BEARER = "BearerToken"
PDF = "application/pdf"
XML = "application/xml"
TEXT = "text/plain"

WHY: dict[int, str] = {
    400: "Invalid request: a parameter or the body is refused; `errors` names each field",
    401: "No valid bearer token (missing, expired, badly signed, or its session closed)",
    403: "The token's role or branch may not do this",
    404: "Nothing with this id that the caller may see",
    409: "The request conflicts with the current state of the resource",
    410: "The link was used already or has expired",
    413: "The body is larger than the deployment accepts",
    422: "The Idempotency-Key was used before for another request",
    429: "Too many requests without a valid token from this address; see Retry-After",
    503: "Not ready: a dependency is down; `checks` says which",
}
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def security_schemes() -> Components:
    """The components every service's document declares: the bearer JWT."""
    return Components(security_schemes={
        BEARER: SecurityScheme(type="http", scheme="bearer", bearer_format="JWT",
                               description="An access token from members' login or "
                                           "`smart token` (local)"),
    })


def problem(status: int, description: str | None = None) -> ResponseSpec:
    """One problem answer of an operation, for a route's ``responses=``."""
    return ResponseSpec(data_container=ProblemDetails, media_type=PROBLEM_JSON,
                        description=description or WHY.get(status, "A problem"),
                        generate_examples=False)


def problems(*answers: int | tuple[int, str]) -> dict[int, ResponseSpec]:
    """The problems a route's use case raises beyond the common ones (``describe_operations``):
    ``problems(409, (410, "The signing link was used or has expired"))``."""
    specs = {}
    for answer in answers:
        status, description = answer if isinstance(answer, tuple) else (answer, None)
        specs[status] = problem(status, description)
    return specs


def binary(media_type: str) -> Schema:
    """The schema of a document answered or received as bytes (PDF, XML)."""
    return Schema(type=OpenAPIType.STRING, content_media_type=media_type)


def operation_with(
    *,
    body: Mapping[str, Schema] | None = None,
    body_description: str | None = None,
    also_answers: Mapping[int, Sequence[str]] | None = None,
) -> type[Operation]:
    """An ``operation_class`` for a route whose handler reads its body itself (``body``: media
    type → schema) or answers one status in more content types than its own
    (``also_answers={200: [PDF, XML]}``)."""

    @dataclass
    class Described(Operation):
        def __post_init__(self) -> None:
            if body:
                self.request_body = RequestBody(
                    content={media: OpenAPIMediaType(schema=schema)
                             for media, schema in body.items()},
                    description=body_description, required=True)
            for status, media_types in (also_answers or {}).items():
                response = (self.responses or {}).get(str(status))
                if isinstance(response, OpenAPIResponse):
                    content = response.content = dict(response.content or {})
                    for media in media_types:
                        content.setdefault(media, OpenAPIMediaType(schema=binary(media)))

    return Described


def describe_operations(app: Litestar, rate_limited: bool = True) -> None:
    """Give every operation of ``app`` its common problem answers and its security requirement
    (see the module docstring). Runs before the document is first built."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if not handler.resolve_include_in_schema():
                continue
            needs_token = _depends_on(handler, "principal")
            handler.security = [{BEARER: []}] if needs_token else None
            common = {400: problem(400)}
            if needs_token:
                common |= {401: problem(401), 403: problem(403)}
            if route.path_parameters:
                common[404] = problem(404)
            if handler.http_methods & BODY_METHODS:
                common[413] = problem(413)
            if _takes_header(handler, "Idempotency-Key"):
                common[422] = problem(422)
            if rate_limited and not route.path.startswith(EXEMPT_PREFIXES):
                common[429] = problem(429)
            handler.responses = {**common, **(handler.responses or {})}


def _depends_on(handler: HTTPRouteHandler, name: str) -> bool:
    """Whether the handler, or a dependency it asks for, asks for ``name``."""
    dependencies = handler.resolve_dependencies()
    wanted = list(handler.parsed_fn_signature.parameters)
    seen: set[str] = set()
    while wanted:
        key = wanted.pop()
        if key == name:
            return True
        if key in seen or key not in dependencies:
            continue
        seen.add(key)
        wanted.extend(dependencies[key].parsed_fn_signature.parameters)
    return False


def _takes_header(handler: HTTPRouteHandler, header: str) -> bool:
    for field in handler.parsed_fn_signature.parameters.values():
        kwarg: Any = field.kwarg_definition
        if getattr(kwarg, "header", None) == header:
            return True
    return False
