"""What DATA sends is what aiosmtplib's own line-ending normalisation and dot-stuffing send
(RFC 5321 §2.3.8 and §4.5.2), byte for byte, though made by byte replacements."""

from __future__ import annotations

import random
import re

import aiosmtplib.protocol
import aiosmtplib.smtp
from smart_shared.mail import smtp

_LINE_ENDINGS = re.compile(rb"(?:\r\n|\n|\r(?!\n))")  # aiosmtplib's patterns
_PERIODS = re.compile(rb"(?m)^\.")


def _theirs(message: bytes) -> bytes:
    message = _LINE_ENDINGS.sub(b"\r\n", message)
    if not message.endswith(b"\r\n"):
        message += b"\r\n"
    return _PERIODS.sub(b"..", message)


def _ours(message: bytes) -> bytes:
    return aiosmtplib.protocol.PERIOD_REGEX.sub(
        b"..", aiosmtplib.protocol.normalize_message_line_endings(message))


def test_the_replacements_are_the_ones_aiosmtplib_sends() -> None:
    assert aiosmtplib.protocol.normalize_message_line_endings is smtp.crlf_lines
    # the SIZE parameter of MAIL FROM is measured with the same function
    assert aiosmtplib.smtp.normalize_message_line_endings is smtp.crlf_lines  # type: ignore[attr-defined]
    rng = random.Random(5321)
    samples = [b"", b".", b"..", b"\r", b"\n", b"\r\r\n", b"\n\r", b".a\r\n.b\n.\r.c",
               b"a\r\n.\r\n", b"=2E\r\n..x"]
    samples += [bytes(rng.choice(b"a.\r\n") for _ in range(rng.randint(0, 40)))
                for _ in range(5000)]
    for message in samples:
        assert _ours(message) == _theirs(message), message


def test_a_line_that_begins_with_a_period_is_stuffed_and_lone_breaks_become_crlf() -> None:
    assert _ours(b".hidden\nline\r.next") == b"..hidden\r\nline\r\n..next\r\n"
