"""Hostile input against every endpoint of the running platform, read from its OpenAPI documents.

Each class of input an attacker was seen to send goes to every endpoint that takes it:

- text with control characters, bidirectional overrides, lone surrogates or non-characters in
  every string field of every JSON body (hypothesis draws the strings), in every query parameter
  and in every path parameter;
- JSON bodies nested far too deep, and bodies that are not UTF-8;
- pagination cursors that this API never gave out (nested, not base64, not JSON, too long);
- camt.053 statements whose amounts carry exponents, 30 digits or non-ASCII digits, or that are
  not even well-formed XML.

Every answer must be a 4xx problem document (the text ones naming the field), every business
collection of every service must be the same afterwards (a digest of each database before and
after), and no service may log an ERROR line meanwhile.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.platform import SERVICES, PlatformProcesses
from tests.reliability.saga import Tally, admin, settled

pytestmark = pytest.mark.integration

PROBLEM = "application/problem+json"
BAD_CHARACTERS = ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\x9b", "\u202e", "\u202d", "\u2066",
                  "\u2069", "\ud800", "\udfff", "\ufffe", "\uffff", "\ufdd0"]
hostile_text = st.builds(
    lambda before, bad, after: before + bad + after,
    st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), max_size=12),
    st.sampled_from(BAD_CHARACTERS),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), max_size=12),
)
# in a path or a query string they arrive percent-encoded, possibly as bytes that are not UTF-8
ENCODED = ["%00", "%1B", "%7F", "%C2%85", "%E2%80%AE", "%E2%81%A6", "%FF", "%C0%80", "%ED%A0%80"]


@dataclass
class Operation:
    service: str
    method: str
    path: str
    path_params: list[str] = field(default_factory=list)
    query_params: list[str] = field(default_factory=list)
    text_fields: list[list[str | int]] = field(default_factory=list)
    takes_json: bool = False

    def url(self, platform: PlatformProcesses, **values: str) -> str:
        path = self.path
        for name in self.path_params:
            path = path.replace("{" + name + "}", values.get(name, "x-0"))
        return platform.urls[self.service] + path


def _resolve(schema: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = document["components"]["schemas"][name]
    for combinator in ("anyOf", "oneOf", "allOf"):
        if combinator in schema:
            for option in schema[combinator]:
                option = _resolve(option, document)
                if option.get("type") in ("object", "string", "array"):
                    return option
    return schema


def _string_paths(schema: dict[str, Any], document: dict[str, Any],
                  prefix: list[str | int], depth: int = 0) -> list[list[str | int]]:
    schema = _resolve(schema, document)
    kind = schema.get("type")
    if kind == "string" and schema.get("format") not in ("date", "date-time", "binary"):
        return [prefix]
    if depth > 4:
        return []
    if kind == "array" and "items" in schema:
        return _string_paths(schema["items"], document, [*prefix, 0], depth + 1)
    paths: list[list[str | int]] = []
    for name, child in (schema.get("properties") or {}).items():
        paths += _string_paths(child, document, [*prefix, name], depth + 1)
    return paths


def operations_of(service: str, document: dict[str, Any]) -> list[Operation]:
    found = []
    for path, item in document.get("paths", {}).items():
        if path.startswith(("/health", "/metrics", "/schema", "/asyncapi")):
            continue
        for method, spec in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            params = [*item.get("parameters", []), *spec.get("parameters", [])]
            operation = Operation(
                service, method.upper(), path,
                path_params=[p["name"] for p in params if p.get("in") == "path"],
                query_params=[p["name"] for p in params if p.get("in") == "query"],
            )
            content = (spec.get("requestBody") or {}).get("content", {})
            if "application/json" in content:
                operation.takes_json = True
                operation.text_fields = _string_paths(
                    content["application/json"].get("schema", {}), document, [])
            found.append(operation)
    return found


@pytest.fixture(scope="module")
def operations(platform: PlatformProcesses) -> list[Operation]:
    every = []
    for service in SERVICES:
        document = httpx.get(f"{platform.urls[service]}/schema/openapi.json", timeout=30).json()
        every += operations_of(service, document)
    assert sum(op.takes_json for op in every) >= 15, "the OpenAPI documents lost their bodies"
    return every


def body_with(path: list[str | int], value: str) -> Any:
    """The smallest JSON value holding ``value`` at ``path`` (a list index makes a list)."""
    result: Any = value
    for step in reversed(path):
        result = [result] if isinstance(step, int) else {step: result}
    return result


def field_name(path: list[str | int]) -> str:
    name = "body"
    for step in path:
        name += f"[{step}]" if isinstance(step, int) else f".{step}"
    return name


def assert_problem(response: httpx.Response, what: object, naming: str | None = None) -> None:
    assert 400 <= response.status_code < 500, (what, response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith(PROBLEM), (what, response.text[:300])
    if naming is not None:
        fields = [e["field"] for e in response.json().get("errors", [])]
        assert naming in fields, (what, naming, response.json())


# ---------------------------------------------------------------- unchanged, and no ERROR


def _log_sizes(platform: PlatformProcesses) -> dict[str, int]:
    return {s: (platform.home / f"{s}.log").stat().st_size
            if (platform.home / f"{s}.log").exists() else 0 for s in SERVICES}


def _errors_logged_since(platform: PlatformProcesses, sizes: dict[str, int]) -> list[str]:
    lines = []
    for service, offset in sizes.items():
        log: Path = platform.home / f"{service}.log"
        if not log.exists():
            continue
        with log.open("rb") as handle:
            handle.seek(offset)
            for line in handle.read().decode(errors="replace").splitlines():
                if '"level": "ERROR"' in line or '"level":"ERROR"' in line or "Traceback" in line:
                    lines.append(f"{service}: {line[:300]}")
    return lines


def digest(snapshot: dict[str, dict[str, list[Any]]]) -> dict[str, str]:
    """One SHA-256 per service database over every business document, in _id order."""
    return {service: hashlib.sha256(json.dumps(collections, sort_keys=True, default=str)
                                    .encode()).hexdigest()
            for service, collections in snapshot.items()}


@asynccontextmanager
async def changes_nothing(platform: PlatformProcesses) -> AsyncIterator[None]:
    before = digest(await settled(platform))
    sizes = _log_sizes(platform)
    yield
    after = digest(await settled(platform))
    assert after == before, [s for s in SERVICES if after.get(s) != before.get(s)]
    assert _errors_logged_since(platform, sizes) == []


@contextmanager
def changes_nothing_sync(platform: PlatformProcesses) -> Iterator[None]:
    before = digest(asyncio.run(settled(platform)))
    sizes = _log_sizes(platform)
    yield
    after = digest(asyncio.run(settled(platform)))
    assert after == before, [s for s in SERVICES if after.get(s) != before.get(s)]
    assert _errors_logged_since(platform, sizes) == []


# ---------------------------------------------------------------- text in JSON bodies


def test_hostile_text_in_every_json_field_is_a_400_naming_it_and_changes_nothing(
    platform: PlatformProcesses, operations: list[Operation], tally: Tally,
) -> None:
    targets = [(op, path) for op in operations if op.takes_json for path in op.text_fields]
    assert len(targets) >= 40, "fewer text fields than the platform has"
    headers = dict(admin(platform), **{"Idempotency-Key": "hostile-text"})

    @settings(max_examples=6, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(text=hostile_text)
    def every_field_refuses(text: str) -> None:
        with httpx.Client(timeout=30) as http:
            for op, path in targets:
                body = json.dumps(body_with(path, text), ensure_ascii=True)
                response = http.request(op.method, op.url(platform), content=body,
                                        headers=dict(headers, **{"content-type":
                                                                 "application/json"}))
                tally.faults["hostile text"] += 1
                assert_problem(response, (op.service, op.method, op.path, path, text),
                               naming=field_name(path))

    with changes_nothing_sync(platform):
        every_field_refuses()


async def test_deep_and_non_utf8_bodies_are_a_400_on_every_json_endpoint(
    platform: PlatformProcesses, operations: list[Operation], http: httpx.AsyncClient,
    tally: Tally,
) -> None:
    bodies = {
        "nested arrays": b"[" * 5000 + b"]" * 5000,
        "nested objects": b'{"a":' * 2000 + b"1" + b"}" * 2000,
        "latin-1 bytes": '{"name": "Ren\xe9"}'.encode("latin-1"),
        "overlong encoding": b'{"name": "\xc0\xaf"}',
        "encoded surrogate": b'{"name": "\xed\xa0\x80"}',
        "truncated sequence": b'{"name": "\xe2\x82"}',
    }
    headers = dict(admin(platform), **{"content-type": "application/json",
                                       "Idempotency-Key": "hostile-body"})
    async with changes_nothing(platform):
        for op in (op for op in operations if op.takes_json):
            for what, body in bodies.items():
                response = await http.request(op.method, op.url(platform), content=body,
                                              headers=headers)
                tally.faults["hostile bodies"] += 1
                assert_problem(response, (op.service, op.path, what), naming="body")


# ---------------------------------------------------------------- query and path parameters


async def test_hostile_query_parameters_are_a_400_naming_the_parameter(
    platform: PlatformProcesses, operations: list[Operation], http: httpx.AsyncClient,
    tally: Tally,
) -> None:
    queried = [op for op in operations if op.query_params and op.method == "GET"]
    assert len(queried) >= 6
    async with changes_nothing(platform):
        for op in queried:
            for name in op.query_params:
                for encoded in ENCODED:
                    url = f"{op.url(platform)}?{quote(name)}=ok{encoded}ok"
                    response = await http.get(url, headers=admin(platform))
                    tally.faults["hostile parameters"] += 1
                    assert_problem(response, (op.service, op.path, name, encoded))
                    assert response.status_code == 400, (op.path, name, response.text[:200])


CURSORS = [
    "not base64 !", "%%%", "A" * 4000, "W1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1td",
    "eyIkd2hlcmUiOiAiMSJ9",  # {"$where": "1"}
    "__8=",  # bytes that are not UTF-8
    "bnVsbA==",  # null
    "e30=",  # {}
]


async def test_cursors_this_api_never_gave_out_are_a_400_invalid_cursor(
    platform: PlatformProcesses, operations: list[Operation], http: httpx.AsyncClient,
    tally: Tally,
) -> None:
    paginated = [op for op in operations if "cursor" in op.query_params]
    assert len(paginated) >= 6
    async with changes_nothing(platform):
        for op in paginated:
            for cursor in CURSORS:
                response = await http.get(op.url(platform), params={"cursor": cursor},
                                          headers=admin(platform))
                tally.faults["bad cursors"] += 1
                assert response.status_code == 400, (op.path, cursor, response.text[:300])
                assert_problem(response, (op.path, cursor), naming="cursor")


async def test_hostile_path_parameters_are_refused_with_a_problem(
    platform: PlatformProcesses, operations: list[Operation], http: httpx.AsyncClient,
    tally: Tally,
) -> None:
    with_ids = [op for op in operations if op.path_params]
    assert len(with_ids) >= 15
    async with changes_nothing(platform):
        for op in with_ids:
            for encoded in ENCODED:
                url = op.url(platform, **{name: f"id{encoded}x" for name in op.path_params})
                response = await http.request(op.method, url, headers=dict(
                    admin(platform), **{"content-type": "application/json",
                                        "Idempotency-Key": "hostile-path"}), content=b"{}")
                tally.faults["hostile parameters"] += 1
                assert_problem(response, (op.service, op.method, op.path, encoded))


# ---------------------------------------------------------------- bank statements (XML)

STATEMENT = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
 <BkToCstmrStmt>
  <GrpHdr><MsgId>HOSTILE-{n}</MsgId><CreDtTm>2026-03-02T08:00:00</CreDtTm></GrpHdr>
  <Stmt>
   <Id>HOSTILE-{n}</Id><CreDtTm>2026-03-02T08:00:00</CreDtTm>
   <Acct><Id><IBAN>BE68539007547034</IBAN></Id><Ccy>EUR</Ccy></Acct>
   <Ntry>
    <NtryRef>1</NtryRef><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>
    <BookgDt><Dt>2026-03-02</Dt></BookgDt><ValDt><Dt>2026-03-02</Dt></ValDt>
    <AcctSvcrRef>HOSTILE-REF-{n}</AcctSvcrRef>
    <NtryDtls><TxDtls><Amt Ccy="EUR">{amount}</Amt>
     <RltdPties><Dbtr><Nm>Acme</Nm></Dbtr><DbtrAcct><Id><IBAN>BE71096123456769</IBAN></Id>
     </DbtrAcct></RltdPties>
     <RmtInf><Strd><CdtrRefInf><Ref>+++090/9337/55493+++</Ref></CdtrRefInf></Strd></RmtInf>
    </TxDtls></NtryDtls>
   </Ntry>
  </Stmt>
 </BkToCstmrStmt>
</Document>"""

HOSTILE_AMOUNTS = ["1E+999999", "1e3", "9" * 30, "1" * 19 + ".00",
                   "\u0661\u0662.00", "\uff11\uff12.00", "12.5.0", "-10.00", "+10.00", " "]


async def test_hostile_statements_are_a_400_and_book_nothing(
    platform: PlatformProcesses, http: httpx.AsyncClient, tally: Tally,
) -> None:
    url = platform.urls["billing"] + "/v1/bank-statements"
    headers = dict(admin(platform), **{"content-type": "application/xml"})
    documents = [STATEMENT.format(n=n, amount=amount).encode()
                 for n, amount in enumerate(HOSTILE_AMOUNTS)]
    documents += [
        STATEMENT.format(n=90, amount="10.00").replace("Acme", "Ac&#0;me").encode(),
        STATEMENT.format(n=91, amount="10.00").replace("Acme", "Ren\xe9").encode("latin-1"),
        STATEMENT.format(n=92, amount="10.00").encode()[:-40],
        b"<" * 10_000,
    ]
    async with changes_nothing(platform):
        for document in documents:
            response = await http.post(url, content=document, headers=headers)
            tally.faults["hostile statements"] += 1
            assert_problem(response, document[:80])
            assert response.status_code == 400, (document[-200:], response.text[:300])
