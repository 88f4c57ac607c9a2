"""Sending over SMTP (aiosmtplib): Mailpit locally, the branch's relay in production."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

import aiosmtplib

from smart_shared.mail.render import Rendered
from smart_shared.settings import Settings


def build_message(sender: str, to: str, to_name: str | None, language: str, message_id: str,
                  rendered: Rendered,
                  attachments: list[tuple[str, str, bytes]]) -> EmailMessage:
    """A multipart message: plain text and HTML alternatives, then the attached documents."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = formataddr((to_name, to)) if to_name else to
    message["Subject"] = rendered.subject
    message["Message-ID"] = message_id
    message["Date"] = format_datetime(datetime.now(UTC))
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    for filename, content_type, content in attachments:
        maintype, _, subtype = content_type.partition("/")
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    # after the content: setting the content clears every Content-* header
    message["Content-Language"] = language
    return message


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
