"""A mail as the outbox keeps it: who, in which language, which template with which data."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from email.utils import parseaddr
from functools import cache
from typing import Any

from pydantic_core import to_jsonable_python

from smart_shared.events.catalogue import Language


@dataclass(frozen=True)
class Attachment:
    """A document attached by reference: the relay asks the service's ``kind`` source for the
    bytes of ``key`` when it sends, so the outbox never holds a copy."""

    kind: str
    key: str
    filename: str
    content_type: str

    def to_document(self) -> dict[str, str]:
        return {"kind": self.kind, "key": self.key, "filename": self.filename,
                "content_type": self.content_type}


@dataclass(frozen=True)
class CapabilityLink:
    """A portal link that opens one thing to whoever holds it (``smart_shared.links``): the
    relay makes it when it sends, so the outbox never holds the token. The template finds it
    as ``name``; it leads to ``{SMART_PORTAL_URL}/{kind}/{token}``."""

    name: str
    kind: str
    ident: str

    def to_document(self) -> dict[str, str]:
        return {"name": self.name, "kind": self.kind, "ident": self.ident}


@dataclass(frozen=True)
class Mail:
    """One message to one person, caused by one thing (``cause``: an event or command id and the
    kind of mail, e.g. ``"invoice-issued:{invoice_id}"``)."""

    cause: str
    to: str
    language: Language
    template: str
    data: dict[str, Any] = field(default_factory=dict)
    attachments: tuple[Attachment, ...] = ()
    branch: str | None = None
    to_name: str | None = None
    links: tuple[CapabilityLink, ...] = ()
    secret: bool = False
    """The data holds a secret (a login link): the relay drops it once the mail is sent."""
    person_id: str | None = None
    """The member the mail is about, so their erasure takes it away (``forget_mails_of``)."""

    def to_document(self) -> dict[str, Any]:
        return {
            "_id": self.cause,
            "to": self.to,
            "to_name": self.to_name,
            "language": self.language,
            "branch": self.branch,
            "template": self.template,
            # decimals, dates and money as the strings the wire uses; templates format them
            "data": to_jsonable_python(self.data),
            "attachments": [a.to_document() for a in self.attachments],
            "links": [link.to_document() for link in self.links],
            "secret": self.secret,
            "person_id": self.person_id,
        }


def message_id(service: str, cause: str, sender: str) -> str:
    """The ``Message-ID`` of the mail for ``cause``: the same on every send of it."""
    digest = hashlib.sha256(f"{service}:{cause}".encode()).hexdigest()[:40]
    return f"<{digest}@{sender_parts(sender)[1].rpartition('@')[2] or 'smart.coop'}>"


@cache  # a deployment has one sender: parsed once, not at each mail (~20 µs a parse)
def sender_parts(sender: str) -> tuple[str, str]:
    """The name and the address of a ``Name <address>`` sender."""
    return parseaddr(sender)
