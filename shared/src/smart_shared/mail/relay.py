"""The mail relay: renders and sends the committed mails of one service, in batches.

Like the event relay, one replica sends at a time (a lease). A mail that fails is tried again
later with exponential backoff and jitter; after ``max_attempts`` it is a dead letter
(``smart mail list --dead``, ``smart mail retry``). A relay killed between sending and marking a
batch sends it again on restart, with the same ``Message-ID`` (derived from the cause).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import aiosmtplib
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind
from pymongo import UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from smart_shared.links import capability_token
from smart_shared.mail.message import message_id
from smart_shared.mail.outbox import MAILS
from smart_shared.mail.render import render
from smart_shared.mail.smtp import SmtpSender, build_message, envelope_address
from smart_shared.mongo import Document
from smart_shared.outbox import LeasedRelay, retry_at

log = logging.getLogger("smart.mail")
tracer = trace.get_tracer("smart.mail")

@dataclass(frozen=True)
class FromRecord:
    """Attachments rendered from one record of the service's database (an invoice's PDF and
    its UBL from the invoice): the mail's attachments of the same key and the same ``read``
    share the record, read once for the mail."""

    read: Callable[[AsyncDatabase[Document], str], Awaitable[Any]]
    render: Callable[[AsyncDatabase[Document], Any], Awaitable[bytes]]


AttachmentSource = Callable[[AsyncDatabase[Document], str], Awaitable[bytes]] | FromRecord
"""The bytes of one attached document (e.g. an invoice's PDF) from the service's database:
read from its key, or rendered from a record the mail's other attachments share."""

MAX_RETRY_WAIT = timedelta(hours=1)


class PermanentFailure(Exception):
    """Sending this mail again cannot succeed (the server refused the address)."""


class MailRelay(LeasedRelay):
    def __init__(
        self,
        db: AsyncDatabase[Document],
        sender: SmtpSender,
        service: str,
        attachments: Mapping[str, AttachmentSource] | None = None,
        batch_size: int = 50,
        idle_seconds: float = 1.0,
        max_attempts: int = 8,
        retry_seconds: float = 5.0,
    ) -> None:
        super().__init__(db, service, "mail-relay", batch_size, idle_seconds)
        self._sender = sender
        self._sources = dict(attachments or {})
        self._max_attempts = max_attempts
        self._retry = retry_seconds

    async def relay_once(self) -> int:
        """Send the mails that are due, one SMTP connection for the batch; returns how many
        were sent."""
        now = datetime.now(UTC)
        rows = await (
            self._db[MAILS]
            .find({"pending": True, "next_attempt_at": {"$lte": now}})
            .sort("next_attempt_at", 1)
            .limit(self._batch_size)
            .to_list(self._batch_size)
        )
        if not rows:
            return 0
        sent: list[tuple[Document, str]] = []
        failed: list[tuple[Document, BaseException]] = []
        try:
            async with self._sender.connection() as smtp:
                for row in rows:
                    try:
                        sent.append((row, await self._send(smtp, row)))
                    except (aiosmtplib.SMTPServerDisconnected, OSError):
                        raise
                    except Exception as error:
                        failed.append((row, error))
        except (aiosmtplib.SMTPException, OSError) as error:
            # the server is down or went away: what was not sent waits for the next attempt
            done = {row["_id"] for row, _ in sent} | {row["_id"] for row, _ in failed}
            failed.extend((row, error) for row in rows if row["_id"] not in done)
        await self._record(sent, failed)
        return len(sent)

    async def _send(self, smtp: aiosmtplib.SMTP, row: Document) -> str:
        sender_address = self._sender.settings.mail_sender
        ident = message_id(self._service, row["_id"], sender_address)
        parent = propagate.extract({"traceparent": row.get("traceparent") or ""})
        with tracer.start_as_current_span(
            f"mail {row['template']} send", context=parent, kind=SpanKind.PRODUCER,
            attributes={"messaging.message.id": ident, "smart.mail.template": row["template"]},
        ):
            created: datetime = row["created_at"]
            data = {**row["data"], **{link["name"]: self._link(link)
                                      for link in row.get("links", [])}}
            rendered = render(row["template"], row["language"], data, row.get("branch"),
                              created.date() if created else date.today())
            records: dict[tuple[Any, str], Any] = {}
            files = [(a["filename"], a["content_type"], await self._attachment(a, records))
                     for a in row.get("attachments", [])]
            message = build_message(sender_address, row["to"], row.get("to_name"),
                                    row["language"], ident, rendered, files)
            try:
                await smtp.sendmail(envelope_address(sender_address), [row["to"]], message)
            except (aiosmtplib.SMTPRecipientsRefused, aiosmtplib.SMTPSenderRefused) as error:
                raise PermanentFailure(str(error)) from error
        return ident

    def _link(self, link: Document) -> str:
        settings = self._sender.settings
        token = capability_token(link["kind"], link["ident"], settings.link_secret)
        return f"{settings.portal_url.rstrip('/')}/{link['kind']}/{token}"

    async def _attachment(self, attachment: Document,
                          records: dict[tuple[Any, str], Any]) -> bytes:
        """One attachment's bytes; ``records`` holds what the mail's attachments read so far."""
        source = self._sources.get(attachment["kind"])
        if source is None:
            raise LookupError(f"no source of {attachment['kind']!r} attachments in "
                              f"{self._service}")
        if not isinstance(source, FromRecord):
            return await source(self._db, attachment["key"])
        shared = (source.read, attachment["key"])
        if shared not in records:
            records[shared] = await source.read(self._db, attachment["key"])
        return await source.render(self._db, records[shared])

    async def _record(self, sent: list[tuple[Document, str]],
                      failed: list[tuple[Document, BaseException]]) -> None:
        now = datetime.now(UTC)
        updates = [
            UpdateOne({"_id": row["_id"]}, {
                # a secret (a login link) is kept no longer than it takes to send it
                "$unset": {"pending": "", **({"data": ""} if row.get("secret") else {})},
                "$set": {"status": "sent", "sent_at": now, "message_id": ident}})
            for row, ident in sent
        ]
        for row, error in failed:
            attempts = row.get("attempts", 0) + 1
            reason = f"{type(error).__name__}: {error}"[:500]
            if attempts >= self._max_attempts or isinstance(error, PermanentFailure):
                log.error("mail %s is a dead letter after %d attempts: %s", row["_id"],
                          attempts, reason)
                change: dict[str, Any] = {"$unset": {"pending": ""}, "$set": {
                    "status": "dead", "attempts": attempts, "last_error": reason,
                    "dead_at": now}}
            else:
                log.warning("mail %s not sent (attempt %d): %s", row["_id"], attempts, reason)
                retry = retry_at(attempts, now, self._retry, MAX_RETRY_WAIT)
                change = {"$set": {"attempts": attempts, "last_error": reason,
                                   "next_attempt_at": retry}}
            updates.append(UpdateOne({"_id": row["_id"]}, change))
        if updates:
            await self._db[MAILS].bulk_write(updates, ordered=False)


async def retry_mails(db: AsyncDatabase[Document], cause: str | None = None) -> int:
    """Make dead mails (all, or the one of ``cause``) pending again; returns how many."""
    query: Document = {"status": "dead"}
    if cause:
        query["_id"] = cause
    result = await db[MAILS].update_many(query, {
        "$set": {"pending": True, "status": "pending", "attempts": 0,
                 "next_attempt_at": datetime.now(UTC)},
        "$unset": {"dead_at": ""}})
    return result.modified_count
