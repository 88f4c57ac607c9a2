"""The portal's HTTP client against a socket: what it sends, how a refusal and a silence read."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator

import pytest
from portal.services import Refused, ServiceClients, Services, Unreachable
from portal.settings import SERVICES, PortalSettings


class OneAnswer:
    """A server on a free local port that answers every request with ``reply`` and keeps the
    bytes of what it was sent."""

    def __init__(self, reply: bytes) -> None:
        self.reply = reply
        self.received: list[bytes] = []

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                       if line.lower().startswith(b"content-length:")), 0)
        self.received.append(head + await reader.readexactly(length))
        writer.write(self.reply)
        await writer.drain()
        writer.close()


def settings_for(port: int) -> PortalSettings:
    urls = {f"SMART_{name.upper()}_URL": f"http://127.0.0.1:{port}"
            for name in SERVICES}
    return PortalSettings(SMART_SERVICE="portal", **urls)  # type: ignore[arg-type]


def reply(status: str, body: dict[str, object]) -> bytes:
    content = json.dumps(body).encode()
    return (f"HTTP/1.1 {status}\r\nContent-Type: application/problem+json\r\n"
            f"Content-Length: {len(content)}\r\nConnection: close\r\n\r\n").encode() + content


@pytest.fixture
async def refusing() -> AsyncIterator[tuple[OneAnswer, Services]]:
    answer = OneAnswer(reply("422 Unprocessable Content", {
        "title": "Invalid request", "errors": [{"field": "iban", "message": "Not an IBAN"}]}))
    server = await asyncio.start_server(answer.serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    clients = ServiceClients(settings_for(port), timeout=5)
    await clients.start()
    try:
        yield answer, Services(settings_for(port), clients, "token-1", "203.0.113.7")
    finally:
        await clients.close()
        server.close()


async def test_a_refusal_names_its_fields_and_the_request_says_who_asks(
    refusing: tuple[OneAnswer, Services],
) -> None:
    answer, services = refusing
    with pytest.raises(Refused) as refused:
        await services.patch("members", "/v1/members/m-1", {"iban": "BE00"})
    assert (refused.value.status, refused.value.errors) == (422, {"iban": "Not an IBAN"})
    sent = answer.received[0].decode()
    assert sent.startswith("PATCH /v1/members/m-1 HTTP/1.1\r\n")
    assert "Authorization: Bearer token-1\r\n" in sent
    assert "X-Forwarded-For: 203.0.113.7\r\n" in sent
    assert sent.endswith('{"iban": "BE00"}')


async def test_a_file_is_sent_as_a_form_and_the_query_as_the_services_read_it(
    refusing: tuple[OneAnswer, Services],
) -> None:
    answer, services = refusing
    with pytest.raises(Refused):
        await services.call("POST", "billing", "/v1/bank-statements", params={"dry": True},
                            files={"file": ("statement.xml", b"<Document/>", "application/xml")})
    sent = answer.received[0].decode()
    assert sent.startswith("POST /v1/bank-statements?dry=true HTTP/1.1\r\n")
    assert "multipart/form-data" in sent
    assert 'filename="statement.xml"' in sent and "<Document/>" in sent


async def test_a_service_that_does_not_answer_is_unreachable_not_an_error() -> None:
    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    clients = ServiceClients(settings_for(port), timeout=5)
    await clients.start()
    try:
        with pytest.raises(Unreachable):
            await Services(settings_for(port), clients).get("members", "/v1/members")
    finally:
        await clients.close()
