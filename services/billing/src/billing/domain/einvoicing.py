"""Structured e-invoicing: which clients receive their invoices through Peppol, and the port to
the access point that sends them there (a Peppol service provider; a simulator locally)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from smart_shared.events.catalogue import Client

from billing.domain.rules import EInvoicingRules

DeliveryStatus = Literal["queued", "sent", "delivered", "rejected"]
"""queued: waiting for the access point; sent: the access point took it and is transmitting it;
delivered: the client's access point received it; rejected: refused for good, with a reason."""

DocumentKind = Literal["invoice", "credit_note"]


def peppol_receiver(client: Client, seller_country: str, rules: EInvoicingRules) -> str | None:
    """The client's Peppol participant id (``{scheme}:{VAT number}``, the UBL's EndpointID) when
    the branch's rules send its invoices through Peppol, else None (the invoice is mailed):
    a business client registered for VAT in the seller's own country."""
    if not rules.peppol_for_domestic_business.value:
        return None
    if client.kind != "business" or client.country != seller_country or not client.vat_number:
        return None
    return f"{rules.receiver_scheme.value}:{client.vat_number}"


@dataclass(frozen=True)
class PeppolDocument:
    """One UBL document to send. ``instance_id`` names it for good: sending it again (after a
    crash between the send and its record) is the same transmission, never a second one."""

    instance_id: str
    branch: str
    kind: DocumentKind
    number: str
    sender: str
    receiver: str
    ubl: bytes


@dataclass(frozen=True)
class Delivered:
    at: datetime


@dataclass(frozen=True)
class Rejected:
    reason: str


Outcome = Delivered | Rejected | None
"""What became of a transmission: delivered, rejected, or None while it is still in transit."""


class AccessPointUnavailable(Exception):
    """The access point did not answer or refused for now: try again later."""


class DocumentRefused(Exception):
    """The access point refused the document for good (the receiver is not on Peppol, the
    document breaks the Peppol rules): sending it again cannot succeed."""


class AccessPoint(Protocol):
    async def send(self, document: PeppolDocument) -> str:
        """Hand ``document`` to the access point; returns its transmission id. Sending the same
        ``instance_id`` again answers the same id. Raises ``AccessPointUnavailable`` (try again)
        or ``DocumentRefused`` (never)."""
        ...

    async def outcome(self, transmission_id: str) -> Outcome:
        """What became of a transmission so far. Raises ``AccessPointUnavailable``."""
        ...
