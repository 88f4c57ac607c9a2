"""What every request passes before a controller sees it: the request guard and the rate limit.

The request guard reads a JSON body once, strictly: valid UTF-8, nested at most ``MAX_DEPTH``
deep, every string (keys too) within the text policy (``smart_shared.text``), and hands the
framework the body it read (normalised to NFC when it was not). Query and path parameters get
the same character rules. Whatever fails is a 400 problem naming the field, never a 500 with a
traceback in the logs.

The rate limit gives each client address a token bucket for requests that carry no valid token
(registration, signing links, login): a 429 problem with ``Retry-After`` when it is empty.
"""

from __future__ import annotations

import json
import math
import re
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl, unquote_to_bytes

from litestar.types import ASGIApp, Receive, Scope, Send

from smart_shared.problems import Problem, invalid
from smart_shared.text import refused_character

MAX_DEPTH = 32
"""Deepest nesting a JSON body may have: our deepest schema needs 4; recursion needs far more."""
_STRUCTURAL = re.compile(r'["\[\]{}]')
JSON_TYPES = ("application/json", "application/problem+json", "application/merge-patch+json")


class BodyTooLarge(Problem):
    def __init__(self, limit: int) -> None:
        super().__init__(413, "Request Entity Too Large",
                         f"The body is larger than {limit} bytes", "body-too-large")


def check_json_body(body: bytes) -> bytes:
    """``body`` as the framework should read it, or a 400 problem saying what is wrong."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise invalid("body", f"is not valid UTF-8 (byte {error.start})") from None
    if not text.strip():
        return body
    _check_depth(text)
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        raise invalid("body", "is not valid JSON") from None
    changed = _check_strings(value, "body")
    if changed is None:
        return body
    return json.dumps(changed, ensure_ascii=False, separators=(",", ":")).encode()


def _check_depth(text: str) -> None:
    depth = 0
    in_string = False
    # only brackets and quotes matter; a C-speed scan finds them and Python walks only those
    for index in _structural_positions(text):
        char = text[index]
        if in_string:
            if char == '"' and not _escaped(text, index):
                in_string = False
            continue
        if char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise invalid("body", f"is nested more than {MAX_DEPTH} levels deep")
        elif char in "]}":
            depth -= 1


def _structural_positions(text: str) -> list[int]:
    return [m.start() for m in _STRUCTURAL.finditer(text)]


def _escaped(text: str, index: int) -> bool:
    backslashes = 0
    while index > 0 and text[index - 1] == "\\":
        backslashes += 1
        index -= 1
    return backslashes % 2 == 1


def _check_strings(value: Any, path: str) -> Any:
    """The value with its strings in NFC (``None`` when nothing changed); 400 on a bad one."""
    if isinstance(value, str):
        reason = refused_character(value)
        if reason:
            raise invalid(path, reason)
        if not unicodedata.is_normalized("NFC", value):
            return unicodedata.normalize("NFC", value)
        return None
    if isinstance(value, list):
        changed_items = [_check_strings(item, f"{path}[{i}]") for i, item in enumerate(value)]
        if all(item is None for item in changed_items):
            return None
        return [v if c is None else c for v, c in zip(value, changed_items, strict=True)]
    if isinstance(value, dict):
        changed = False
        result = {}
        for key, item in value.items():
            new_key = _check_strings(key, f"{path}.{key!s:.40}")
            new_item = _check_strings(item, f"{path}.{key!s:.40}")
            changed = changed or new_key is not None or new_item is not None
            result[key if new_key is None else new_key] = item if new_item is None else new_item
        return result if changed else None
    return None


def check_parameters(scope: Scope) -> None:
    """Path and query parameters: valid UTF-8 and within the text policy, else a 400."""
    raw_path = scope.get("raw_path") or scope.get("path", "").encode()
    _check_parameter("path", unquote_to_bytes(raw_path.split(b"?", 1)[0]))
    query = scope.get("query_string", b"")
    if not query:
        return
    try:
        pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True, encoding="utf-8",
                          errors="strict")
    except UnicodeDecodeError:
        raise invalid("query", "is not valid UTF-8") from None
    for name, value in pairs:
        for text in (name, value):
            reason = refused_character(text, multiline=False)
            if reason:
                raise invalid(name[:40] or "query", reason)


def _check_parameter(field: str, raw: bytes) -> None:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise invalid(field, "is not valid UTF-8") from None
    reason = refused_character(text, multiline=False)
    if reason:
        raise invalid(field, reason)


def request_guard(max_body_bytes: int) -> Callable[[ASGIApp], ASGIApp]:
    """ASGI middleware: parameters and JSON bodies checked before the framework parses them."""

    def middleware(app: ASGIApp) -> ASGIApp:
        async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
            if str(scope["type"]) != "http":
                await app(scope, receive, send)
                return
            check_parameters(scope)
            if not _is_json(scope):
                await app(scope, receive, send)
                return
            body = check_json_body(await _read_body(receive, max_body_bytes))
            sent = False

            async def replay() -> Any:
                nonlocal sent
                if sent:
                    return await receive()
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}

            if body:
                scope = _with_length(scope, len(body))
            await app(scope, replay, send)

        return guarded

    return middleware


def _is_json(scope: Scope) -> bool:
    if scope.get("method") in ("GET", "HEAD", "OPTIONS", "DELETE"):
        return False
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            media = value.split(b";")[0].strip().decode("latin-1").lower()
            return media in JSON_TYPES or media.endswith("+json")
    return False


async def _read_body(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message: Any = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _with_length(scope: Scope, length: int) -> Scope:
    headers = [(k, v) for k, v in scope.get("headers", ()) if k != b"content-length"]
    headers.append((b"content-length", str(length).encode()))
    return {**scope, "headers": headers}  # type: ignore[return-value]


# ---------------------------------------------------------------------------- rate limit


class TokenBuckets:
    """Requests per client address: ``rate`` a minute on average, ``burst`` at once."""

    def __init__(self, per_minute: int, burst: int, clock: Callable[[], float] = time.monotonic,
                 max_clients: int = 10_000) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self._clock = clock
        self._max_clients = max_clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, client: str) -> float:
        """0 when the request may go on, else the seconds until it may."""
        now = self._clock()
        tokens, at = self._buckets.pop(client, (self.burst, now))
        tokens = min(self.burst, tokens + (now - at) * self.rate)
        wait = 0.0
        if tokens >= 1:
            tokens -= 1
        else:
            wait = (1 - tokens) / self.rate if self.rate > 0 else 60.0
        self._buckets[client] = (tokens, now)
        while len(self._buckets) > self._max_clients:
            self._buckets.popitem(last=False)  # the least recently seen client
        return wait


class TooManyRequests(Problem):
    def __init__(self, wait: float) -> None:
        seconds = max(1, math.ceil(wait))
        super().__init__(429, "Too many requests",
                         f"Too many requests without a login from your address; try again in "
                         f"{seconds} s", "rate-limited", retry_after=seconds)
        self.retry_after = seconds


EXEMPT_PREFIXES = ("/health", "/metrics", "/schema", "/asyncapi")


def rate_limit(buckets: TokenBuckets, authenticated: Callable[[Scope, str], Awaitable[bool]],
               ) -> Callable[[ASGIApp], ASGIApp]:
    """ASGI middleware: requests without a valid bearer token draw from their address's bucket."""

    def middleware(app: ASGIApp) -> ASGIApp:
        async def limited(scope: Scope, receive: Receive, send: Send) -> None:
            if (str(scope["type"]) == "http"
                    and not scope.get("path", "").startswith(EXEMPT_PREFIXES)
                    and not await authenticated(scope, _bearer(scope))):
                client = (scope.get("client") or ("unknown", 0))[0]
                wait = buckets.take(str(client))
                if wait > 0:
                    raise TooManyRequests(wait)
            await app(scope, receive, send)

        return limited

    return middleware


def _bearer(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            scheme, _, credentials = value.decode("latin-1").partition(" ")
            return credentials.strip() if scheme.lower() == "bearer" else ""
    return ""
