"""Sending over SMTP (aiosmtplib): Mailpit locally, the branch's relay in production."""

from __future__ import annotations

import base64
import binascii
import contextlib
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from email.header import Header
from email.utils import format_datetime, formataddr
from urllib.parse import quote

import aiosmtplib
import aiosmtplib.protocol
import aiosmtplib.smtp

from smart_shared.mail.message import sender_parts
from smart_shared.mail.render import Rendered
from smart_shared.settings import Settings

_TOKEN_SPECIALS = set('()<>@,;:\\"/[]?= \t')


def build_message(sender: str, to: str, to_name: str | None, language: str, message_id: str,
                  rendered: Rendered, attachments: list[tuple[str, str, bytes]],
                  now: datetime | None = None) -> bytes:
    """A multipart message in MIME (RFC 2045-2049, 2047 and 2231 for non-ASCII names): plain
    text and HTML alternatives, then the attached documents.

    Written directly rather than through ``email.message``, whose header objects and line-by-
    line generator cost a few milliseconds per mail on the saga's hot path. Text parts are
    quoted-printable and files base64, so no line of a part can begin with a boundary, which
    all start with ``=_`` (neither encoding ever writes that pair)."""
    for value in (sender, to, message_id, language):
        if "\r" in value or "\n" in value:
            raise ValueError(f"a line break in a mail header: {value!r}")
    subject = " ".join(rendered.subject.split())
    alternative = _boundary()
    body = [_text_part("plain", rendered.text), _text_part("html", rendered.html)]
    content = _multipart("alternative", alternative, body)
    if attachments:
        mixed = _boundary()
        files = [_file_part(filename, content_type, data)
                 for filename, content_type, data in attachments]
        content = _multipart("mixed", mixed, [content, *files])
    headers = [
        f"From: {_address(*reversed(sender_parts(sender)))}",
        f"To: {_address(to, to_name)}",
        f"Subject: {_unstructured(subject, len('Subject: '))}",
        f"Message-ID: {message_id}",
        f"Date: {format_datetime(now or datetime.now(UTC))}",
        f"Content-Language: {language}",
        "MIME-Version: 1.0",
    ]
    return "\r\n".join(headers).encode("ascii") + b"\r\n" + content


def envelope_address(sender: str) -> str:
    """The bare address of a ``Name <address>`` sender, for SMTP's MAIL FROM."""
    return sender_parts(sender)[1] or sender


def _boundary() -> str:
    return f"=_smart_{secrets.token_hex(12)}"


def _address(address: str, name: str | None) -> str:
    return formataddr((name, address), charset="utf-8") if name else address


def _unstructured(text: str, offset: int) -> str:
    if text.isascii() and len(text) + offset <= 78:
        return text
    return Header(text, "utf-8", header_name="Subject").encode(linesep="\r\n")


def _parameter(name: str, value: str) -> str:
    if value.isascii() and value.isprintable() and not (set(value) & {'"', "\\"}):
        return f'{name}="{value}"'
    return f"{name}*=utf-8''{quote(value, safe='')}"


def _text_part(subtype: str, text: str) -> bytes:
    encoded = binascii.b2a_qp(text.replace("\r\n", "\n").encode("utf-8"), istext=True)
    return (f'Content-Type: text/{subtype}; charset="utf-8"\r\n'
            "Content-Transfer-Encoding: quoted-printable\r\n\r\n").encode("ascii") \
        + encoded.replace(b"\n", b"\r\n")


def _file_part(filename: str, content_type: str, data: bytes) -> bytes:
    maintype, _, subtype = content_type.partition("/")
    if not maintype or not subtype or set(content_type) & _TOKEN_SPECIALS - {"/"}:
        raise ValueError(f"not a media type: {content_type!r}")
    return (f"Content-Type: {content_type}\r\n"
            f"Content-Disposition: attachment; {_parameter('filename', filename)}\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n").encode("ascii") \
        + base64.encodebytes(data).replace(b"\n", b"\r\n")


def _multipart(subtype: str, boundary: str, parts: list[bytes]) -> bytes:
    delimiter = f"--{boundary}\r\n".encode("ascii")
    body = b"".join(delimiter + part + (b"" if part.endswith(b"\r\n") else b"\r\n")
                    for part in parts)
    return (f'Content-Type: multipart/{subtype}; boundary="{boundary}"\r\n\r\n'.encode("ascii")
            + body + f"--{boundary}--\r\n".encode("ascii"))


def crlf_lines(message: bytes) -> bytes:
    """``message`` with every line ending CRLF, as SMTP's DATA sends it (RFC 5321 §2.3.8): a lone
    LF or CR becomes CRLF, and the message ends with one.

    aiosmtplib does the same with a regular expression that matches every line of the message
    (about 0.7 ms for a mail of 55 kB with its PDF, as much again for the dot-stuffing); these
    are three byte replacements."""
    message = message.replace(b"\r\n", b"\n").replace(b"\r", b"\n").replace(b"\n", b"\r\n")
    return message if message.endswith(b"\r\n") else message + b"\r\n"


class _LineStartPeriods:
    """The dot-stuffing of DATA (RFC 5321 §4.5.2) with ``sub`` as aiosmtplib calls it on its
    pattern: a period that begins a line is doubled."""

    @staticmethod
    def sub(doubled: bytes, message: bytes) -> bytes:
        stuffed = message.replace(b"\n.", b"\n" + doubled)
        return doubled + stuffed[1:] if stuffed.startswith(b".") else stuffed


# the same bytes on the wire (pinned against aiosmtplib's own in the tests), for less CPU; the
# client module keeps a reference of its own, with which it measures a message for SIZE
aiosmtplib.protocol.normalize_message_line_endings = crlf_lines
aiosmtplib.smtp.normalize_message_line_endings = crlf_lines  # type: ignore[attr-defined]
aiosmtplib.protocol.PERIOD_REGEX = _LineStartPeriods()  # type: ignore[assignment]


class SmtpSender:
    """One SMTP connection per batch of mails, with the deployment's host, port, STARTTLS and
    credentials."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[aiosmtplib.SMTP]:
        s = self.settings
        client = aiosmtplib.SMTP(hostname=s.smtp_host, port=s.smtp_port, timeout=30,
                                 start_tls=s.smtp_starttls)
        await client.connect()
        try:
            if s.smtp_username:
                await client.login(s.smtp_username, s.smtp_password or "")
            yield client
        finally:
            with contextlib.suppress(aiosmtplib.SMTPException, OSError):
                await client.quit()
