"""The MIME writer: what a mail client reads back is what was rendered, in every part."""

from __future__ import annotations

import email
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage

import pytest
from smart_shared.mail.render import Rendered
from smart_shared.mail.smtp import build_message, envelope_address

NOW = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)
TEXT = ("Bonjour Zoë,\n\nLe contrat n° 42 = 1 250,00 € est à signer.\n.\nFrom the start\n"
        + "é" * 200)
HTML = "<p>Bonjour Zoë,</p>\n<p>Le contrat n° 42 = 1 250,00 €</p>"


def read(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def written(subject: str = "Contrat à signer — Atelier Łucja Ödön",
            attachments: list[tuple[str, str, bytes]] | None = None,
            to_name: str | None = "Zoë Łukasiewicz, SPRL") -> bytes:
    return build_message("SMart <no-reply@smart.coop>", "client@example.com", to_name, "fr",
                         "<abc.1@smart.coop>", Rendered(subject, TEXT, HTML),
                         attachments or [], now=NOW)


def test_the_headers_read_back_as_written_even_with_accents_and_commas() -> None:
    message = read(written())
    assert message["Subject"] == "Contrat à signer — Atelier Łucja Ödön"
    assert message["To"].addresses[0].display_name == "Zoë Łukasiewicz, SPRL"
    assert message["To"].addresses[0].addr_spec == "client@example.com"
    assert message["From"].addresses[0].addr_spec == "no-reply@smart.coop"
    assert message["Message-ID"] == "<abc.1@smart.coop>"
    assert message["Content-Language"] == "fr"
    assert message["Date"].datetime == NOW


def test_every_line_is_ascii_and_short_enough_for_smtp() -> None:
    raw = written(subject="Facture " + "très longue " * 20,
                  attachments=[("facture.pdf", "application/pdf", bytes(range(256)) * 50)])
    raw.decode("ascii")
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert read(raw)["Subject"] == "Facture " + " ".join(["très longue"] * 20)


def test_the_text_and_html_alternatives_carry_the_rendered_text() -> None:
    message = read(written())
    assert message.get_content_type() == "multipart/alternative"
    plain = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert plain is not None and html is not None
    # on the wire every line ends in CRLF, which the reader keeps
    assert plain.get_content().replace("\r\n", "\n").rstrip("\n") == TEXT.rstrip("\n")
    assert html.get_content().replace("\r\n", "\n").rstrip("\n") == HTML


def test_attachments_arrive_byte_for_byte_with_their_names() -> None:
    pdf = b"%PDF-1.7\n" + bytes(range(256)) * 300
    xml = "<Invoice>é</Invoice>".encode()
    message = read(written(attachments=[("Facture 2026-000042.pdf", "application/pdf", pdf),
                                        ("facture-été.xml", "application/xml", xml)]))
    assert message.get_content_type() == "multipart/mixed"
    files = list(message.iter_attachments())
    assert [(f.get_filename(), f.get_content_type()) for f in files] == [
        ("Facture 2026-000042.pdf", "application/pdf"), ("facture-été.xml", "application/xml")]
    assert [f.get_content() for f in files] == [pdf, xml]


def test_a_line_break_in_a_header_is_refused() -> None:
    with pytest.raises(ValueError, match="line break"):
        build_message("SMart <no-reply@smart.coop>", "a@example.com\r\nBcc: x@example.com",
                      None, "fr", "<1@smart.coop>", Rendered("s", "t", "h"), [])


def test_a_line_break_in_a_subject_stays_inside_the_subject() -> None:
    message = read(written(subject="Contrat\r\nBcc: x@example.com"))
    assert message["Subject"] == "Contrat Bcc: x@example.com"
    assert message["Bcc"] is None


def test_the_envelope_sender_is_the_bare_address() -> None:
    assert envelope_address("SMart <no-reply@smart.coop>") == "no-reply@smart.coop"
    assert envelope_address("no-reply@smart.coop") == "no-reply@smart.coop"
